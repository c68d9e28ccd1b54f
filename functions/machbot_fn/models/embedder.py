"""Sentence embeddings with an ONNX model: tokenize, run, one unit vector per text.

The graph already mean-pools the token states over the attention mask and L2-normalises (as
sentence-transformers does); the rows are normalised once more here so that, whatever the
quantisation did to the norms, the dot product of two embeddings is their cosine similarity.
Emoji are read as their names first, as the classifiers read them: MiniLM's uncased WordPiece
vocabulary has none, so "😭😭😭" and "🎉" would both be one `[UNK]`, alike to every other emoji.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from machbot_fn.errors import ModelUnavailable
from machbot_fn.models.emoji_words import emoji_to_words
from machbot_fn.models.manifest import EMBEDDING, Manifest
from machbot_fn.models.runtime import TextGraph

OUTPUT = "sentence_embedding"
SMOKE_TEXTS = ("smoke test: i feel fine today", "a second, different sentence")


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    unit: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return unit


class SentenceEmbedder(TextGraph):
    """A published embedder version: `model.onnx` + `tokenizer.json` described by its manifest."""

    def __init__(self, manifest: Manifest, model_dir: Path, threads: int = 1) -> None:
        if manifest.task != EMBEDDING:
            raise ModelUnavailable(f"model {manifest.id} is a {manifest.task} model, not a sentence embedder")
        super().__init__(manifest, model_dir, threads, output=OUTPUT)
        self.dim = int(manifest.embedding["dim"])

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors float32 [len(texts), dim]."""
        return normalize_rows(self.run([emoji_to_words(t) for t in texts], self.dim, "embeddings"))

    def __call__(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed([text])[0]
        return vector

    def smoke_test(self) -> None:
        """Two texts give finite unit vectors of the manifest's size: else the version must not serve."""
        vectors = self.embed(list(SMOKE_TEXTS))
        if not np.all(np.isfinite(vectors)) or not np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3):
            raise ModelUnavailable(f"{self.manifest.id} {self.manifest.version}: smoke inference gave no unit vectors")
