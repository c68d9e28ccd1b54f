"""The TensorFlow import's verdicts, without TensorFlow: parity thresholds, labels, what a source is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from machbot_fn.labels import EMOTIONS
from machbot_train.tf_parity import FP32_TOLERANCE, INT8_MIN_AGREEMENT, ParityError, compare, parity_texts
from machbot_train.tf_source import (
    HF_CHECKPOINT,
    KERAS_MODEL,
    SourceError,
    detect_kind,
    looks_like_probabilities,
    parse_labels,
)


@pytest.fixture
def logits() -> np.ndarray:
    """200 texts' logits, each with a clear winner (as a trained model gives)."""
    rng = np.random.default_rng(0)
    winners = np.eye(len(EMOTIONS))[rng.integers(0, len(EMOTIONS), 200)]
    return (rng.normal(0, 1, (200, len(EMOTIONS))) + 6 * winners).astype(np.float32)


def test_matching_models_pass_and_report_their_numbers(logits: np.ndarray) -> None:
    report = compare(logits, logits + 1e-6, logits).check()
    assert report.texts == 200 and report.fp32_agreement == report.int8_agreement == 1.0
    assert report.fp32_max_abs_diff == pytest.approx(1e-6, rel=0.1)
    assert report.fp32_tolerance == pytest.approx(FP32_TOLERANCE * np.abs(logits).max())
    assert report.to_dict()["int8_min_agreement"] == INT8_MIN_AGREEMENT


def test_fp32_drift_beyond_the_tolerance_fails(logits: np.ndarray) -> None:
    shifted = logits.copy()
    shifted[3, 2] += 0.1  # one logit of one text: a wrong op or input, not rounding
    with pytest.raises(ParityError, match=r"fp32 ONNX logits differ from TensorFlow's by up to 0\.1"):
        compare(logits, shifted, logits).check()


def test_nan_never_passes(logits: np.ndarray) -> None:
    broken = logits.copy()
    broken[0, 0] = np.nan
    assert compare(logits, broken, logits).problems


def test_int8_that_changes_clear_labels_fails(logits: np.ndarray) -> None:
    int8 = logits.copy()
    int8[:20] = -int8[:20]  # 10 % of the texts get another top label
    report = compare(logits, logits, int8)
    assert report.decided_texts == 200 and report.int8_agreement == 0.9
    with pytest.raises(ParityError, match=r"int8 ONNX picks TensorFlow's label on 90\.0% of the 200 texts"):
        report.check()


def test_int8_may_flip_near_ties(logits: np.ndarray) -> None:
    tied = logits.copy()
    tied[:40, 1] = tied[:40, 0] = np.abs(tied[:40]).max(-1) + 1  # labels 0 and 1 tie at the top
    int8 = tied.copy()
    int8[:40, 0] += 1e-3  # quantisation noise picks label 0 where TensorFlow picked 1
    int8[:40, 1] -= 1e-3
    tied[:40, 1] += 1e-3
    report = compare(tied, tied, int8).check()
    assert report.int8_agreement == 0.8 and report.decided_texts == 160 and report.int8_decided_agreement == 1.0


def test_shapes_must_match(logits: np.ndarray) -> None:
    with pytest.raises(ParityError, match="shapes"):
        compare(logits, logits[:, :5], logits)


def test_sample_texts_include_edge_cases() -> None:
    texts = parity_texts(10)
    assert "" in texts and any(len(t) > 500 for t in texts) and len(texts) >= 14


def test_labels_option_takes_the_six_emotions_in_any_order() -> None:
    assert parse_labels(None) is None
    assert parse_labels("Joy, sadness,love,anger,fear,surprise") == (
        "joy",
        "sadness",
        "love",
        "anger",
        "fear",
        "surprise",
    )
    for bad in ("joy,sadness", "joy,joy,love,anger,fear,surprise", "joy,sadness,love,anger,fear,surprise,calm"):
        with pytest.raises(SourceError, match="six emotions"):
            parse_labels(bad)


def test_source_kinds_are_told_apart_by_their_files(tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    with pytest.raises(SourceError, match=r"without tf_model\.h5 and config\.json"):
        detect_kind(checkpoint)
    (checkpoint / "tf_model.h5").write_bytes(b"")
    (checkpoint / "config.json").write_text("{}")
    assert detect_kind(checkpoint) == HF_CHECKPOINT
    for name in ("model.keras", "model.h5"):
        (tmp_path / name).write_bytes(b"")
        assert detect_kind(tmp_path / name) == KERAS_MODEL
    (tmp_path / "model.pt").write_bytes(b"")
    with pytest.raises(SourceError, match="not a Keras model file"):
        detect_kind(tmp_path / "model.pt")
    with pytest.raises(SourceError, match="does not exist"):
        detect_kind(tmp_path / "missing")


def test_softmax_outputs_are_recognised(logits: np.ndarray) -> None:
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert looks_like_probabilities(probs)
    assert not looks_like_probabilities(logits)
    assert not looks_like_probabilities(np.abs(logits))
