"""Probability averaging across classifiers."""

from __future__ import annotations

import math

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import Emotion
from machbot_fn.models.ensemble import average


def emotion(**probs: float) -> Emotion:
    scores = {label: probs.get(label, 0.0) for label in EMOTIONS}
    top = max(scores, key=scores.get)
    return Emotion(top, scores[top], scores)


def test_the_average_can_pick_a_label_no_single_member_ranked_first() -> None:
    a = emotion(joy=0.5, love=0.45, sadness=0.05)
    b = emotion(anger=0.5, love=0.45, fear=0.05)
    voted = average([a, b])
    assert voted.label == "love"
    assert math.isclose(voted.score, 0.45)
    assert math.isclose(sum(voted.scores.values()), 1.0)


def test_members_scores_are_matched_by_label_not_position() -> None:
    a = emotion(surprise=1.0)
    reordered = Emotion("surprise", 1.0, dict(reversed(list(a.scores.items()))))
    assert average([a, reordered]).scores["surprise"] == 1.0
