"""One message, end to end: claim -> validate -> models -> classify -> match -> reply -> write, with every
failure accounted for.

`handle_message` is what the Firestore trigger and the sweeper call. It enters each concern once:
lifecycle (claim), contract (parse), the registry (`models_for`: every model the message needs, in
one call), the classifier, sharing.similar (`match`: the message's embedding and the shared thoughts
like it, never an error), serving.reply (`draft`: the pool's human reply for that embedding, else the
T5's), the answer's fields, lifecycle (the final write), observe.
Its outcomes:
- done: `emotion`, `reply`, `servedBy`, `timings`, the similar shared thoughts (`similar`) and
  `status.state = done` in one write;
- a permanent error (bad text, unknown model, unusable model, expired event): `status.state = error`
  and `error {code, message}`, never retried;
- a transient error (bucket or Firestore unreachable): the claim is released and the exception
  re-raised (the trigger logs it). Firestore triggers are not redelivered: the scheduled sweeper
  (`sweep`) re-drives the message; on the last attempt it ends in `error` instead.

`answer` builds the typed `Answer` (serving/answer.py), which is turned into the document's fields
once, in the final write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from google.api_core import exceptions as gexc
from google.cloud import firestore

from machbot_fn.errors import MachbotError, ModelUnavailable, StaleEvent, TransientError
from machbot_fn.labels import ENSEMBLE_ID
from machbot_fn.models.classifier import Emotion
from machbot_fn.models.ensemble import Ensemble
from machbot_fn.models.registry import MessageModels, ModelRegistry
from machbot_fn.serving import lifecycle, observe, reply
from machbot_fn.serving.answer import Answer, Reply, ServedBy, Timings
from machbot_fn.serving.contract import MessageRequest, parse_message
from machbot_fn.settings import Settings
from machbot_fn.sharing import similar
from machbot_fn.sharing.pool_sync import LivePool

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What a function instance builds once and reuses for every message."""

    db: firestore.Client
    registry: ModelRegistry
    settings: Settings
    handled: int = 0  # messages answered by this instance; the first one is the cold start
    pool: LivePool = field(init=False)  # the instance's copy of the shared pool, for matching

    def __post_init__(self) -> None:
        self.pool = LivePool(self.db, self.settings.sharing.refresh_seconds)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _history(db: firestore.Client, ref: firestore.DocumentReference, request: MessageRequest, turns: int) -> list[str]:
    """The last `turns` texts of this conversation before this message, oldest first (user, reply, ...)."""
    if not request.conversation_id or not request.created_at or turns <= 0:
        return []
    earlier = (
        ref.parent.where(filter=firestore.FieldFilter("conversationId", "==", request.conversation_id))
        .where(filter=firestore.FieldFilter("createdAt", "<", request.created_at))
        .order_by("createdAt", direction=firestore.Query.DESCENDING)
        .limit(turns)
    )
    texts: list[str] = []
    for snap in reversed(list(earlier.stream())):
        data = snap.to_dict() or {}
        if isinstance(data.get("text"), str):
            texts.append(data["text"])
        reply = data.get("reply")
        if isinstance(reply, dict) and isinstance(reply.get("text"), str):
            texts.append(reply["text"])
    return texts[-turns:]


def _classifier(model_id: str, models: MessageModels) -> tuple[Callable[[str], Emotion], ServedBy]:
    """What classifies the message, and how `servedBy.classifier` names it."""
    if model_id == ENSEMBLE_ID:
        return Ensemble(models.classifiers), ServedBy.ensemble(models.classifiers)
    model = models.classifiers[0]
    return model.runner, ServedBy(model.manifest.id, model.version, model.main_sha256, models.route)


def answer(services: Services, ref: firestore.DocumentReference, request: MessageRequest) -> Answer:
    """Classify, find the shared thoughts like it (never an error), and reply."""
    t0 = time.perf_counter()
    cold = services.handled == 0
    models = services.registry.models_for(request.model, request.owner)
    classify, classified_by = _classifier(request.model, models)
    t1 = time.perf_counter()
    emotion = classify(request.text)
    t2 = time.perf_counter()
    embedder = models.embedder
    found = similar.match(
        services.pool,
        services.settings.sharing,
        embedder.runner if embedder else None,
        request.owner,
        request.text,
        emotion.label,
    )
    t3 = time.perf_counter()
    replier = models.replier
    drafted = reply.draft(
        replier.runner,
        request.text,
        emotion,
        found.vector if found else None,
        embedder.manifest.versioned_id if embedder else None,
        ref.path,
        lambda: _history(services.db, ref, request, services.settings.history_turns),
        reads=models.classifiers[0].runner,  # checks a T5 rewrite's emotion (one model, even for the ensemble)
    )
    t4 = time.perf_counter()
    services.handled += 1
    replied_by = ServedBy(replier.manifest.id, replier.version, replier.main_sha256)
    return Answer(
        emotion=emotion,
        classifier=classified_by,
        reply=Reply(drafted.text, drafted.source, replied_by, drafted.context_turns),
        timings=Timings(_ms(t1 - t0), _ms(t2 - t1), _ms(t4 - t3), _ms(t4 - t0), cold),
        shadow=models.shadow,
        similar=found,
    )


def _is_stale(event_time: datetime | None, cutoff_seconds: float) -> bool:
    if event_time is None:
        return False
    if event_time.tzinfo is None:
        event_time = event_time.replace(tzinfo=UTC)
    return datetime.now(UTC) - event_time > timedelta(seconds=cutoff_seconds)


def handle_message(services: Services, ref: firestore.DocumentReference, event_time: datetime | None = None) -> str:
    """Process one delivery of a message; return its outcome ("done", "error", or why it was skipped)."""
    settings = services.settings
    try:
        claim = lifecycle.claim(services.db, ref, settings.lease_seconds, settings.max_attempts)
    except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
        raise TransientError(f"Firestore unavailable while claiming {ref.path}: {exc}") from exc
    if isinstance(claim, lifecycle.Skip):
        log.info("skip %s: %s", ref.path, claim.value)
        return claim.value

    def fail(code: str, message: str) -> str:
        return "error" if lifecycle.fail(services.db, ref, claim, code, message) else "superseded"

    if _is_stale(event_time, settings.event_cutoff_seconds):
        stale = StaleEvent("machbot could not answer in time; please send your message again")
        return fail(stale.code, str(stale))
    try:
        request = parse_message(ref.path, claim.data)
        result = answer(services, ref, request)
    except TransientError as exc:
        if claim.attempt >= settings.max_attempts:
            log.error("giving up on %s after %d attempts: %s", ref.path, claim.attempt, exc)
            return fail(ModelUnavailable.code, "the model store could not be reached; please try again later")
        lifecycle.release(services.db, ref, claim)
        raise
    except MachbotError as exc:
        return fail(exc.code, str(exc))
    except Exception:
        log.exception("unexpected failure on %s", ref.path)
        return fail("internal", "machbot hit an internal error; please try again")
    if not lifecycle.done(services.db, ref, claim, result.to_fields()):
        return "superseded"
    observe.after_answer(services.db, ref.path, request.text, result)
    return "done"


def sweep(
    services: Services, window_hours: float = 2.0, grace_seconds: float | None = None, unclaimed_only: bool = False
) -> dict[str, int]:
    """Re-drive messages nobody finished: expired leases and messages never claimed. Returns outcome counts."""
    now = datetime.now(UTC)
    grace = grace_seconds if grace_seconds is not None else services.settings.lease_seconds
    counts: dict[str, int] = {}
    for snap in lifecycle.stale_messages(
        services.db,
        now - timedelta(hours=window_hours),
        now - timedelta(seconds=grace),
        include_expired_leases=not unclaimed_only,
    ):
        data = snap.to_dict() or {}
        created = data.get("createdAt") if isinstance(data.get("createdAt"), datetime) else None
        try:
            outcome = handle_message(services, snap.reference, created)
        except TransientError as exc:
            log.warning("sweep: %s still failing: %s", snap.reference.path, exc)
            outcome = "retry"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
