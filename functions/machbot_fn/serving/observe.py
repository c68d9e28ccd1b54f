"""What researchers learn from traffic: per-version stats and the shadow's verdicts.

`after_answer` runs after the answer is written (the user never waits for it) and may not fail a
message: a lost observation is logged, not retried. It counts the version that answered (latency,
confidence); if a shadow is set, the shadow classifies the same text and its result goes to
`shadowResults/{key}` (admin only: the user's document never shows it) and to its own stats.
Agreement with users' reports is computed when stats are read (`machbot_fn.admin.feedback`), from the reports.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from google.cloud import firestore

from machbot_fn.models.registry import ServedModel
from machbot_fn.serving import stats as serving_stats

log = logging.getLogger(__name__)
SHADOW_RESULTS = "shadowResults"


def message_key(path: str) -> str:
    """A document id for a message's records: unique per message (ids alone are chosen by clients and
    may repeat across users) without naming the user."""
    return hashlib.sha256(path.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Answered:
    """What the pipeline knows once a message is answered."""

    message_key: str  # message_key(the message's path)
    text: str
    model_id: str  # the id the user chose (a classifier or `ensemble`)
    version: str  # the version that answered
    label: str
    confidence: float
    classify_ms: float
    shadow: ServedModel | None = None


def after_answer(db: firestore.Client, answered: Answered) -> None:
    try:
        serving_stats.add(
            db,
            answered.model_id,
            answered.version,
            serving_stats.SERVED,
            count=1,
            latencyMsSum=answered.classify_ms,
            confidenceSum=answered.confidence,
        )
        if answered.shadow is not None:
            _run_shadow(db, answered, answered.shadow)
    except Exception:
        log.exception("recording observations for message %s failed", answered.message_key)


def _run_shadow(db: firestore.Client, answered: Answered, shadow: ServedModel) -> None:
    t0 = time.perf_counter()
    emotion = shadow.runner(answered.text)
    ms = round((time.perf_counter() - t0) * 1000, 2)
    agrees = emotion.label == answered.label
    db.collection(SHADOW_RESULTS).document(answered.message_key).set(
        {
            "model": answered.model_id,
            "version": shadow.version,
            "servedVersion": answered.version,
            "label": emotion.label,
            "score": emotion.score,
            "servedLabel": answered.label,
            "agreesWithServed": agrees,
            "latencyMs": ms,
            "at": firestore.SERVER_TIMESTAMP,
        }
    )
    serving_stats.add(
        db,
        answered.model_id,
        shadow.version,
        serving_stats.SHADOW,
        count=1,
        latencyMsSum=ms,
        confidenceSum=emotion.score,
        agreeWithServed=int(agrees),
    )
