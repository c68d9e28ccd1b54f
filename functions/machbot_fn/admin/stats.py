"""Per-version serving metrics as researchers read them: the shards summed, with users' agreement.

The function only adds to the counters (`machbot_fn.serving.observe`); reading and summing them is
for the CLI (`machbot models stats`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from google.cloud import firestore

from machbot_fn.admin.feedback import agreement, reports
from machbot_fn.serving.observe import COUNTERS, SERVED, SHADOW, STATS


@dataclass(frozen=True)
class VersionStats:
    model: str
    version: str
    mode: str
    count: int
    mean_latency_ms: float | None
    mean_confidence: float | None
    feedback_count: int
    feedback_agreement: float | None  # share of reported messages where this version had the user's label
    agree_with_served: float | None  # shadows: share of messages with the same label as the served version

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def summarise(
    shards: list[dict[str, Any]], feedback: dict[tuple[str, str, str], tuple[int, int]] | None = None
) -> list[VersionStats]:
    """Sum shard documents into one row per (model, version, mode), with `feedback` (key -> reports,
    agreeing) from `feedback.agreement`."""
    feedback = feedback or {}
    totals: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0.0))
    for doc in shards:
        key = (doc.get("model", ""), doc.get("version", ""), doc.get("mode", SERVED))
        for name in COUNTERS:
            totals[key][name] += float(doc.get(name) or 0)
    for key in feedback:  # a version may have reports from before its counters existed
        totals.setdefault(key, dict.fromkeys(COUNTERS, 0.0))
    rows = []
    for (model, version, mode), t in sorted(totals.items()):
        reported, agreed = feedback.get((model, version, mode), (0, 0))
        rows.append(
            VersionStats(
                model=model,
                version=version,
                mode=mode,
                count=int(t["count"]),
                mean_latency_ms=_ratio(t["latencyMsSum"], t["count"]),
                mean_confidence=_ratio(t["confidenceSum"], t["count"]),
                feedback_count=reported,
                feedback_agreement=_ratio(agreed, reported),
                agree_with_served=_ratio(t["agreeWithServed"], t["count"]) if mode == SHADOW else None,
            )
        )
    return rows


def read_stats(db: firestore.Client, model_id: str | None = None) -> list[VersionStats]:
    """Per-version metrics, for one model or all, with agreement with users' reports."""
    query: Any = db.collection(STATS)
    if model_id:
        query = query.where(filter=firestore.FieldFilter("model", "==", model_id))
    shards = [snap.to_dict() or {} for snap in query.stream()]
    return summarise(shards, agreement(reports(db, model_id)))
