"""Running a served model over many texts in batches of similar length (little padding), rows back in order."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import Emotion, EmotionClassifier, softmax


def rows_by_length(
    run: Callable[[list[str]], np.ndarray],
    texts: list[str],
    width: int,
    batch_size: int = 64,
    on_batch: Callable[[str], None] | None = None,
) -> np.ndarray:
    """`run` over `texts` in batches of similar length (little padding); rows back in the texts' order.
    `on_batch` is called after each batch (a progress bar's advance)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), width), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        out[chunk] = run([texts[i] for i in chunk])
        if on_batch is not None:
            on_batch("")
    return out


def onnx_logits(clf: EmotionClassifier, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Logits of the served ONNX classifier for `texts`, in order, batched by length."""
    return rows_by_length(clf.predict_logits, texts, len(EMOTIONS), batch_size)


def read_emotions(clf: EmotionClassifier, texts: list[str]) -> list[Emotion]:
    """What the served classifier answers for each text (calibrated, with "not sure"), batched."""
    probs = softmax(onnx_logits(clf, texts), clf.temperature)
    out = []
    for row in probs:
        top = int(np.argmax(row))
        scores = {label: float(p) for label, p in zip(clf.labels, row, strict=True)}
        out.append(Emotion(clf.labels[top], float(row[top]), scores, float(row[top]) < clf.unsure_below))
    return out
