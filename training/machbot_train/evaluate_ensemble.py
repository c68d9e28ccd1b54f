"""Evaluate `ensemble` (the classifiers averaging their probabilities) like any other model.

It runs the int8 ONNX members exactly as the function does (`machbot_fn.models.ensemble.average`) on the
test split. The result joins the classifier table (`classifiers/ensemble.json`) and is saved with
the member versions it was measured on (`ENSEMBLE_FILE` beside the shipped models), so the catalog
shows it only while those same versions serve.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from machbot_fn.labels import EMOTIONS, ENSEMBLE_ID
from machbot_fn.models.classifier import EmotionClassifier, softmax
from machbot_fn.models.ensemble import average
from machbot_train.batching import onnx_logits
from machbot_train.data import load_emotion_split
from machbot_train.evaluate import LATENCY_SAMPLES, REPORT_DIR, write_json
from machbot_train.metrics import classification_scores, latency_ms
from machbot_train.plots import save_confusion
from machbot_train.version_dir import read_manifest

ENSEMBLE_FILE = "ensemble.json"


def load_members(version_dirs: list[Path]) -> list[EmotionClassifier]:
    """The served classifiers of an ensemble (at least two, each with the six labels in order)."""
    if len(version_dirs) < 2:
        raise ValueError("an ensemble needs at least two classifiers")
    members = [EmotionClassifier(read_manifest(d), Path(d), threads=1) for d in version_dirs]
    for clf in members:
        if tuple(clf.manifest.labels) != EMOTIONS:
            raise ValueError(f"{clf.manifest.id} has labels {clf.manifest.labels}, not {EMOTIONS}")
    return members


def evaluate_ensemble(
    version_dirs: list[Path],
    *,
    split: str = "test",
    data_dir: Path | None = None,
    report_dir: Path = REPORT_DIR,
    latency_samples: int = LATENCY_SAMPLES,
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class F1, confusion and latency of the members voting together."""
    members = load_members(version_dirs)
    data = load_emotion_split(split, data_dir)
    probs = np.mean([softmax(onnx_logits(clf, data.texts), clf.temperature) for clf in members], axis=0)
    predictions = probs.argmax(-1)
    lat_texts = random.Random(0).sample(data.texts, min(latency_samples, len(data.texts)))
    scores = classification_scores(data.labels, predictions.tolist())
    result: dict[str, Any] = {
        "id": ENSEMBLE_ID,
        "version": "+".join(f"{c.manifest.id}@{c.manifest.version}" for c in members),
        "members": {c.manifest.id: c.manifest.version for c in members},
        "arch": "ensemble",
        "display_name": "Ensemble",
        "trained": all(c.manifest.trained for c in members),
        "init": "probability average of the classifiers above",
        "epochs": "",
        "split": split,
        "n": len(data),
        "served": "int8",
        "int8": {
            **scores,
            "latency_ms": latency_ms(lambda t: average([c(t) for c in members]), lat_texts),
            "size_bytes": sum((Path(d) / "model.onnx").stat().st_size for d in version_dirs),
        },
    }
    png = save_confusion(
        {"int8": scores["confusion"]}, f"Ensemble ({split})", report_dir / "classifiers" / "ensemble.png"
    )
    result["confusion_png"] = str(png.relative_to(report_dir)) if png.is_relative_to(report_dir) else str(png)
    write_json(Path(report_dir) / "classifiers" / "ensemble.json", result)
    return result


def catalog_metrics(result: dict[str, Any]) -> dict[str, Any]:
    """What the catalog shows for the ensemble (the same keys as a manifest's metrics)."""
    served = result["int8"]
    return {
        "split": result["split"],
        "accuracy": round(served["accuracy"], 4),
        "macro_f1": round(served["macro_f1"], 4),
        "per_class_f1": {k: round(v, 4) for k, v in served["per_class_f1"].items()},
        "latency_ms": round(served["latency_ms"]["p50"], 2),
    }


def save_for_catalog(result: dict[str, Any], root: Path, extra_metrics: dict[str, Any] | None = None) -> Path:
    """Write `root/ensemble.json`: the member versions measured and the metrics the catalog shows."""
    path = Path(root) / ENSEMBLE_FILE
    metrics = {**catalog_metrics(result), **(extra_metrics or {})}
    path.write_text(json.dumps({"members": result["members"], "metrics": metrics}, indent=2) + "\n")
    return path
