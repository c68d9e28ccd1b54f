"""`ensemble`: every published classifier votes by averaging its probabilities.

It is chosen like any model id (`model: "ensemble"`) and answers with the same `emotion` shape;
`servedBy.classifier` names each member version that took part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from machbot_fn.errors import ModelUnavailable, UnknownModel
from machbot_fn.labels import CLASSIFIER_IDS, EMOTIONS
from machbot_fn.models.classifier import Emotion, EmotionClassifier
from machbot_fn.models.registry import ModelRegistry, ServedModel

MIN_MEMBERS = 2


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


def load(registry: ModelRegistry, candidates: tuple[str, ...] = CLASSIFIER_IDS) -> Ensemble:
    """The classifiers that can serve now; members that are unpublished or broken sit this one out."""
    members = []
    for model_id in candidates:
        try:
            members.append(registry.classifier(model_id))
        except (UnknownModel, ModelUnavailable):
            continue
    if len(members) < MIN_MEMBERS:
        raise ModelUnavailable(f"the ensemble needs at least {MIN_MEMBERS} classifiers; {len(members)} can serve")
    return Ensemble(tuple(members))
