"""Metrics for the reports: classification scores, confusion matrices, latency percentiles, distinct-n."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from machbot_fn.labels import EMOTIONS

T = TypeVar("T")


def classification_scores(
    labels: Sequence[int], predictions: Sequence[int], macro_over: Sequence[str] = EMOTIONS
) -> dict:
    """Accuracy, macro-F1, per-class F1 and the confusion matrix (rows = truth, columns = prediction).

    `macro_over` names the labels the macro-F1 averages: a test set without `love` (DailyDialog,
    MELD) is scored over its five, so the absent class does not count as a zero."""
    ids = list(range(len(EMOTIONS)))
    per_class = f1_score(labels, predictions, average=None, labels=ids, zero_division=0)
    macro_ids = [EMOTIONS.index(label) for label in macro_over]
    return {
        "accuracy": float(accuracy_score(labels, predictions)),
        "macro_f1": float(f1_score(labels, predictions, average="macro", labels=macro_ids, zero_division=0)),
        "per_class_f1": {label: float(v) for label, v in zip(EMOTIONS, per_class, strict=True)},
        "confusion": confusion_matrix(labels, predictions, labels=ids).tolist(),
    }


def latency_ms(call: Callable[[T], object], inputs: Iterable[T], warmup: int = 5) -> dict:
    """Per-call wall time in ms (p50, p95, mean) over `inputs`, after a few untimed warm-up calls."""
    items = list(inputs)
    for item in items[:warmup]:
        call(item)
    times = []
    for item in items:
        t0 = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - t0) * 1000)
    arr = np.asarray(times)
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "mean": float(arr.mean()),
        "n": len(times),
    }


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct n-grams / all n-grams over the generated texts (Li et al., 2016): higher is less generic."""
    total, seen = 0, set()
    for text in texts:
        words = text.lower().split()
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0
