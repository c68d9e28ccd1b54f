"""Temperature scaling and the "not sure" threshold, on synthetic logits with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from machbot_train.calibration import (
    calibrate,
    choose_unsure_threshold,
    expected_calibration_error,
    fit_temperature,
    softmax,
)


def overconfident(n: int = 4000, true_t: float = 2.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from softmax(z), logits reported as true_t * z: a model too sure by a factor true_t."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, size=(n, 6))
    labels = np.array([rng.choice(6, p=p) for p in softmax(z)])
    return z * true_t, labels


def test_fit_temperature_recovers_the_overconfidence_factor() -> None:
    logits, labels = overconfident(true_t=2.5)
    assert fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.12)


def test_scaling_lowers_the_calibration_error_and_keeps_every_top_label() -> None:
    logits, labels = overconfident()
    t = fit_temperature(logits, labels)
    before = expected_calibration_error(softmax(logits), labels)
    after = expected_calibration_error(softmax(logits, t), labels)
    assert after < before / 2
    assert (softmax(logits, t).argmax(-1) == logits.argmax(-1)).all()


def test_a_perfectly_calibrated_model_has_a_small_error() -> None:
    logits, labels = overconfident(true_t=1.0, n=6000)
    assert expected_calibration_error(softmax(logits), labels) < 0.03


def test_the_threshold_hides_at_most_a_tenth_of_the_right_answers() -> None:
    rng = np.random.default_rng(1)
    top = np.concatenate([rng.uniform(0.5, 1.0, 900), rng.uniform(0.2, 0.6, 100)])
    correct = np.concatenate([np.ones(900, bool), np.zeros(100, bool)])
    threshold = choose_unsure_threshold(top, correct)
    assert (top[correct] < threshold).mean() <= 0.10
    assert (top[correct] < threshold + 0.02).mean() > 0.10  # the highest such threshold
    assert 0.53 <= threshold <= 0.57  # uniform 0.5-1.0: the 10th percentile is 0.55
    assert choose_unsure_threshold(top, np.zeros(1000, bool)) == 0.0  # nothing right: never hide


def test_calibrate_reports_before_and_after() -> None:
    logits, labels = overconfident()
    neutral = np.zeros((200, 6))  # flat logits: nothing to go on
    cal = calibrate(logits, labels, neutral)
    assert cal.ece_after < cal.ece_before
    assert cal.neutral_unsure == 1.0  # a flat answer (1/6 each) is under any threshold chosen
    assert cal.correct_unsure <= 0.10 and cal.wrong_unsure >= cal.correct_unsure
    manifest = cal.to_manifest()
    assert set(manifest) >= {"temperature", "unsure_below", "ece_before", "ece_after"}
