"""Export trained models into registry version directories: ONNX, int8 quantisation, tokenizer, manifest.

`export_classifier(runs/bert/best, models/defaults, "bert", "20261123-1")` writes
`models/defaults/bert/20261123-1/{model.onnx, tokenizer.json, manifest.json}`; `export_replier` does
the same for the T5 (`encoder.onnx`, `decoder.onnx`). The untrained placeholders the tests and the
local stack use until trained models exist come from machbot_train.tiny_models (re-exported here).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification, T5ForConditionalGeneration

from machbot_fn.labels import REPLIER_ID
from machbot_fn.models.manifest import PROMPT_PLAIN, PROMPT_RETRIEVED
from machbot_train.bundle import (
    DEFAULTS,
    ExportError,
    ExportOptions,
    package_classifier,
    package_replier,
    provenance_from,
    training_record,
)
from machbot_train.data import EMOTION_SOURCE
from machbot_train.emotion_mix import MIX_SOURCE
from machbot_train.replier_data import ED_SOURCE
from machbot_train.tiny_models import build_tiny_classifier, build_tiny_replier

REPO = Path(__file__).resolve().parents[2]


def _portable(path: Path) -> str:
    """The weights' directory relative to the checkout when inside it (manifests are committed and shared)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(resolved)


def _trained(trained_dir: Path) -> tuple[Path, dict[str, Any], Tokenizer]:
    """A trained model directory's path, training record and tokenizer; ExportError if it is not one."""
    trained_dir = Path(trained_dir)
    if not (trained_dir / "config.json").is_file() or not (trained_dir / "tokenizer.json").is_file():
        raise ExportError(
            f"{trained_dir} is not a trained model directory (needs config.json, weights, tokenizer.json)"
        )
    return trained_dir, training_record(trained_dir), Tokenizer.from_file(str(trained_dir / "tokenizer.json"))


def export_classifier(
    trained_dir: Path, out_dir: Path, model_id: str, version: str, options: ExportOptions = DEFAULTS
) -> Path:
    """Export a trained classifier dir (save_pretrained + tokenizer.json + training.json) into out_dir/<id>/<version>/."""
    trained_dir, record, tokenizer = _trained(trained_dir)
    model = AutoModelForSequenceClassification.from_pretrained(trained_dir)
    mix = (record.get("provenance") or {}).get("training_data")
    data = MIX_SOURCE if mix else EMOTION_SOURCE  # runs from before the mix trained on the tweets alone
    extra = {"source_dir": _portable(trained_dir), **({"training_data": mix} if mix else {})}
    provenance = provenance_from(record, data, extra, trained_dir)
    return package_classifier(
        model, tokenizer, out_dir, model_id, version, trained=bool(record), provenance=provenance, options=options
    )


def export_replier(
    trained_dir: Path,
    out_dir: Path,
    version: str,
    model_id: str = REPLIER_ID,
    options: ExportOptions = DEFAULTS,
) -> Path:
    """Export a trained T5 dir (runs/t5/best) into out_dir/<id>/<version>/ as encoder + decoder ONNX."""
    trained_dir, record, tokenizer = _trained(trained_dir)
    model = T5ForConditionalGeneration.from_pretrained(trained_dir)
    data = record.get("provenance", {}).get("data", ED_SOURCE)
    provenance = provenance_from(record, data, {"source_dir": _portable(trained_dir)}, trained_dir)
    # Serve what it was trained on: the prompt format and the source length.
    hyper = record.get("provenance", {}).get("hyperparameters", {})
    if options.max_length is None and hyper.get("source_max_length"):
        options = replace(options, max_length=int(hyper["source_max_length"]))
    return package_replier(
        model,
        tokenizer,
        out_dir,
        version,
        trained=bool(record),
        provenance=provenance,
        model_id=model_id,
        options=options,
        prompt=PROMPT_RETRIEVED if hyper.get("refine") else PROMPT_PLAIN,
    )


__all__ = [
    "ExportError",
    "ExportOptions",
    "build_tiny_classifier",
    "build_tiny_replier",
    "export_classifier",
    "export_replier",
]
