"""`ensemble`: every published classifier votes by averaging its probabilities.

It is chosen like any model id (`model: "ensemble"`) and answers with the same `emotion` shape;
`servedBy.classifier` names each member version that took part. Which classifiers can take part is
the registry's answer (`ModelRegistry.ensemble_members`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import Emotion, EmotionClassifier
from machbot_fn.models.registry import ServedModel


def average(emotions: list[Emotion], unsure_below: float = 0.0) -> Emotion:
    """Mean (calibrated) probability per label (each member's scores are keyed by label, so order
    cannot mix up); not sure under `unsure_below`, the members' mean threshold."""
    probs = np.array([[e.scores[label] for label in EMOTIONS] for e in emotions]).mean(axis=0)
    top = int(np.argmax(probs))
    return Emotion(
        label=EMOTIONS[top],
        score=float(probs[top]),
        scores=dict(zip(EMOTIONS, map(float, probs), strict=True)),
        unsure=float(probs[top]) < unsure_below,
    )


@dataclass(frozen=True)
class Ensemble:
    members: tuple[ServedModel[EmotionClassifier], ...]

    def __call__(self, text: str) -> Emotion:
        thresholds = [float(m.manifest.calibration.get("unsure_below", 0.0)) for m in self.members]
        return average([m.runner(text) for m in self.members], float(np.mean(thresholds)))
