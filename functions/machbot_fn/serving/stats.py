"""Per-version serving metrics: how many messages, how fast, how confident, how often users agreed.

Counters live in `modelStats/{model}@{version}@{mode}@{shard}` (admin only; the rules deny
clients). `mode` is `served` (the version answered: CURRENT or canary) or `shadow` (it only
watched). Each write increments one of `SHARDS` documents picked at random, because a single
Firestore document sustains about one write per second and every message adds to these counts;
readers sum the shards (`machbot_fn.admin.stats`, `machbot models stats`).

Fields: `count`, `latencyMsSum`, `confidenceSum`, and for shadows `agreeWithServed` (same label as
the version that answered). Feedback agreement is not counted here but computed from the users'
reports when the stats are read (`machbot_fn.admin.feedback`), so it is exact however often events repeat.
"""

from __future__ import annotations

import random
from typing import Any

from google.cloud import firestore

COLLECTION = "modelStats"
SHARDS = 8
SERVED, SHADOW = "served", "shadow"
COUNTERS = ("count", "latencyMsSum", "confidenceSum", "agreeWithServed")


def _shard_ref(db: firestore.Client, model_id: str, version: str, mode: str) -> firestore.DocumentReference:
    shard = random.randrange(SHARDS)
    return db.collection(COLLECTION).document(f"{model_id}@{version}@{mode}@{shard}")


def add(db: firestore.Client, model_id: str, version: str, mode: str, **increments: float) -> None:
    """Add `increments` (counter name -> amount) to one shard of (model, version, mode)."""
    unknown = set(increments) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    fields: dict[str, Any] = {"model": model_id, "version": version, "mode": mode}
    fields.update({name: firestore.Increment(amount) for name, amount in increments.items() if amount})
    _shard_ref(db, model_id, version, mode).set(fields, merge=True)
