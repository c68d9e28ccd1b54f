"""Sharing a message into the pool, and taking it out again, as its owner asks.

The owner sets `share: true` on create, or flips `share` later (the only fields they may change
besides `feedback`). Whenever a message changes, `needs_reconcile` compares what the owner wants
with what is: a done message with `share: true` belongs in the pool, anything else does not, and
`sharedThought` says whether it is there. `reconcile` then closes the gap, in a transaction that
re-reads the message, so duplicate or late events cannot share a message twice or undo a newer
choice:

- share: the anonymised text is embedded, and `thoughts/{id}`, `thoughtIndex/{id}` and the
  message's `sharedThought` are written together (a new random id);
- unshare: the public copy and its reports are deleted, the index entry becomes a tombstone, the
  message loses `sharedThought`, and the thought is taken off every message it was shown on.

A message whose thought was hidden after reports has `shareBlocked` and is not shared again.

Firestore triggers are not redelivered (see the README), so `sweep` (scheduled) redoes what a
failed event left undone: every message still in the pool although its owner turned sharing off
(found by a query, whatever its age), and messages answered in the last hours that were to be
shared and are not.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import firestore

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.registry import ModelRegistry
from machbot_fn.serving.contract import owner_of
from machbot_fn.serving.lifecycle import DONE
from machbot_fn.sharing.anonymise import anonymise
from machbot_fn.sharing.pool import (
    REPORTS,
    THOUGHTS,
    index_doc,
    index_ref,
    public_doc,
    thought_ref,
    tombstone,
)

log = logging.getLogger(__name__)
SHARED, UNSHARED, UNCHANGED = "shared", "unshared", "unchanged"
BATCH = 200


def _emotion(data: dict[str, Any]) -> str | None:
    emotion = data.get("emotion")
    label = emotion.get("label") if isinstance(emotion, dict) else None
    return label if label in EMOTIONS else None


def wants_sharing(data: dict[str, Any]) -> bool:
    """The owner asked to share, and there is an answered message with an emotion to share."""
    status = data.get("status")
    return (
        data.get("share") is True
        and isinstance(status, dict)
        and status.get("state") == DONE
        and isinstance(data.get("text"), str)
        and _emotion(data) is not None
    )


def shared_id(data: dict[str, Any]) -> str | None:
    shared = data.get("sharedThought")
    thought_id = shared.get("id") if isinstance(shared, dict) else None
    return thought_id if isinstance(thought_id, str) and thought_id else None


def needs_reconcile(data: dict[str, Any]) -> bool:
    """Whether the message's place in the pool differs from what its owner wants."""
    shared = shared_id(data) is not None
    if wants_sharing(data):
        return not shared and data.get("shareBlocked") is not True
    return shared


def reconcile(db: firestore.Client, registry: ModelRegistry, ref: firestore.DocumentReference) -> str:
    """Share or unshare the message as its owner wants now; returns what was done."""
    data = ref.get().to_dict() or {}
    if not needs_reconcile(data):
        return UNCHANGED
    if wants_sharing(data):
        return share(db, registry, ref, data)
    return unshare(db, ref, shared_id(data) or "")


def share(db: firestore.Client, registry: ModelRegistry, ref: firestore.DocumentReference, data: dict[str, Any]) -> str:
    text, emotion = anonymise(data["text"]), _emotion(data) or ""
    vector = registry.embedder().runner(text)
    thought = db.collection(THOUGHTS).document()  # a fresh random id, unrelated to the message

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        now = ref.get(transaction=tx).to_dict() or {}
        if not (wants_sharing(now) and needs_reconcile(now)):
            return False
        tx.create(thought, public_doc(text, emotion))
        tx.create(index_ref(db, thought.id), index_doc(owner_of(ref.path), ref.path, text, emotion, vector))
        tx.update(ref, {"sharedThought": {"id": thought.id, "sharedAt": firestore.SERVER_TIMESTAMP}})
        return True

    if not run(db.transaction()):
        return UNCHANGED
    log.info("shared %s as thought %s", ref.path, thought.id)
    return SHARED


def unshare(db: firestore.Client, ref: firestore.DocumentReference, thought_id: str) -> str:
    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        now = ref.get(transaction=tx).to_dict() or {}
        if wants_sharing(now) or shared_id(now) != thought_id:
            return False
        tx.delete(thought_ref(db, thought_id))
        tx.set(index_ref(db, thought_id), tombstone())
        tx.update(ref, {"sharedThought": firestore.DELETE_FIELD})
        return True

    if not run(db.transaction()):
        return UNCHANGED
    delete_reports(db, thought_id)
    retract(db, thought_id)
    log.info("unshared thought %s of %s", thought_id, ref.path)
    return UNSHARED


def delete_reports(db: firestore.Client, thought_id: str) -> int:
    """Delete the reports of a thought that left the pool (the parent's deletion leaves them behind)."""
    reports = thought_ref(db, thought_id).collection(REPORTS)
    deleted = 0
    while True:
        batch_refs = [snap.reference for snap in reports.limit(BATCH).stream()]
        if not batch_refs:
            return deleted
        batch = db.batch()
        for report in batch_refs:
            batch.delete(report)
        batch.commit()
        deleted += len(batch_refs)


def retract(db: firestore.Client, thought_id: str) -> int:
    """Take a thought off every message that shows it among its similar thoughts; returns how many."""
    shown = db.collection_group("messages").where(
        filter=firestore.FieldFilter("similarIds", "array_contains", thought_id)
    )
    changed = 0
    for snap in shown.stream():

        @firestore.transactional
        def run(tx: firestore.Transaction, ref: firestore.DocumentReference = snap.reference) -> bool:
            data = ref.get(transaction=tx).to_dict() or {}
            similar = [s for s in data.get("similar") or [] if isinstance(s, dict) and s.get("id") != thought_id]
            ids = [i for i in data.get("similarIds") or [] if i != thought_id]
            if ids == list(data.get("similarIds") or []):
                return False
            tx.update(ref, {"similar": similar, "similarIds": ids})
            return True

        changed += bool(run(db.transaction()))
    return changed


def sweep(db: firestore.Client, registry: ModelRegistry, window_hours: float = 2.0, limit: int = 200) -> dict[str, int]:
    """Reconcile messages whose sharing events failed; returns outcome counts."""
    messages = db.collection_group("messages")
    leaving = (
        messages.where(filter=firestore.FieldFilter("share", "==", False))
        .where(filter=firestore.FieldFilter("sharedThought.id", ">", ""))
        .limit(limit)
    )
    joining = (
        messages.where(filter=firestore.FieldFilter("share", "==", True))
        .where(filter=firestore.FieldFilter("status.state", "==", DONE))
        .where(
            filter=firestore.FieldFilter("status.updatedAt", ">=", datetime.now(UTC) - timedelta(hours=window_hours))
        )
        .limit(limit)
    )
    counts: dict[str, int] = {}
    for snap in [*leaving.stream(), *joining.stream()]:
        if not needs_reconcile(snap.to_dict() or {}):
            continue
        try:
            outcome = reconcile(db, registry, snap.reference)
        except Exception as exc:  # one failure must not stop the others
            log.warning("sharing sweep: %s still failing: %s", snap.reference.path, exc)
            outcome = "failed"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
