"""Calibrated probabilities and the "not sure" threshold, fitted on validation splits only.

Temperature scaling (Guo et al., ICML 2017): one scalar T divides the logits; it minimises the
negative log-likelihood on validation, never changes the top label, and makes "70 %" mean right
about 70 % of the time. The expected calibration error (ECE, 15 equal-width confidence bins) is
reported before and after.

The threshold: below it the answer says it is not sure. "Not sure" must rarely hide a right answer,
so the threshold is the highest one under which at most `MAX_HIDDEN_CORRECT` (10 %) of the
validation answers that are right fall; the report gives what it then catches of the validation
texts that carry no emotion (GoEmotions `neutral`, DailyDialog's "no emotion") and of the wrong
answers. (Youden's J between neutral and emotional texts would put it near 0.8 and hide a quarter of
the right answers.)
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ECE_BINS = 15
MAX_HIDDEN_CORRECT = 0.10


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


def choose_unsure_threshold(
    emotional_top: np.ndarray, emotional_correct: np.ndarray, max_hidden_correct: float = MAX_HIDDEN_CORRECT
) -> float:
    """The highest threshold (0.20-0.95, step 0.01) under which at most `max_hidden_correct` of the
    right answers' top probabilities fall."""
    right = emotional_top[np.asarray(emotional_correct, dtype=bool)]
    candidates = np.round(np.arange(0.20, 0.951, 0.01), 2)
    allowed = [t for t in candidates if len(right) and (right < t).mean() <= max_hidden_correct]
    return float(max(allowed, default=0.0))


@dataclass(frozen=True)
class Calibration:
    temperature: float
    unsure_below: float  # calibrated top probability under which the answer is "not sure"
    ece_before: float
    ece_after: float
    neutral_unsure: float  # share of validation texts without emotion answered "not sure"
    emotional_unsure: float  # share of emotional validation texts answered "not sure"
    correct_unsure: float  # share of the right answers hidden behind "not sure"
    wrong_unsure: float  # share of the wrong answers caught by "not sure"
    n_emotional: int
    n_neutral: int

    def to_manifest(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def calibrate(emotional_logits: np.ndarray, emotional_labels: np.ndarray, neutral_logits: np.ndarray) -> Calibration:
    temperature = fit_temperature(emotional_logits, emotional_labels)
    before = softmax(emotional_logits)
    after = softmax(emotional_logits, temperature)
    top, correct = after.max(axis=-1), after.argmax(axis=-1) == np.asarray(emotional_labels)
    threshold = choose_unsure_threshold(top, correct)
    neutral_top = softmax(neutral_logits, temperature).max(axis=-1)
    return Calibration(
        temperature=temperature,
        unsure_below=threshold,
        ece_before=expected_calibration_error(before, emotional_labels),
        ece_after=expected_calibration_error(after, emotional_labels),
        neutral_unsure=float((neutral_top < threshold).mean()),
        emotional_unsure=float((top < threshold).mean()),
        correct_unsure=float((top[correct] < threshold).mean()) if correct.any() else 0.0,
        wrong_unsure=float((top[~correct] < threshold).mean()) if (~correct).any() else 0.0,
        n_emotional=len(emotional_labels),
        n_neutral=len(neutral_logits),
    )


def calibrate_version(version_dir: Path, data_dir: Path | None = None) -> Calibration:
    """Fit the served int8 model's calibration on the validation splits and write it into its manifest."""
    from machbot_fn.labels import EMOTIONS
    from machbot_fn.models.classifier import EmotionClassifier
    from machbot_train.batching import onnx_logits
    from machbot_train.chat_corpora import neutral_texts
    from machbot_train.emotion_mix import build_mix
    from machbot_train.version_dir import read_manifest, update_calibration

    manifest = read_manifest(version_dir)
    clf = EmotionClassifier(manifest, version_dir, threads=1)
    val = [row for rows in build_mix(data_dir).val.values() for row in rows]
    logits = onnx_logits(clf, [row.text for row in val])
    labels = np.array([EMOTIONS.index(row.label) for row in val])
    result = calibrate(logits, labels, onnx_logits(clf, neutral_texts("val", data_dir)))
    update_calibration(version_dir, result.to_manifest())
    return result
