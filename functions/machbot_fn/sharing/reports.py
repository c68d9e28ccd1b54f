"""Reports on shared thoughts: enough of them hide a thought from everyone's matches.

A signed-in user reports a thought by creating `thoughts/{id}/reports/{their uid}` with a reason
from a fixed list (firestore.rules checks it and allows one report per user and thought). The function
then counts the thought's reports (counting, not adding one, so a duplicate event cannot count
twice) into its index entry and, from `report_threshold` on, hides the thought: the public copy
gets `hidden: true` (the rules stop serving it), the index entry `active: false` (every instance
drops it from matching),
the author's message `shareBlocked: true` (it is not shared again), and the thought is taken off
every message showing it. The hidden copy and its reports stay for review until the author
unshares it, which deletes them.
"""

from __future__ import annotations

import logging

from google.cloud import firestore

from machbot_fn.sharing.pool import REPORTS, index_ref, thought_ref
from machbot_fn.sharing.share import retract

log = logging.getLogger(__name__)
COUNTED, HIDDEN, GONE = "counted", "hidden", "gone"


def report_count(db: firestore.Client, thought_id: str) -> int:
    (result,) = thought_ref(db, thought_id).collection(REPORTS).count().get()
    return int(result[0].value)


def handle_report(db: firestore.Client, thought_id: str, threshold: int) -> str:
    """Record a new report on `thought_id`; hide the thought once `threshold` users reported it."""
    count = report_count(db, thought_id)
    public, private = thought_ref(db, thought_id), index_ref(db, thought_id)

    @firestore.transactional
    def run(tx: firestore.Transaction) -> tuple[str, bool]:
        """(outcome, whether this call hid the thought)"""
        snap = public.get(transaction=tx)
        if not snap.exists:
            return GONE, False  # unshared meanwhile
        entry = private.get(transaction=tx).to_dict() or {}
        if (snap.to_dict() or {}).get("hidden") is True or count < threshold:
            tx.set(private, {"reports": count}, merge=True)
            return (HIDDEN if count >= threshold else COUNTED), False
        message = entry.get("message")
        message_ref = db.document(message) if isinstance(message, str) else None
        message_exists = message_ref is not None and message_ref.get(transaction=tx).exists
        tx.update(public, {"hidden": True})
        private_fields = {"reports": count, "active": False, "hidden": True, "updatedAt": firestore.SERVER_TIMESTAMP}
        tx.set(private, private_fields, merge=True)
        if message_ref is not None and message_exists:
            tx.update(message_ref, {"shareBlocked": True})
        return HIDDEN, True

    outcome: str
    hid: bool
    outcome, hid = run(db.transaction())
    if hid:
        retract(db, thought_id)
        log.info("thought %s hidden after %d reports", thought_id, count)
    return outcome
