"""The registry's manifest: what a published model version is, and the checks it must pass to serve.

`models/<id>/<version>/manifest.json` in the bucket. Example (classifier):

    {"schema": 1, "id": "bert", "version": "20261123-1", "task": "text-classification",
     "arch": "bert", "display_name": "BERT", "format": "onnx-int8", "trained": true,
     "labels": ["sadness", "joy", "love", "anger", "fear", "surprise"], "max_length": 128,
     "files": {"model.onnx": {"sha256": "...", "size": 1234}, "tokenizer.json": {...}},
     "metrics": {"accuracy": 0.93, "macro_f1": 0.89, "latency_ms": 3.1, "per_class_f1": {...}},
     "provenance": {"init": "...", "data": "...", "created": "2026-11-23T12:00:00Z"}}

ONNX signatures. Classifier `model.onnx`: inputs `input_ids`, `attention_mask` (int64, [batch, seq])
-> `logits` (float32, [batch, labels]). Replier (task `text2text-generation`): `encoder.onnx`
(`input_ids`, `attention_mask` -> `last_hidden_state`) and `decoder.onnx` (`input_ids`,
`encoder_hidden_states`, `encoder_attention_mask` -> `logits` [batch, seq, vocab]), plus
`generation`: `{decoder_start_token_id, eos_token_id, pad_token_id, max_new_tokens}` and optionally
`no_repeat_ngram_size` (greedy search never repeats an n-gram of that size; 0 or absent = off) and
`repetition_penalty` (>= 1; logits of tokens already generated are divided by it, 1 or absent = off)
and `prompt` (what the model was trained to read: `plain` = emotion, message and context, the
default; `retrieved` = also a human reply retrieved from the version's pool, retrieve-and-refine).
Sentence embedder (task `sentence-embedding`): `model.onnx` (`input_ids`, `attention_mask` ->
`sentence_embedding` float32 [batch, dim], mean-pooled over the mask and L2-normalised, as
sentence-transformers computes it), plus `embedding`: `{dim, pooling, normalized}`.
Optionally a replier also ships a key/value-cache decoder, which the serving loop then prefers
(one token per step instead of the whole prefix): `cross_kv.onnx` (`encoder_hidden_states` ->
`cross_k`, `cross_v` [layers, batch, heads, enc_seq, d_kv]) and `decoder_step.onnx` (`input_ids`
[batch, 1], `encoder_attention_mask`, `cross_k`, `cross_v`, `past_k`, `past_v` [layers, batch, heads,
past_seq, d_kv]; past_seq = 0 on the first step -> `logits` [batch, vocab], `present_k`, `present_v`
with past_seq + 1). `decoder.onnx` stays required, so every replier can run without the cache.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from machbot_fn.errors import ManifestError
from machbot_fn.labels import EMOTIONS

SCHEMA_VERSION = 1
PROMPT_PLAIN = "plain"  # generation.prompt: emotion, message, context (absent = this)
PROMPT_RETRIEVED = "retrieved"  # also a retrieved human reply to refine (retrieve-and-refine)
PROMPTS = (PROMPT_PLAIN, PROMPT_RETRIEVED)
CLASSIFICATION = "text-classification"
GENERATION = "text2text-generation"
EMBEDDING = "sentence-embedding"
REQUIRED_FILES = {
    CLASSIFICATION: ("model.onnx", "tokenizer.json"),
    GENERATION: ("encoder.onnx", "decoder.onnx", "tokenizer.json"),
    EMBEDDING: ("model.onnx", "tokenizer.json"),
}
# Model ids and versions name folders in the bucket; the message contract and the upload check use these too.
MODEL_ID_PATTERN = r"[a-z][a-z0-9-]{0,31}"
VERSION_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
MODEL_ID = re.compile(f"^{MODEL_ID_PATTERN}$")
VERSION = re.compile(f"^{VERSION_PATTERN}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    id: str
    version: str
    task: str
    arch: str
    display_name: str
    format: str
    trained: bool
    files: dict[str, FileEntry]
    max_length: int
    labels: tuple[str, ...] = ()
    generation: dict[str, int | float] = field(default_factory=dict)
    embedding: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    # Classifiers: {"temperature": T, "unsure_below": p, ...} fitted on validation (training/calibration.py);
    # absent for versions published before calibration existed (T = 1, never "not sure").
    calibration: dict[str, Any] = field(default_factory=dict)

    @property
    def is_classifier(self) -> bool:
        return self.task == CLASSIFICATION

    @property
    def versioned_id(self) -> str:
        """`<id>@<version>`: how a reply pool names the models its vectors and emotions came from."""
        return f"{self.id}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "id": self.id,
            "version": self.version,
            "task": self.task,
            "arch": self.arch,
            "display_name": self.display_name,
            "format": self.format,
            "trained": self.trained,
            "max_length": self.max_length,
            "files": {name: {"sha256": f.sha256, "size": f.size} for name, f in self.files.items()},
            "metrics": self.metrics,
            "provenance": self.provenance,
        }
        if self.is_classifier:
            out["labels"] = list(self.labels)
            if self.calibration:
                out["calibration"] = self.calibration
        elif self.task == EMBEDDING:
            out["embedding"] = self.embedding
        else:
            out["generation"] = self.generation
        return out


def _require(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise ManifestError(f"manifest is missing {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"manifest field {key!r} has the wrong type ({type(value).__name__})")
    return value


def parse_manifest(data: Any) -> Manifest:
    """Validate a manifest's schema; raise ManifestError saying exactly what is wrong."""
    if not isinstance(data, dict):
        raise ManifestError("manifest is not a JSON object")
    if data.get("schema") != SCHEMA_VERSION:
        raise ManifestError(f"unsupported manifest schema {data.get('schema')!r} (expected {SCHEMA_VERSION})")
    model_id = _require(data, "id", str)
    if not MODEL_ID.match(model_id):
        raise ManifestError(f"bad model id {model_id!r}")
    version = _require(data, "version", str)
    if not VERSION.match(version):
        raise ManifestError(f"bad version {version!r}")
    task = _require(data, "task", str)
    if task not in REQUIRED_FILES:
        raise ManifestError(f"unknown task {task!r}")
    raw_files = _require(data, "files", dict)
    files: dict[str, FileEntry] = {}
    for name, entry in raw_files.items():
        if not isinstance(entry, dict) or not SHA256.match(str(entry.get("sha256", ""))):
            raise ManifestError(f"file {name!r} has no valid sha256")
        if "/" in name or name.startswith(".") or name == "manifest.json":
            raise ManifestError(f"bad file name {name!r}")
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError(f"file {name!r} has no valid size")
        files[name] = FileEntry(entry["sha256"], size)
    missing = [f for f in REQUIRED_FILES[task] if f not in files]
    if missing:
        raise ManifestError(f"a {task} model needs {', '.join(missing)}")
    max_length = _require(data, "max_length", int)
    if not 8 <= max_length <= 4096:
        raise ManifestError(f"max_length {max_length} out of range")
    labels: tuple[str, ...] = ()
    generation: dict[str, int | float] = {}
    embedding: dict[str, Any] = {}
    calibration: dict[str, Any] = {}
    if task == CLASSIFICATION:
        labels = tuple(_require(data, "labels", list))
        if sorted(labels) != sorted(EMOTIONS) or len(labels) != len(EMOTIONS):
            raise ManifestError(f"labels must be the six emotions {list(EMOTIONS)}, got {list(labels)}")
        calibration = _parse_calibration(data.get("calibration"))
    elif task == EMBEDDING:
        embedding = _require(data, "embedding", dict)
        dim = embedding.get("dim")
        if not isinstance(dim, int) or isinstance(dim, bool) or not 2 <= dim <= 4096:
            raise ManifestError("embedding.dim must be an integer from 2 to 4096")
    else:
        generation = _require(data, "generation", dict)
        for key in ("decoder_start_token_id", "eos_token_id", "pad_token_id", "max_new_tokens"):
            if not isinstance(generation.get(key), int):
                raise ManifestError(f"generation.{key} must be an integer")
        penalty = generation.get("repetition_penalty", 1.0)
        if isinstance(penalty, bool) or not isinstance(penalty, int | float) or not 1.0 <= penalty <= 5.0:
            raise ManifestError(f"generation.repetition_penalty must be a number from 1 to 5, got {penalty!r}")
        if generation.get("prompt", PROMPT_PLAIN) not in PROMPTS:
            raise ManifestError(f"generation.prompt must be one of {', '.join(PROMPTS)}, got {generation['prompt']!r}")
    return Manifest(
        id=model_id,
        version=version,
        task=task,
        arch=_require(data, "arch", str),
        display_name=str(data.get("display_name") or model_id),
        format=_require(data, "format", str),
        trained=bool(data.get("trained", False)),
        files=files,
        max_length=max_length,
        labels=labels,
        generation=generation,
        embedding=embedding,
        metrics=dict(data.get("metrics") or {}),
        provenance=dict(data.get("provenance") or {}),
        calibration=calibration,
    )


def _parse_calibration(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ManifestError("calibration must be an object")
    temperature, threshold = raw.get("temperature"), raw.get("unsure_below")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not 0.05 <= temperature <= 20:
        raise ManifestError(f"calibration.temperature must be a number from 0.05 to 20, got {temperature!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold < 1:
        raise ManifestError(f"calibration.unsure_below must be a probability below 1, got {threshold!r}")
    return dict(raw)
