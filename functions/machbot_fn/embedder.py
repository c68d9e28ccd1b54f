"""Sentence embeddings with an ONNX model: tokenize, run, one unit vector per text.

The graph already mean-pools the token states over the attention mask and L2-normalises (as
sentence-transformers does); the rows are normalised once more here so that, whatever the
quantisation did to the norms, the dot product of two embeddings is their cosine similarity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from machbot_fn.classifier import load_session, load_tokenizer, pad_batch, pad_id_of
from machbot_fn.errors import ModelUnavailable
from machbot_fn.manifest import EMBEDDING, Manifest

OUTPUT = "sentence_embedding"
SMOKE_TEXTS = ("smoke test: i feel fine today", "a second, different sentence")


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


class SentenceEmbedder:
    """A published embedder version: `model.onnx` + `tokenizer.json` described by its manifest."""

    def __init__(self, manifest: Manifest, model_dir: Path, threads: int = 1) -> None:
        if manifest.task != EMBEDDING:
            raise ModelUnavailable(f"model {manifest.id} is a {manifest.task} model, not a sentence embedder")
        self.manifest = manifest
        self.dim = int(manifest.embedding["dim"])
        model_dir = Path(model_dir)
        self.session = load_session(model_dir / "model.onnx", threads)
        self.tokenizer = load_tokenizer(model_dir / "tokenizer.json", manifest.max_length)
        self.pad_id = pad_id_of(self.tokenizer)
        inputs = {i.name for i in self.session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - inputs
        if missing:
            raise ModelUnavailable(f"model {manifest.id} has no ONNX input(s) {sorted(missing)}")
        self._token_types = "token_type_ids" in inputs
        outputs = [o.name for o in self.session.get_outputs()]
        self._output = OUTPUT if OUTPUT in outputs else outputs[0]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors float32 [len(texts), dim]."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        input_ids, mask = pad_batch(ids, self.pad_id)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if self._token_types:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (vectors,) = self.session.run([self._output], feeds)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ModelUnavailable(
                f"model {self.manifest.id} returned embeddings of shape {vectors.shape}, expected [batch, {self.dim}]"
            )
        return normalize_rows(vectors)

    def __call__(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def smoke_test(self) -> None:
        """Two texts give finite unit vectors of the manifest's size: else the version must not serve."""
        vectors = self.embed(list(SMOKE_TEXTS))
        if not np.all(np.isfinite(vectors)) or not np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3):
            raise ModelUnavailable(f"{self.manifest.id} {self.manifest.version}: smoke inference gave no unit vectors")
