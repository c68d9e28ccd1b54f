"""Emotion classification with an ONNX model: emoji as words, tokenize, run, calibrated softmax.

The manifest's `calibration` (fitted on validation when the version was built) gives the
temperature that makes the probabilities honest and the probability under which the answer says
it is not sure ("ok", "?", "asdfghjkl" carry no emotion, and a guess must not pass for one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from machbot_fn.errors import ManifestError, ModelUnavailable
from machbot_fn.models.emoji_words import emoji_to_words
from machbot_fn.models.manifest import Manifest
from machbot_fn.models.runtime import TextGraph

SMOKE_TEXT = "smoke test: i feel fine today"


@dataclass(frozen=True)
class Emotion:
    """The detected emotion: the top label, its probability, and every label's probability."""

    label: str
    score: float
    scores: dict[str, float]
    unsure: bool = False  # the top probability is under the model's calibrated threshold


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax over the last axis; subtracting the max keeps huge logits from overflowing."""
    x = np.asarray(logits, dtype=np.float64) / temperature
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    probs: np.ndarray = e / np.sum(e, axis=-1, keepdims=True)
    return probs


class EmotionClassifier(TextGraph):
    """A published classifier version: `model.onnx` + `tokenizer.json` described by its manifest."""

    def __init__(self, manifest: Manifest, model_dir: Path, threads: int = 1) -> None:
        if not manifest.is_classifier:
            raise ModelUnavailable(f"model {manifest.id} is a {manifest.task} model, not a classifier")
        super().__init__(manifest, model_dir, threads, output="logits")
        self.labels = manifest.labels
        self.temperature = float(manifest.calibration.get("temperature", 1.0))
        self.unsure_below = float(manifest.calibration.get("unsure_below", 0.0))

    def predict_logits(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated logits [len(texts), labels] for a batch, in the manifest's label order."""
        return self.run([emoji_to_words(t) for t in texts], len(self.labels), "logits")

    def __call__(self, text: str) -> Emotion:
        probs = softmax(self.predict_logits([text])[0], self.temperature)
        top = int(np.argmax(probs))
        scores = {label: float(p) for label, p in zip(self.labels, probs, strict=True)}
        score = float(probs[top])
        return Emotion(label=self.labels[top], score=score, scores=scores, unsure=score < self.unsure_below)

    def smoke_test(self) -> None:
        """One text gives one of the manifest's labels: else the version must not serve."""
        emotion = self(SMOKE_TEXT)
        if emotion.label not in self.labels:
            raise ManifestError(
                f"{self.manifest.id} {self.manifest.version}: smoke inference returned {emotion.label!r}"
            )
