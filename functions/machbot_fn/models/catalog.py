"""The public model catalog in Firestore (`models/{id}`), kept in step with the bucket.

The web app's model picker reads it; the function and the publish command write it (admin only).
"""

from __future__ import annotations

from typing import Any

from google.cloud import firestore

from machbot_fn.labels import ENSEMBLE_ID
from machbot_fn.models.manifest import Manifest
from machbot_fn.models.routing import Routing

COLLECTION = "models"
SERVING, INVALID, CANDIDATE = "serving", "invalid", "candidate"


def _summary_metrics(manifest: Manifest) -> dict[str, Any]:
    keep = (
        "accuracy",
        "macro_f1",
        "chat_macro_f1",  # the mean macro-F1 on the four chat-like test sets: what the default is chosen by
        "latency_ms",
        "per_class_f1",
        "val_loss",
        "perplexity",
        "distinct_1",
        "distinct_2",
    )
    return {k: manifest.metrics[k] for k in keep if k in manifest.metrics}


def version_entry(manifest: Manifest, status: str, reason: str = "") -> dict[str, Any]:
    return {
        "status": status,
        "reason": reason,
        "trained": manifest.trained,
        "metrics": _summary_metrics(manifest),
        "init": manifest.provenance.get("init", ""),
        "created": manifest.provenance.get("created", ""),
    }


def record_serving(db: firestore.Client, manifest: Manifest) -> None:
    """`manifest`'s version is CURRENT and verified: the picker shows it."""
    db.collection(COLLECTION).document(manifest.id).set(
        {
            "id": manifest.id,
            "displayName": manifest.display_name,
            "task": manifest.task,
            "arch": manifest.arch,
            "version": manifest.version,
            "trained": manifest.trained,
            "status": SERVING,
            "statusReason": "",
            "metrics": _summary_metrics(manifest),
            "init": manifest.provenance.get("init", ""),
            "versions": {manifest.version: version_entry(manifest, SERVING)},
            "updatedAt": firestore.SERVER_TIMESTAMP,
        },
        merge=True,
    )


def record_refused(db: firestore.Client, model_id: str, version: str, reason: str) -> None:
    """A version failed verification; say why. The serving version (if any) stays as it is."""
    db.collection(COLLECTION).document(model_id).set(
        {
            "id": model_id,
            "versions": {version: {"status": INVALID, "reason": reason[:500]}},
            "lastRefused": {"version": version, "reason": reason[:500]},
            "updatedAt": firestore.SERVER_TIMESTAMP,
        },
        merge=True,
    )


def record_ensemble(
    db: firestore.Client, members: list[str], trained: bool, metrics: dict[str, Any] | None = None
) -> None:
    """Offer `ensemble` in the picker: the listed classifiers vote (probability averaging). `metrics`:
    its evaluation on the test split, when it was measured on exactly these member versions."""
    db.collection(COLLECTION).document(ENSEMBLE_ID).set(
        {
            "metrics": metrics or {},
            "id": ENSEMBLE_ID,
            "displayName": "Ensemble (all classifiers vote)",
            "task": "ensemble",
            "version": "+".join(members),
            "members": members,
            "trained": trained,
            "status": SERVING,
            "statusReason": "",
            "updatedAt": firestore.SERVER_TIMESTAMP,
        }
    )  # replaced whole: metrics measured on other members must not linger


def record_check(
    db: firestore.Client, model_id: str, version: str, ok: bool, reason: str, manifest: Manifest | None = None
) -> None:
    """The upload check's verdict on one version (kept apart from which version serves)."""
    entry: dict[str, Any] = {"verified": ok, "checkReason": reason[:500], "checkedAt": firestore.SERVER_TIMESTAMP}
    if manifest is not None:
        entry.update(trained=manifest.trained, metrics=_summary_metrics(manifest))
    db.collection(COLLECTION).document(model_id).set(
        {"id": model_id, "versions": {version: entry}, "updatedAt": firestore.SERVER_TIMESTAMP}, merge=True
    )


def record_routing(db: firestore.Client, model_id: str, routing: Routing) -> None:
    """Show the canary / shadow a model runs (for researchers; users see only the version that answered them)."""
    db.collection(COLLECTION).document(model_id).set(
        # Listing the fields replaces `routing` whole: a cleared canary must disappear, not be merged into.
        {"id": model_id, "routing": routing.to_dict(), "updatedAt": firestore.SERVER_TIMESTAMP},
        # The client takes field paths here (its docstring says so); its annotation only says bool.
        merge=["id", "routing", "updatedAt"],  # type: ignore[arg-type]
    )


def record_candidate(db: firestore.Client, manifest: Manifest, note: str) -> None:
    """A version uploaded for trial (canary, shadow or a later promote), not serving yet."""
    db.collection(COLLECTION).document(manifest.id).set(
        {
            "id": manifest.id,
            "versions": {manifest.version: version_entry(manifest, CANDIDATE, note[:500])},
            "updatedAt": firestore.SERVER_TIMESTAMP,
        },
        merge=True,
    )
