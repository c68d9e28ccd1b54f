"""Users' "wrong emotion" reports: the labelled dataset researchers export, and per-version agreement.

A report is the owner's `feedback {label, at}` on a done message: "the emotion was wrong, it was X".
Reports are read with admin credentials (a collection-group query over every user's messages);
what leaves this module carries no user id, message id or document path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.cloud import firestore

from machbot_fn.labels import EMOTIONS
from machbot_fn.observe import SHADOW_RESULTS, message_key
from machbot_fn.serving_stats import SERVED, SHADOW


@dataclass(frozen=True)
class Report:
    text: str
    label: str  # the emotion the user says it was
    predicted: str  # the label the serving version gave
    model: str
    version: str
    reported_at: datetime | None = None
    shadow_version: str | None = None
    shadow_label: str | None = None

    def export_row(self) -> dict[str, Any]:
        """One line of the exported dataset: no user id, no document path."""
        return {
            "text": self.text,
            "label": self.label,
            "predicted": self.predicted,
            "model": self.model,
            "version": self.version,
            "reportedAt": self.reported_at.isoformat() if self.reported_at else None,
        }


def _report(data: dict[str, Any], shadow: dict[str, Any] | None) -> Report | None:
    feedback = data.get("feedback") or {}
    classifier = (data.get("servedBy") or {}).get("classifier") or {}
    predicted = (data.get("emotion") or {}).get("label")
    text = data.get("text")
    if feedback.get("label") not in EMOTIONS or not isinstance(text, str) or not predicted or not classifier:
        return None
    at = feedback.get("at")
    return Report(
        text=text,
        label=feedback["label"],
        predicted=predicted,
        model=str(classifier.get("id", "")),
        version=str(classifier.get("version", "")),
        reported_at=at if isinstance(at, datetime) else None,
        shadow_version=(shadow or {}).get("version"),
        shadow_label=(shadow or {}).get("label"),
    )


def reports(db: firestore.Client, model_id: str | None = None) -> Iterator[Report]:
    """Every report on every user's messages (optionally for one model), oldest first."""
    query = db.collection_group("messages").where(filter=firestore.FieldFilter("feedback.label", "in", list(EMOTIONS)))
    snaps = sorted(query.stream(), key=lambda s: str((s.to_dict() or {}).get("feedback", {}).get("at", "")))
    for snap in snaps:
        data = snap.to_dict() or {}
        shadow = db.collection(SHADOW_RESULTS).document(message_key(snap.reference.path)).get()
        report = _report(data, shadow.to_dict() if shadow.exists else None)
        if report is not None and (model_id is None or report.model == model_id):
            yield report


def agreement(all_reports: list[Report]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(model, version, mode) -> (reports on messages it classified, how many had the user's label)."""
    totals: Counter[tuple[str, str, str]] = Counter()
    agreed: Counter[tuple[str, str, str]] = Counter()
    for r in all_reports:
        key = (r.model, r.version, SERVED)
        totals[key] += 1
        agreed[key] += r.predicted == r.label
        if r.shadow_version and r.shadow_label:
            key = (r.model, r.shadow_version, SHADOW)
            totals[key] += 1
            agreed[key] += r.shadow_label == r.label
    return {key: (totals[key], agreed[key]) for key in totals}
