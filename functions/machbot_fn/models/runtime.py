"""The one ONNX runtime every served model runs on: sessions, tokenizers, padding, batched runs.

The classifier, the sentence embedder and the replier load their graphs and tokenizers here, so a
missing or corrupt file fails the same way (`ModelUnavailable`, which keeps the previous version
serving) whichever model it belongs to. Only numpy, onnxruntime and tokenizers: the Cloud
Function's runtime has no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from machbot_fn.errors import ModelUnavailable
from machbot_fn.models.manifest import Manifest

PAD_TOKENS = ("[PAD]", "<pad>")
TEXT_INPUTS = frozenset({"input_ids", "attention_mask"})


class Runtime(Protocol):
    """What the registry needs of every served model: its manifest and a smoke test run on load."""

    manifest: Manifest

    def smoke_test(self) -> None:
        """One small inference; raise ModelUnavailable if the version must not serve."""
        ...


def session_options(threads: int) -> ort.SessionOptions:
    """One inference per call on a small instance: a fixed thread budget and every graph optimisation."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Classifiers ship int8 weights behind DequantizeLinear: fold them to fp32 once, at load, instead of
    # dequantising at every call or fusing into int8 arithmetic (machbot_train.quantize says why).
    opts.add_session_config_entry("session.disable_quant_qdq", "1")
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


def pad_batch(ids: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to the batch's longest sequence; returns int64 input_ids and attention_mask."""
    width = max((len(x) for x in ids), default=0)
    width = max(width, 1)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return input_ids, mask


class TextGraph:
    """A single-graph text model (`model.onnx` + `tokenizer.json`): a batch of texts in, one row per text out.

    The classifier (logits) and the sentence embedder (vectors) are both this, with a different
    output and a different check of its width.
    """

    def __init__(self, manifest: Manifest, model_dir: Path, threads: int, output: str) -> None:
        self.manifest = manifest
        model_dir = Path(model_dir)
        self.session = load_session(model_dir / "model.onnx", threads)
        self.tokenizer = load_tokenizer(model_dir / "tokenizer.json", manifest.max_length)
        self.pad_id = pad_id_of(self.tokenizer)
        inputs = {i.name for i in self.session.get_inputs()}
        missing = TEXT_INPUTS - inputs
        if missing:
            raise ModelUnavailable(f"model {manifest.id} has no ONNX input(s) {sorted(missing)}")
        self._token_types = "token_type_ids" in inputs  # imported BERT-style graphs may keep this input
        outputs = [o.name for o in self.session.get_outputs()]
        self._output = output if output in outputs else outputs[0]

    def run(self, texts: Sequence[str], width: int, what: str) -> np.ndarray:
        """float32 [len(texts), width]: tokenized, right-padded and run as one batch."""
        if not texts:
            return np.zeros((0, width), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        input_ids, mask = pad_batch(ids, self.pad_id)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if self._token_types:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        rows: np.ndarray = self.session.run([self._output], feeds)[0]
        if rows.ndim != 2 or rows.shape[1] != width:
            raise ModelUnavailable(
                f"model {self.manifest.id} returned {what} of shape {rows.shape}, expected [batch, {width}]"
            )
        return rows
