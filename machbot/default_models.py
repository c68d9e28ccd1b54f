"""The models the run command serves: the shipped int8 defaults, or untrained tiny stand-ins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from machbot.paths import DEFAULT_MODELS, TINY_MODELS
from machbot_fn.labels import CLASSIFIER_IDS, REPLIER_ID
from machbot_fn.publish import read_local_version

DEFAULT_IDS = (*CLASSIFIER_IDS, REPLIER_ID)
# The architecture of each id's tiny stand-in.
TINY_ARCH = {
    "bert": "bert",
    "distilbert": "distilbert",
    "roberta": "roberta",
    "electra": "electra",
    "mobilebert": "mobilebert",
}


def shipped_version(model_id: str, root: Path = DEFAULT_MODELS) -> Path | None:
    """`root/<id>/<CURRENT>` if the id has a shipped version, else None."""
    base = root / model_id
    current = base / "CURRENT"
    if current.is_file():
        candidate = base / current.read_text().strip()
        return candidate if (candidate / "manifest.json").is_file() else None
    versions = sorted(p for p in base.glob("*/manifest.json")) if base.is_dir() else []
    return versions[-1].parent if versions else None


def tiny_version(model_id: str, root: Path = TINY_MODELS) -> Path:
    """Build (once) an untrained tiny model for `model_id`; the catalog marks it untrained."""
    existing = shipped_version(model_id, root)
    if existing:
        try:
            read_local_version(existing)
            return existing
        except Exception:
            pass
    from machbot_train.tiny_models import build_tiny_classifier, build_tiny_replier

    if model_id == REPLIER_ID:
        return build_tiny_replier(root, current=True)
    return build_tiny_classifier(root, model_id, TINY_ARCH[model_id], current=True)


def default_versions() -> dict[str, Path]:
    """model id -> version directory to serve by default."""
    return {model_id: shipped_version(model_id) or tiny_version(model_id) for model_id in DEFAULT_IDS}


def ensemble_evaluation(root: Path = DEFAULT_MODELS) -> dict[str, Any] | None:
    """The shipped ensemble's test-split evaluation ({members: {id: version}, metrics}), if measured."""
    path = root / "ensemble.json"
    return json.loads(path.read_text()) if path.is_file() else None
