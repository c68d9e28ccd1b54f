"""Users' "wrong emotion" reports: the labelled dataset researchers export, and per-version agreement.

A report is the owner's `feedback {label, at}` on a done message: "the emotion was wrong, it was X".
Reports are read with admin credentials (a collection-group query over every user's messages);
what leaves this module carries no user id, message id or document path.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.cloud import firestore

from machbot_fn.labels import EMOTIONS
from machbot_fn.serving.observe import SERVED, SHADOW, SHADOW_RESULTS, message_key

_NEVER = datetime.min.replace(tzinfo=UTC)


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


def reports(db: firestore.Client, model_id: str | None = None) -> list[Report]:
    """Every report on every user's messages (optionally for one model), oldest first."""
    query = db.collection_group("messages").where(filter=firestore.FieldFilter("feedback.label", "in", list(EMOTIONS)))
    messages = [(snap.reference.path, snap.to_dict() or {}) for snap in query.stream()]
    if model_id is not None:
        messages = [(path, d) for path, d in messages if _classifier_id(d) == model_id]
    # The shadows' verdicts on these messages, in one batched read.
    refs = [db.collection(SHADOW_RESULTS).document(message_key(path)) for path, _ in messages]
    shadows = {snap.id: snap.to_dict() for snap in db.get_all(refs) if snap.exists} if refs else {}
    found = [_report(data, shadows.get(ref.id)) for (_, data), ref in zip(messages, refs, strict=True)]
    return sorted((r for r in found if r is not None), key=lambda r: r.reported_at or _NEVER)


def _classifier_id(message: dict[str, Any]) -> Any:
    return ((message.get("servedBy") or {}).get("classifier") or {}).get("id")


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
