"""Emotion classification with an ONNX model: tokenize, run, softmax, in manifest label order.

Only numpy, onnxruntime and tokenizers: the Cloud Function's runtime has no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from machbot_fn.errors import ModelUnavailable
from machbot_fn.manifest import Manifest

PAD_TOKENS = ("[PAD]", "<pad>")


@dataclass(frozen=True)
class Emotion:
    """The detected emotion: the top label, its probability, and every label's probability."""

    label: str
    score: float
    scores: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score, "scores": dict(self.scores)}


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; subtracting the max keeps huge logits from overflowing."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def session_options(threads: int) -> ort.SessionOptions:
    """One inference per call on a small instance: a fixed thread budget and every graph optimisation."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return opts


def load_session(path: Path, threads: int) -> ort.InferenceSession:
    if not path.is_file():
        raise ModelUnavailable(f"model file {path.name} is missing from {path.parent}")
    try:
        return ort.InferenceSession(
            str(path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types for corrupt files
        raise ModelUnavailable(f"cannot load {path.name}: {exc}") from exc


def load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    """The model's tokenizer, truncating to `max_length` and leaving padding to the caller."""
    if not path.is_file():
        raise ModelUnavailable(f"tokenizer file {path.name} is missing from {path.parent}")
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on malformed JSON
        raise ModelUnavailable(f"cannot load {path.name}: {exc}") from exc
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    return tokenizer


def pad_id_of(tokenizer: Tokenizer) -> int:
    for token in PAD_TOKENS:
        idx = tokenizer.token_to_id(token)
        if idx is not None:
            return idx
    return 0


def pad_batch(ids: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to the batch's longest sequence; returns int64 input_ids and attention_mask."""
    width = max((len(x) for x in ids), default=0)
    width = max(width, 1)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return input_ids, mask


class EmotionClassifier:
    """A published classifier version: `model.onnx` + `tokenizer.json` described by its manifest."""

    def __init__(self, manifest: Manifest, model_dir: Path, threads: int = 1) -> None:
        if not manifest.is_classifier:
            raise ModelUnavailable(f"model {manifest.id} is a {manifest.task} model, not a classifier")
        self.manifest = manifest
        self.labels = manifest.labels
        model_dir = Path(model_dir)
        self.session = load_session(model_dir / "model.onnx", threads)
        self.tokenizer = load_tokenizer(model_dir / "tokenizer.json", manifest.max_length)
        self.pad_id = pad_id_of(self.tokenizer)
        self._inputs = {i.name for i in self.session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._inputs
        if missing:
            raise ModelUnavailable(f"model {manifest.id} has no ONNX input(s) {sorted(missing)}")
        outputs = self.session.get_outputs()
        self._output = "logits" if any(o.name == "logits" for o in outputs) else outputs[0].name

    def predict_logits(self, texts: list[str]) -> np.ndarray:
        """Logits [len(texts), labels] for a batch, in the manifest's label order."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        input_ids, mask = pad_batch(ids, self.pad_id)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:  # imported BERT-style graphs may keep this input
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (logits,) = self.session.run([self._output], feeds)
        if logits.ndim != 2 or logits.shape[1] != len(self.labels):
            raise ModelUnavailable(
                f"model {self.manifest.id} returned logits of shape {logits.shape}, expected [batch, {len(self.labels)}]"
            )
        return logits

    def __call__(self, text: str) -> Emotion:
        probs = softmax(self.predict_logits([text])[0])
        top = int(np.argmax(probs))
        scores = {label: float(p) for label, p in zip(self.labels, probs, strict=True)}
        return Emotion(label=self.labels[top], score=float(probs[top]), scores=scores)
