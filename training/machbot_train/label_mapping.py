"""Each source's emotion labels mapped onto machbot's six (sadness, joy, love, anger, fear, surprise).

The rule, for every source: a label maps to the one of our six that CARER, the tweets set that
defines our labels, gives its own word. CARER labels "i feel disgusted" anger, "embarrassed" and
"ashamed" sadness, "proud", "relieved", "excited", "amused", "hopeful" joy (checked on its training
split: 41 of 45, 59 of 65, ... tweets). A label with no clear home is dropped rather than forced:

| source | dropped | why |
|---|---|---|
| GoEmotions | neutral | no emotion: the "unsure" answer covers it, not one of the six |
| GoEmotions | approval, disapproval, admiration | stances and praise ("I agree", "great post"), not a feeling of the writer |
| GoEmotions | confusion, curiosity, realization | mostly questions and "I just noticed": CARER splits "confused" between fear and surprise, and mapping questions to surprise teaches the model that every question is one |
| DailyDialog | no emotion (0) | as neutral above; three quarters of its utterances |
| MELD | neutral | as above |
| EmpatheticDialogues | none | every conversation has one of 32 emotions; each has a closest six |

A row with several labels is kept only when all of them map to the same one of ours
(`map_labels`); a row with any dropped label is dropped, because the dropped label may be what
the writer meant.
"""

from __future__ import annotations

from collections.abc import Iterable

from machbot_fn.labels import EMOTIONS

GOEMOTIONS_TO_SIX: dict[str, str] = {
    **dict.fromkeys(("sadness", "grief", "remorse", "disappointment", "embarrassment"), "sadness"),
    **dict.fromkeys(("joy", "amusement", "excitement", "gratitude", "optimism", "relief", "pride"), "joy"),
    **dict.fromkeys(("love", "caring", "desire"), "love"),
    **dict.fromkeys(("anger", "annoyance", "disgust"), "anger"),
    **dict.fromkeys(("fear", "nervousness"), "fear"),
    "surprise": "surprise",
}
GOEMOTIONS_DROPPED = ("neutral", "approval", "disapproval", "admiration", "confusion", "curiosity", "realization")

# DailyDialog's emotion ids: 0 no emotion, 1 anger, 2 disgust, 3 fear, 4 happiness, 5 sadness, 6 surprise.
DAILYDIALOG_TO_SIX: dict[int, str] = {1: "anger", 2: "anger", 3: "fear", 4: "joy", 5: "sadness", 6: "surprise"}
DAILYDIALOG_DROPPED = (0,)

MELD_TO_SIX: dict[str, str] = {
    "anger": "anger",
    "disgust": "anger",
    "fear": "fear",
    "joy": "joy",
    "sadness": "sadness",
    "surprise": "surprise",
}
MELD_DROPPED = ("neutral",)

# EmpatheticDialogues' 32 conversation emotions (and one malformed value in the SEEK copy).
ED_TO_SIX: dict[str, str] = {
    **dict.fromkeys(
        ("sad", "devastated", "lonely", "disappointed", "guilty", "ashamed", "embarrassed", "nostalgic"), "sadness"
    ),
    **dict.fromkeys(
        ("joyful", "excited", "content", "proud", "grateful", "hopeful", "confident", "prepared", "anticipating"),
        "joy",
    ),
    **dict.fromkeys(("caring", "faithful", "trusting", "sentimental"), "love"),
    **dict.fromkeys(("angry", "furious", "annoyed", "jealous", "disgusted"), "anger"),
    **dict.fromkeys(("afraid", "terrified", "anxious", "apprehensive"), "fear"),
    **dict.fromkeys(("surprised", "impressed", "surprisedacknowledging"), "surprise"),
}

# The five labels DailyDialog and MELD can express (no love): their macro-F1 is over these.
FIVE_LABELS: tuple[str, ...] = tuple(label for label in EMOTIONS if label != "love")


def map_labels(labels: Iterable[str | int], mapping: dict) -> str | None:
    """The one six-label emotion all `labels` map to, or None (a dropped label, or several emotions)."""
    mapped = {mapping.get(label) for label in labels}
    if not mapped or None in mapped or len(mapped) != 1:
        return None
    return mapped.pop()
