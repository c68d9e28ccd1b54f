"""Package an in-memory model as a registry version directory: ONNX, int8, tokenizer, manifest.

Shared by the exporters of trained models (machbot_train.export) and the tiny placeholders
(machbot_train.tiny_models). A version directory is written completely or not at all.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer
from transformers import PreTrainedModel, T5ForConditionalGeneration

from machbot_fn.labels import EMOTIONS, REPLIER_ID
from machbot_fn.models.manifest import CLASSIFICATION, GENERATION, PROMPT_PLAIN
from machbot_train.onnx_export import export_classifier_onnx, export_t5_cache_onnx, export_t5_onnx
from machbot_train.quantize import quantization_note, quantize_int8, quantize_weights_int8
from machbot_train.version_dir import (
    CLASSIFIER_MAX_LENGTH,
    ExportError,
    created_timestamp,
    display_name,
    framework_versions,
    new_version_dir,
    set_current,
    write_manifest,
)

REPLIER_MAX_LENGTH = 96
MAX_NEW_TOKENS = 40
NO_REPEAT_NGRAM_SIZE = 3  # the small replier loops on its favourite sentence without it
REPETITION_PENALTY = 1.3  # and pads replies with stock phrases; 1.3 ends them sooner (training/reports/replier/t5.md)


@dataclass(frozen=True)
class ExportOptions:
    """How a model becomes a version directory: one object, passed from the exporters down to here."""

    max_length: int | None = None  # tokens the served model reads; None: the task's default
    quantize: bool = True  # int8 (else the fp32 graph is served)
    per_channel: bool = True  # per-channel weight scales for dynamic int8
    # Classifiers: int8 weights, fp32 arithmetic (machbot_train.quantize): stays within 0.5 points of fp32.
    weights_only: bool = True
    metrics: Mapping[str, Any] = field(default_factory=dict)  # written into the manifest
    fp32_path: Path | None = None  # classifier: also keep the fp32 ONNX at this path
    fp32_dir: Path | None = None  # replier: also keep the fp32 ONNX graphs in this directory
    overwrite: bool = False  # replace an existing version directory
    current: bool = False  # point out_dir/<id>/CURRENT at the new version
    display: str | None = None  # the catalog's display name; None: derived from the id
    # The replier's generation settings (written into the manifest) and its key/value-cache graphs.
    max_new_tokens: int = MAX_NEW_TOKENS
    no_repeat_ngram_size: int = NO_REPEAT_NGRAM_SIZE
    repetition_penalty: float = REPETITION_PENALTY
    kv_cache: bool = True


DEFAULTS = ExportOptions()


def training_record(trained_dir: Path) -> dict[str, Any]:
    path = trained_dir / "training.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


_EPOCH_LINE = re.compile(r"^\S+ epoch (\d+): val ")


def epochs_completed(trained_dir: Path) -> int | None:
    """Epochs the run finished, from the train.log beside `best/` (None if there is no log)."""
    log = Path(trained_dir).parent / "train.log"
    if not log.is_file():
        return None
    done = [int(m.group(1)) for line in log.read_text(encoding="utf-8").splitlines() if (m := _EPOCH_LINE.match(line))]
    return max(done, default=0)


def provenance_from(
    record: dict[str, Any], data: str, extra: dict[str, Any], trained_dir: Path | None = None
) -> dict[str, Any]:
    """The manifest's provenance from a run's training.json: honest about what was trained, on what, how long."""
    prov = record.get("provenance", {})
    planned = (prov.get("hyperparameters") or {}).get("epochs")
    completed = epochs_completed(trained_dir) if trained_dir is not None else None
    out = {
        "init": prov.get("init", "unknown (no training.json beside the weights)"),
        "base": prov.get("base"),
        "teacher": prov.get("teacher"),
        "data": data,
        "hyperparameters": prov.get("hyperparameters"),
        "validation": record.get("val"),
        "epochs_completed": completed,
        "epochs_planned": planned,
        "created": created_timestamp(),
        "frameworks": framework_versions(),
        **extra,
    }
    return {k: v for k, v in out.items() if v is not None}


def _check_labels(model: PreTrainedModel) -> None:
    id2label = {int(k): v for k, v in (model.config.id2label or {}).items()}
    labels = tuple(id2label[i] for i in sorted(id2label))
    if labels != EMOTIONS:
        raise ExportError(f"the model's labels {list(labels)} are not the six emotions in order {list(EMOTIONS)}")


def _token_id(value: object, name: str) -> int:
    """One special token id of the replier's config (the serving loop needs each as a single int)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ExportError(f"the replier's config has {name} = {value!r}, not one token id")
    return value


def package_classifier(
    model: PreTrainedModel,
    tokenizer: Tokenizer,
    out_dir: Path,
    model_id: str,
    version: str,
    *,
    trained: bool,
    provenance: dict[str, Any],
    options: ExportOptions = DEFAULTS,
) -> Path:
    """Write a classifier version directory from an in-memory model; returns the directory."""
    _check_labels(model)
    opts = options
    version_dir = new_version_dir(out_dir, model_id, version, opts.overwrite)
    try:
        with tempfile.TemporaryDirectory(prefix="machbot-export-") as tmp:
            fp32 = export_classifier_onnx(model.eval(), Path(tmp) / "model.fp32.onnx")
            if opts.fp32_path is not None:
                opts.fp32_path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(fp32, opts.fp32_path)
            if opts.quantize and opts.weights_only:
                quantize_weights_int8(fp32, version_dir / "model.onnx")
            elif opts.quantize:
                quantize_int8(fp32, version_dir / "model.onnx", per_channel=opts.per_channel)
            else:
                shutil.copyfile(fp32, version_dir / "model.onnx")
        tokenizer.save(str(version_dir / "tokenizer.json"))
        write_manifest(
            version_dir,
            id=model_id,
            version=version,
            task=CLASSIFICATION,
            arch=model.config.model_type,
            display_name=opts.display or display_name(model_id, trained),
            format="onnx-int8" if opts.quantize else "onnx-fp32",
            trained=trained,
            max_length=opts.max_length or CLASSIFIER_MAX_LENGTH,
            labels=EMOTIONS,
            metrics=dict(opts.metrics),
            provenance={
                **provenance,
                "quantization": quantization_note(opts.quantize, opts.per_channel, opts.weights_only),
            },
        )
    except Exception:
        shutil.rmtree(version_dir, ignore_errors=True)  # never leave a half-written version behind
        raise
    if opts.current:
        set_current(out_dir, model_id, version)
    return version_dir


def package_replier(
    model: T5ForConditionalGeneration,
    tokenizer: Tokenizer,
    out_dir: Path,
    version: str,
    *,
    trained: bool,
    provenance: dict[str, Any],
    model_id: str = REPLIER_ID,
    options: ExportOptions = DEFAULTS,
    prompt: str = PROMPT_PLAIN,
) -> Path:
    """Write a replier version directory (encoder.onnx, decoder.onnx, tokenizer.json, manifest.json),
    with `kv_cache` also cross_kv.onnx + decoder_step.onnx, which the serving loop prefers."""
    cfg, opts = model.config, options
    generation = {
        "decoder_start_token_id": _token_id(cfg.decoder_start_token_id, "decoder_start_token_id"),
        "eos_token_id": _token_id(cfg.eos_token_id, "eos_token_id"),
        "pad_token_id": _token_id(cfg.pad_token_id, "pad_token_id"),
        "max_new_tokens": int(opts.max_new_tokens),
        "no_repeat_ngram_size": int(opts.no_repeat_ngram_size),
        "repetition_penalty": float(opts.repetition_penalty),
        "prompt": prompt,
    }
    version_dir = new_version_dir(out_dir, model_id, version, opts.overwrite)
    try:
        with tempfile.TemporaryDirectory(prefix="machbot-export-") as tmp:
            paths = [*export_t5_onnx(model.eval(), Path(tmp))]
            if opts.kv_cache:
                paths += export_t5_cache_onnx(model, Path(tmp))
            if opts.fp32_dir is not None:
                opts.fp32_dir.mkdir(parents=True, exist_ok=True)
                for p in paths:
                    shutil.copyfile(p, opts.fp32_dir / p.name)
            for p in paths:
                if opts.quantize:
                    quantize_int8(p, version_dir / p.name, per_channel=opts.per_channel)
                else:
                    shutil.copyfile(p, version_dir / p.name)
        tokenizer.save(str(version_dir / "tokenizer.json"))
        write_manifest(
            version_dir,
            id=model_id,
            version=version,
            task=GENERATION,
            arch="t5",
            display_name=opts.display or display_name(model_id, trained),
            format="onnx-int8" if opts.quantize else "onnx-fp32",
            trained=trained,
            max_length=opts.max_length or REPLIER_MAX_LENGTH,
            generation=generation,
            metrics=dict(opts.metrics),
            provenance={**provenance, "quantization": quantization_note(opts.quantize, opts.per_channel)},
        )
    except Exception:
        shutil.rmtree(version_dir, ignore_errors=True)
        raise
    if opts.current:
        set_current(out_dir, model_id, version)
    return version_dir
