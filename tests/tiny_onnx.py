"""Tiny classifier versions built with the function's runtime only (no torch): for its own unit tests.

The graph is tests/fixtures/tiny_classifier.onnx (see make_tiny_classifier.py beside it); the
tokenizer is a word-level `tokenizers` model over a few dozen words; the manifest is written with
the function's own Manifest, so the registry verifies and smoke-tests the version like any other.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.manifest import CLASSIFICATION, FileEntry, Manifest
from machbot_fn.models.registry import sha256_file

GRAPH = Path(__file__).parent / "fixtures" / "tiny_classifier.onnx"
WORDS = [
    "i",
    "am",
    "so",
    "happy",
    "sad",
    "angry",
    "afraid",
    "love",
    "surprised",
    "today",
    "feel",
    "the",
    "job",
    "got",
    "scared",
    "not",
    "good",
    "enough",
]


def tiny_tokenizer() -> Tokenizer:
    vocab = {"[PAD]": 0, "[UNK]": 1, **{word: i + 2 for i, word in enumerate(WORDS)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer


def tiny_classifier(root: Path, model_id: str = "bert", version: str = "v1") -> Path:
    """`root/<model_id>/<version>/` with model.onnx, tokenizer.json and manifest.json; returns the directory."""
    directory = Path(root) / model_id / version
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(GRAPH, directory / "model.onnx")
    tiny_tokenizer().save(str(directory / "tokenizer.json"))
    files = {
        name: FileEntry(sha256_file(directory / name), (directory / name).stat().st_size)
        for name in ("model.onnx", "tokenizer.json")
    }
    manifest = Manifest(
        id=model_id,
        version=version,
        task=CLASSIFICATION,
        arch="tiny",
        display_name=f"{model_id} (test)",
        format="onnx-fp32",
        trained=False,
        files=files,
        max_length=32,
        labels=EMOTIONS,
        provenance={"init": "random: tests/fixtures/tiny_classifier.onnx"},
    )
    (directory / "manifest.json").write_text(json.dumps(manifest.to_dict(), indent=2), encoding="utf-8")
    return directory
