"""Calibrated probabilities and the "not sure" threshold, fitted on validation splits only.

Temperature scaling (Guo et al., ICML 2017): one scalar T divides the logits; it minimises the
negative log-likelihood on validation, never changes the top label, and makes "70 %" mean right
about 70 % of the time. The expected calibration error (ECE, 15 equal-width confidence bins) is
reported before and after.

The threshold: below it the answer says it is not sure. Chosen on validation texts that carry no
emotion (GoEmotions `neutral`, DailyDialog's "no emotion") against the emotional validation texts:
the probability that best separates them (Youden's J: unsure on neutral minus unsure on emotional).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ECE_BINS = 15


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    x = np.asarray(logits, dtype=np.float64) / temperature
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    probs = softmax(logits, temperature)
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-12))))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] minimising validation NLL: a coarse log grid, then a golden-section refinement."""
    labels = np.asarray(labels)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 61))
    best = int(np.argmin([nll(logits, labels, t) for t in grid]))
    lo, hi = np.log(grid[max(best - 1, 0)]), np.log(grid[min(best + 1, len(grid) - 1)])
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(logits, labels, np.exp(a)) < nll(logits, labels, np.exp(b)):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Sum over confidence bins of |accuracy - confidence|, weighted by the share of texts in the bin."""
    confidence = probs.max(axis=-1)
    correct = probs.argmax(axis=-1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def choose_unsure_threshold(emotional_top: np.ndarray, neutral_top: np.ndarray) -> tuple[float, float, float]:
    """(threshold, share of neutral texts below it, share of emotional texts below it), by Youden's J."""
    candidates = np.round(np.arange(0.20, 0.951, 0.01), 2)
    scored = [((neutral_top < t).mean() - (emotional_top < t).mean(), t) for t in candidates]
    _, threshold = max(scored)
    return float(threshold), float((neutral_top < threshold).mean()), float((emotional_top < threshold).mean())


@dataclass(frozen=True)
class Calibration:
    temperature: float
    unsure_below: float  # calibrated top probability under which the answer is "not sure"
    ece_before: float
    ece_after: float
    neutral_unsure: float  # share of validation texts without emotion answered "not sure"
    emotional_unsure: float  # share of emotional validation texts answered "not sure"
    n_emotional: int
    n_neutral: int

    def to_manifest(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def calibrate(emotional_logits: np.ndarray, emotional_labels: np.ndarray, neutral_logits: np.ndarray) -> Calibration:
    temperature = fit_temperature(emotional_logits, emotional_labels)
    before = softmax(emotional_logits)
    after = softmax(emotional_logits, temperature)
    threshold, neutral_share, emotional_share = choose_unsure_threshold(
        after.max(axis=-1), softmax(neutral_logits, temperature).max(axis=-1)
    )
    return Calibration(
        temperature=temperature,
        unsure_below=threshold,
        ece_before=expected_calibration_error(before, emotional_labels),
        ece_after=expected_calibration_error(after, emotional_labels),
        neutral_unsure=neutral_share,
        emotional_unsure=emotional_share,
        n_emotional=len(emotional_labels),
        n_neutral=len(neutral_logits),
    )


def calibrate_version(version_dir: Path, data_dir: Path | None = None) -> Calibration:
    """Fit the served int8 model's calibration on the validation splits and write it into its manifest."""
    from machbot_fn.labels import EMOTIONS
    from machbot_fn.models.classifier import EmotionClassifier
    from machbot_train.chat_corpora import neutral_texts
    from machbot_train.emotion_mix import build_mix
    from machbot_train.evaluate import onnx_logits
    from machbot_train.version_dir import read_manifest, update_calibration

    manifest = read_manifest(version_dir)
    clf = EmotionClassifier(manifest, version_dir, threads=1)
    val = [row for rows in build_mix(data_dir).val.values() for row in rows]
    logits = onnx_logits(clf, [row.text for row in val])
    labels = np.array([EMOTIONS.index(row.label) for row in val])
    result = calibrate(logits, labels, onnx_logits(clf, neutral_texts("val", data_dir)))
    update_calibration(version_dir, result.to_manifest())
    return result
