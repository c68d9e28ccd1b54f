"""TensorFlow's own answer for the import tests, computed with the researchers' APIs only (not machbot_train).

Run with the TF environment's interpreter: `.venv-tf/bin/python tf_reference.py < request.json`, where
the request is `{"texts": [...], "sources": {name: {"kind": "hf" | "keras", "path": ..., "tokenizer": ...,
"outputs": "logits" | "probabilities"}}}`. Prints `{name: {"labels": [...], "probs": [[...], ...]}}`.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy as np
import tensorflow as tf

EMOTIONS = ("sadness", "joy", "love", "anger", "fear", "surprise")  # the dataset's label ids
MAX_LENGTH = 128


def hf_answer(path: str, texts: list[str]) -> dict:
    import transformers

    transformers.logging.set_verbosity_error()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.TFAutoModelForSequenceClassification.from_pretrained(path)
    batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="tf")
    logits = model(**batch, training=False).logits
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    return {"labels": labels, "probs": tf.nn.softmax(logits).numpy().tolist()}


def keras_answer(path: str, tokenizer_path: str, outputs: str, texts: list[str]) -> dict:
    from tokenizers import Tokenizer

    if path.endswith(".h5"):
        import tf_keras

        model = tf_keras.models.load_model(path, compile=False)
    else:
        import keras

        model = keras.saving.load_model(path, compile=False)
    tokenizer = Tokenizer.from_file(tokenizer_path)
    tokenizer.enable_truncation(MAX_LENGTH)
    probs = []
    for text in texts:  # one text at a time: no padding at all
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int32)
        out = np.asarray(model({"input_ids": ids, "attention_mask": np.ones_like(ids)}, training=False))
        probs.append((out if outputs == "probabilities" else tf.nn.softmax(out).numpy())[0].tolist())
    return {"labels": list(EMOTIONS), "probs": probs}


def main() -> None:
    request = json.load(sys.stdin)
    answers = {}
    for name, source in request["sources"].items():
        if source["kind"] == "hf":
            answers[name] = hf_answer(source["path"], request["texts"])
        else:
            answers[name] = keras_answer(source["path"], source["tokenizer"], source["outputs"], request["texts"])
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
