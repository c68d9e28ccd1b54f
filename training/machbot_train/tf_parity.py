"""Does the converted model answer like the TensorFlow one? Numbers and a verdict, numpy only.

The TensorFlow import compares, on the same texts, TensorFlow's logits (the source's own tokenizer)
with what the serving classifier computes from the version directory (tokenizer.json + ONNX):

- fp32 ONNX: every logit within `FP32_TOLERANCE` x the largest TensorFlow logit (at least 1),
  which allows for kernel rounding but not a wrong graph, tokenizer or input;
- int8 ONNX: the same top label on at least `INT8_MIN_AGREEMENT` of the texts TensorFlow decides
  clearly (its top two probabilities at least `TIE_MARGIN` apart). Dynamic int8 quantisation moves
  probabilities by a few thousandths, which flips near-ties: an untrained classification head has
  nothing else (a random head on MiniLM: 89 % plain agreement, every flip within 0.001 of a tie).
  The plain agreement is reported beside it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from machbot_fn.models.classifier import softmax
from machbot_train.data import DataError, load_emotion_split
from machbot_train.tiny_tokenizers import FALLBACK_CORPUS

FP32_TOLERANCE = 1e-3
INT8_MIN_AGREEMENT = 0.95
TIE_MARGIN = 0.02
SAMPLE_SIZE = 200
EDGE_TEXTS = ("", "ok", "I AM SO HAPPY!!! :)", "a " * 300)  # empty, tiny, case and symbols, truncated


class ParityError(ValueError):
    """The converted model does not reproduce TensorFlow's outputs."""


def parity_texts(size: int = SAMPLE_SIZE) -> list[str]:
    """The first `size` texts of the emotion test split (a fixed list without the data), plus edge cases."""
    try:
        texts = load_emotion_split("test").texts[:size]
    except DataError:
        texts = list(FALLBACK_CORPUS)
    return [*texts, *EDGE_TEXTS]


@dataclass(frozen=True)
class ParityReport:
    texts: int
    fp32_max_abs_diff: float
    fp32_tolerance: float
    fp32_agreement: float
    int8_agreement: float
    decided_texts: int
    int8_decided_agreement: float
    int8_min_agreement: float
    int8_max_prob_diff: float

    @property
    def problems(self) -> list[str]:
        out = []
        if not self.fp32_max_abs_diff <= self.fp32_tolerance:  # also catches NaN
            out.append(
                f"fp32 ONNX logits differ from TensorFlow's by up to {self.fp32_max_abs_diff:.3g} "
                f"(tolerance {self.fp32_tolerance:.3g})"
            )
        if not self.int8_decided_agreement >= self.int8_min_agreement:
            out.append(
                f"int8 ONNX picks TensorFlow's label on {self.int8_decided_agreement:.1%} of the "
                f"{self.decided_texts} texts TensorFlow decides clearly (needs {self.int8_min_agreement:.0%})"
            )
        return out

    def check(self) -> ParityReport:
        if self.problems:
            raise ParityError("parity check failed: " + "; ".join(self.problems))
        return self

    def summary(self) -> str:
        decided = (
            f"{self.int8_decided_agreement:.1%} of the {self.decided_texts} TensorFlow decides clearly"
            if self.decided_texts
            else "TensorFlow decides none clearly: an untrained head?"
        )
        return (
            f"{self.texts} texts: fp32 max |logit diff| {self.fp32_max_abs_diff:.2e} (tolerance "
            f"{self.fp32_tolerance:.1e}); int8 same label {self.int8_agreement:.1%} ({decided}), "
            f"max |prob diff| {self.int8_max_prob_diff:.3f}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}


def compare(reference: np.ndarray, fp32: np.ndarray, int8: np.ndarray) -> ParityReport:
    """Compare logits [texts, labels] of TensorFlow (`reference`) with the fp32 and int8 ONNX models."""
    if not reference.shape == fp32.shape == int8.shape or reference.ndim != 2:
        raise ParityError(f"logit shapes differ: TensorFlow {reference.shape}, fp32 {fp32.shape}, int8 {int8.shape}")
    top = reference.argmax(-1)
    probs = np.sort(softmax(reference), axis=-1)
    decided = probs[:, -1] - probs[:, -2] >= TIE_MARGIN
    same_int8 = int8.argmax(-1) == top
    return ParityReport(
        texts=int(reference.shape[0]),
        fp32_max_abs_diff=float(np.max(np.abs(fp32 - reference))),
        fp32_tolerance=FP32_TOLERANCE * max(1.0, float(np.max(np.abs(reference)))),
        fp32_agreement=float(np.mean(fp32.argmax(-1) == top)),
        int8_agreement=float(np.mean(same_int8)),
        decided_texts=int(decided.sum()),
        int8_decided_agreement=float(np.mean(same_int8[decided])) if decided.any() else 1.0,
        int8_min_agreement=INT8_MIN_AGREEMENT,
        int8_max_prob_diff=float(np.max(np.abs(softmax(int8) - softmax(reference)))),
    )
