"""What researchers learn from traffic: per-version counters and the shadow's verdicts.

`after_answer` runs after the answer is written (the user never waits for it) and may not fail a
message: a lost observation is logged, not retried. It counts the version that answered (latency,
confidence); if a shadow is set, the shadow classifies the same text and its result goes to
`shadowResults/{key}` (admin only: the user's document never shows it) and to its own counters.

Counters live in `modelStats/{model}@{version}@{mode}@{shard}` (admin only; the rules deny
clients). `mode` is `served` (the version answered: CURRENT or canary) or `shadow` (it only
watched). Each write increments one of `SHARDS` documents picked at random, because a single
Firestore document sustains about one write per second and every message adds to these counts;
readers sum the shards (`machbot_fn.admin.stats`, `machbot models stats`). Fields: `count`,
`latencyMsSum`, `confidenceSum`, and for shadows `agreeWithServed` (same label as the version that
answered). Agreement with users' reports is not counted here but computed from the reports when
the stats are read (`machbot_fn.admin.feedback`), so it is exact however often events repeat.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from typing import Any

from google.cloud import firestore

from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.registry import ServedModel
from machbot_fn.serving.answer import Answer

log = logging.getLogger(__name__)
SHADOW_RESULTS = "shadowResults"
STATS = "modelStats"
SHARDS = 8
SERVED, SHADOW = "served", "shadow"
COUNTERS = ("count", "latencyMsSum", "confidenceSum", "agreeWithServed")


def message_key(path: str) -> str:
    """A document id for a message's records: unique per message (ids alone are chosen by clients and
    may repeat across users) without naming the user."""
    return hashlib.sha256(path.encode()).hexdigest()[:32]


def add(db: firestore.Client, model_id: str, version: str, mode: str, **increments: float) -> None:
    """Add `increments` (counter name -> amount) to one shard of (model, version, mode)."""
    unknown = set(increments) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    fields: dict[str, Any] = {"model": model_id, "version": version, "mode": mode}
    fields.update({name: firestore.Increment(amount) for name, amount in increments.items() if amount})
    shard = db.collection(STATS).document(f"{model_id}@{version}@{mode}@{random.randrange(SHARDS)}")
    shard.set(fields, merge=True)


def after_answer(db: firestore.Client, message_path: str, text: str, answer: Answer) -> None:
    """Count the answer for the version that gave it, and let the shadow (if any) classify the text too."""
    try:
        served = answer.classifier
        add(
            db,
            served.id,
            served.version,
            SERVED,
            count=1,
            latencyMsSum=answer.timings.classify_ms,
            confidenceSum=answer.emotion.score,
        )
        if answer.shadow is not None:
            _run_shadow(db, message_key(message_path), text, answer, answer.shadow)
    except Exception:
        log.exception("recording observations for message %s failed", message_key(message_path))


def _run_shadow(
    db: firestore.Client, key: str, text: str, answer: Answer, shadow: ServedModel[EmotionClassifier]
) -> None:
    t0 = time.perf_counter()
    emotion = shadow.runner(text)
    ms = round((time.perf_counter() - t0) * 1000, 2)
    served = answer.classifier
    agrees = emotion.label == answer.emotion.label
    db.collection(SHADOW_RESULTS).document(key).set(
        {
            "model": served.id,
            "version": shadow.version,
            "servedVersion": served.version,
            "label": emotion.label,
            "score": emotion.score,
            "servedLabel": answer.emotion.label,
            "agreesWithServed": agrees,
            "latencyMs": ms,
            "at": firestore.SERVER_TIMESTAMP,
        }
    )
    add(
        db,
        served.id,
        shadow.version,
        SHADOW,
        count=1,
        latencyMsSum=ms,
        confidenceSum=emotion.score,
        agreeWithServed=int(agrees),
    )
