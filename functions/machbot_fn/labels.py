"""The six emotion labels, in the order every classifier's logits use."""

EMOTIONS: tuple[str, ...] = ("sadness", "joy", "love", "anger", "fear", "surprise")

CLASSIFIER_IDS: tuple[str, ...] = ("bert", "distilbert", "roberta", "electra", "mobilebert")
REPLIER_ID = "t5"
ENSEMBLE_ID = "ensemble"
EMBEDDER_ID = "minilm"  # sentence embeddings for matching shared thoughts

# What the reply is conditioned on when the classifier is not sure: no strong emotion is assumed.
NEUTRAL = "neutral"
