"""One message, end to end: claim -> validate -> classify -> reply -> write, with every failure accounted for.

`handle_message` is what the Firestore trigger and the sweeper call. Its outcomes:
- done: `emotion`, `reply`, `servedBy`, `timings`, the similar shared thoughts (`similar`) and
  `status.state = done` in one write;
- a permanent error (bad text, unknown model, unusable model, expired event): `status.state = error`
  and `error {code, message}`, never retried;
- a transient error (bucket or Firestore unreachable): the claim is released and the exception
  re-raised so the platform retries; on the last attempt it ends in `error` instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from machbot_fn.errors import MachbotError, ModelUnavailable, TransientError, UnknownModel
from machbot_fn.labels import ENSEMBLE_ID, REPLIER_ID
from machbot_fn.models import ensemble
from machbot_fn.models.manifest import CLASSIFICATION
from machbot_fn.models.registry import ModelRegistry, ServedModel
from machbot_fn.serving import lifecycle, observe
from machbot_fn.serving.contract import MessageRequest, parse_message
from machbot_fn.settings import Settings
from machbot_fn.sharing import similar

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What a function instance builds once and reuses for every message."""

    db: firestore.Client
    registry: ModelRegistry
    settings: Settings
    handled: int = 0  # messages answered by this instance; the first one is the cold start


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


@dataclass(frozen=True)
class Classifier:
    """What classifies one message, how `servedBy.classifier` names it, and who watches in shadow."""

    classify: Callable[[str], Any]
    served_by: dict[str, Any]
    shadow: ServedModel | None = None


@dataclass(frozen=True)
class Answer:
    fields: dict[str, Any]  # the function-owned fields of the done message
    shadow: ServedModel | None = None


def owner_id(ref: firestore.DocumentReference) -> str | None:
    """The uid in `users/{uid}/messages/{id}`."""
    user = ref.parent.parent
    return user.id if user is not None else None


def choose_classifier(services: Services, model_id: str, user_id: str | None) -> Classifier:
    if model_id == ENSEMBLE_ID:
        members = ensemble.load(services.registry)
        return Classifier(members, members.served_by())
    route = services.registry.route(model_id, user_id)
    model = route.model
    if model.manifest.task != CLASSIFICATION:
        raise UnknownModel(f"{model_id!r} is a {model.manifest.task} model, not an emotion classifier")
    served_by = {"id": model.manifest.id, "version": model.version, "sha256": model.main_sha256, "route": route.role}
    return Classifier(model.runner, served_by, route.shadow)


def answer(services: Services, ref: firestore.DocumentReference, request: MessageRequest) -> Answer:
    """Classify and reply; return the function-owned fields of a done message."""
    t0 = time.perf_counter()
    cold = services.handled == 0
    classifier = choose_classifier(services, request.model, owner_id(ref))
    replier = services.registry.get(REPLIER_ID)
    t1 = time.perf_counter()
    emotion = classifier.classify(request.text)
    t2 = time.perf_counter()
    history = _history(services.db, ref, request, services.settings.history_turns)
    reply = replier.runner.generate(request.text, emotion.label, history)
    t3 = time.perf_counter()
    services.handled += 1
    fields = {
        "emotion": emotion.to_dict(),
        "reply": {
            "text": reply.text,
            "model": {"id": replier.manifest.id, "version": replier.version},
            "generated": reply.generated,  # False: the model produced nothing and a fixed reply stood in
            "contextTurns": len(history),
        },
        "servedBy": {
            "classifier": classifier.served_by,
            "replier": {"id": replier.manifest.id, "version": replier.version},
        },
        "timings": {
            "fetchMs": _ms(t1 - t0),
            "classifyMs": _ms(t2 - t1),
            "generateMs": _ms(t3 - t2),
            "totalMs": _ms(t3 - t0),
            "coldStart": cold,
        },
    }
    return Answer(fields, classifier.shadow)


def _observe(services: Services, ref: firestore.DocumentReference, request: MessageRequest, result: Answer) -> None:
    emotion, classifier = result.fields["emotion"], result.fields["servedBy"]["classifier"]
    observe.after_answer(
        services.db,
        observe.Answered(
            message_key=observe.message_key(ref.path),
            text=request.text,
            model_id=classifier["id"],
            version=classifier["version"],
            label=emotion["label"],
            confidence=emotion["score"],
            classify_ms=result.fields["timings"]["classifyMs"],
            shadow=result.shadow,
        ),
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

    def end(fields: dict[str, Any], outcome: str) -> str:
        written = lifecycle.finish(services.db, ref, claim, fields)
        return outcome if written else "superseded"

    if _is_stale(event_time, settings.event_cutoff_seconds):
        return end(
            lifecycle.error_fields(
                "expired", "machbot could not answer in time; please send your message again", claim.attempt
            ),
            "error",
        )
    try:
        request = parse_message(claim.data)
        result = answer(services, ref, request)
    except TransientError as exc:
        if claim.attempt >= settings.max_attempts:
            log.error("giving up on %s after %d attempts: %s", ref.path, claim.attempt, exc)
            return end(
                lifecycle.error_fields(
                    ModelUnavailable.code, "the model store could not be reached; please try again later", claim.attempt
                ),
                "error",
            )
        lifecycle.release(services.db, ref, claim)
        raise
    except MachbotError as exc:
        return end(lifecycle.error_fields(exc.code, str(exc), claim.attempt), "error")
    except Exception:
        log.exception("unexpected failure on %s", ref.path)
        return end(
            lifecycle.error_fields("internal", "machbot hit an internal error; please try again", claim.attempt),
            "error",
        )
    # Shared thoughts like this one go into the same write; matching never fails or holds up the reply.
    fields = similar.with_similar(services.db, services.registry, ref.path, request.text, result.fields)
    outcome = end(lifecycle.done_fields(claim.attempt, fields), "done")
    if outcome == "done":
        _observe(services, ref, request, result)
    return outcome


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
