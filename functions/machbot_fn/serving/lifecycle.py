"""The message state machine: pending -> processing -> done | error, safe under duplicate delivery.

A handler first *claims* the message in a transaction (pending, or processing with an expired
lease -> processing with a fresh lease and attempt + 1). Only the claim holder may finish it, and
finishing is again a transaction that checks the claim is still ours, so a reply is never written
twice even when two deliveries race or a presumed-dead handler wakes up late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

PENDING, PROCESSING, DONE, ERROR = "pending", "processing", "done", "error"
FINAL_STATES = frozenset({DONE, ERROR})


class Skip(StrEnum):
    """Why a delivery did nothing."""

    GONE = "gone"  # the document was deleted
    FINISHED = "finished"  # already done or error
    LEASED = "leased"  # another handler holds a live lease
    EXHAUSTED = "exhausted"  # too many attempts: ended in error now
    CONTENDED = "contended"  # concurrent deliveries fought over the claim and this one lost; the
    # winner answers, and if it dies the sweeper re-drives the message


@dataclass(frozen=True)
class Claim:
    data: dict[str, Any]
    attempt: int
    lease_until: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _status(data: dict[str, Any]) -> dict[str, Any]:
    status = data.get("status")
    return status if isinstance(status, dict) else {}


def _as_utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _error_fields(code: str, message: str, attempt: int) -> dict[str, Any]:
    return {
        "status": {"state": ERROR, "attempt": attempt, "updatedAt": firestore.SERVER_TIMESTAMP, "leaseUntil": None},
        "error": {"code": code, "message": message[:500]},
    }


@dataclass(frozen=True)
class Take:
    """The decision to process: the attempt number and the lease's end."""

    attempt: int
    lease_until: datetime


@dataclass(frozen=True)
class GiveUp:
    """Too many attempts: end the message in error now."""

    attempts: int


def decide(data: dict[str, Any], now: datetime, lease_seconds: float, max_attempts: int) -> Take | GiveUp | Skip:
    """The state machine's one decision, as a pure function of the document and the clock."""
    status = _status(data)
    state = status.get("state", PENDING)
    if state in FINAL_STATES:
        return Skip.FINISHED
    lease = _as_utc(status.get("leaseUntil"))
    if state == PROCESSING and lease is not None and lease > now:
        return Skip.LEASED
    attempt = int(status.get("attempt") or 0) + 1
    if attempt > max_attempts:
        return GiveUp(attempt - 1)
    return Take(attempt, now + timedelta(seconds=lease_seconds))


def claim(
    db: firestore.Client, ref: firestore.DocumentReference, lease_seconds: float, max_attempts: int
) -> Claim | Skip:
    """Take the message for processing in a transaction, or say why not."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> Claim | Skip:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            return Skip.GONE
        data = snap.to_dict() or {}
        decision = decide(data, _now(), lease_seconds, max_attempts)
        if isinstance(decision, Skip):
            return decision
        if isinstance(decision, GiveUp):
            message = f"gave up after {decision.attempts} attempts; please resend"
            tx.update(ref, _error_fields("internal", message, decision.attempts))
            return Skip.EXHAUSTED
        tx.update(
            ref,
            {
                "status": {
                    "state": PROCESSING,
                    "attempt": decision.attempt,
                    "updatedAt": firestore.SERVER_TIMESTAMP,
                    "leaseUntil": decision.lease_until,
                }
            },
        )
        return Claim(data, decision.attempt, decision.lease_until)

    try:
        outcome: Claim | Skip = run(db.transaction())
        return outcome
    except (gexc.Aborted, gexc.Cancelled):
        # Lock contention (the emulator also cancels the waiting call). Safe to stand back: the
        # message is either claimed by the winner or still unclaimed, and the sweeper finds it.
        return Skip.CONTENDED
    except ValueError as exc:
        # google-cloud-firestore gives up on a contended transaction with a bare ValueError.
        if str(exc).startswith("Failed to commit transaction"):
            return Skip.CONTENDED
        raise


def _finish(db: firestore.Client, ref: firestore.DocumentReference, claimed: Claim, fields: dict[str, Any]) -> bool:
    """Write the outcome if our claim still stands; False means another handler took over (write dropped)."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> bool:
        snap = ref.get(transaction=tx)
        if not snap.exists:
            return False
        status = _status(snap.to_dict() or {})
        if status.get("state") != PROCESSING or status.get("attempt") != claimed.attempt:
            return False
        tx.update(ref, fields)
        return True

    written: bool = run(db.transaction())
    return written


def done(db: firestore.Client, ref: firestore.DocumentReference, claimed: Claim, answer: dict[str, Any]) -> bool:
    """End the message in `done` with the answer's fields, in one write, if our claim still stands."""
    status = {"state": DONE, "attempt": claimed.attempt, "updatedAt": firestore.SERVER_TIMESTAMP, "leaseUntil": None}
    return _finish(db, ref, claimed, {**answer, "status": status})


def fail(db: firestore.Client, ref: firestore.DocumentReference, claimed: Claim, code: str, message: str) -> bool:
    """End the message in `error {code, message}` if our claim still stands."""
    return _finish(db, ref, claimed, _error_fields(code, message, claimed.attempt))


def release(db: firestore.Client, ref: firestore.DocumentReference, claimed: Claim) -> None:
    """Give a claim back after a transient failure so the next delivery or the sweeper can retry at once."""

    @firestore.transactional
    def run(tx: firestore.Transaction) -> None:
        snap = ref.get(transaction=tx)
        status = _status(snap.to_dict() or {}) if snap.exists else {}
        if status.get("state") == PROCESSING and status.get("attempt") == claimed.attempt:
            tx.update(ref, {"status.leaseUntil": _now(), "status.updatedAt": firestore.SERVER_TIMESTAMP})

    run(db.transaction())


def stale_messages(
    db: firestore.Client,
    created_after: datetime,
    created_before: datetime,
    limit: int = 100,
    include_expired_leases: bool = True,
) -> list[firestore.DocumentSnapshot[firestore.DocumentReference]]:
    """Messages stuck in processing with an expired lease, or never claimed at all.

    Unclaimed messages have no `status` (Firestore cannot query a missing field), so those are found
    by scanning the creation window [created_after, created_before): bounded by time, not by users.
    """
    messages = db.collection_group("messages")
    expired = (
        messages.where(filter=firestore.FieldFilter("status.state", "==", PROCESSING))
        .where(filter=firestore.FieldFilter("status.leaseUntil", "<", _now()))
        .limit(limit)
    )
    recent = (
        messages.where(filter=firestore.FieldFilter("createdAt", ">=", created_after))
        .where(filter=firestore.FieldFilter("createdAt", "<", created_before))
        .order_by("createdAt")
        .limit(limit * 10)
    )
    found = {s.reference.path: s for s in expired.stream()} if include_expired_leases else {}
    for snap in recent.stream():
        if "status" not in (snap.to_dict() or {}):
            found.setdefault(snap.reference.path, snap)
    return list(found.values())[:limit]
