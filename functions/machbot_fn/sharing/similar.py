"""'Others felt this too': the shared thoughts written onto every answered message.

Up to `similar_count` thoughts from the pool with the message's emotion and the closest meaning
(cosine similarity of sentence embeddings), never the author's own, never hidden, none scoring
below `min_score`. They are added to the message's final write, beside the reply:

    similar:    [{id, text, score}]   best first; no user id, only the anonymised text
    similarIds: [id]                  the same ids, so that a thought that leaves the pool can be
                                      taken off every message showing it (sharing.retract)
    timings.embedMs, timings.matchMs  (and totalMs includes them)

Matching is an extra: when it fails (no embedder published, the bucket or Firestore unreachable),
the reply is written without `similar` and the failure is logged; the reply is never lost or
delayed for it. After the embedder fails to load, matching pauses for `embedder_retry_seconds`
rather than wait on the bucket for every message.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from google.cloud import firestore

from machbot_fn.errors import MachbotError
from machbot_fn.labels import EMBEDDER_ID, EMOTIONS
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.manifest import EMBEDDING
from machbot_fn.models.registry import ModelRegistry
from machbot_fn.sharing.anonymise import anonymise
from machbot_fn.sharing.pool import owner_of
from machbot_fn.sharing.pool_index import Match
from machbot_fn.sharing.pool_sync import LivePool
from machbot_fn.sharing.settings import SharingSettings

log = logging.getLogger(__name__)


def load_embedder(registry: ModelRegistry) -> SentenceEmbedder:
    """The embedder serving now; UnknownModel / ModelUnavailable / TransientError otherwise."""
    model = registry.get(EMBEDDER_ID)
    if model.manifest.task != EMBEDDING:
        raise MachbotError(f"{EMBEDDER_ID!r} is a {model.manifest.task} model, not a sentence embedder")
    return model.runner


class Matcher:
    """One instance's matching: its copy of the pool and access to the embedder."""

    def __init__(self, db: firestore.Client, registry: ModelRegistry, settings: SharingSettings) -> None:
        self.settings = settings
        self.registry = registry
        self.pool = LivePool(db, settings.refresh_seconds)
        self._paused_until = float("-inf")

    def embedder(self) -> SentenceEmbedder | None:
        if time.monotonic() < self._paused_until:
            return None
        try:
            return load_embedder(self.registry)
        except MachbotError as exc:
            self._paused_until = time.monotonic() + self.settings.embedder_retry_seconds
            log.warning("matching paused for %.0f s: %s", self.settings.embedder_retry_seconds, exc)
            return None

    def match(self, message_path: str, text: str, emotion: str) -> tuple[list[Match], dict[str, float]] | None:
        """The similar thoughts and the time spent (ms), or None when no embedder can serve."""
        embedder = self.embedder()
        if embedder is None:
            return None
        t0 = time.perf_counter()
        vector = embedder(anonymise(text))
        t1 = time.perf_counter()
        found = self.pool.search(
            emotion,
            vector,
            k=self.settings.similar_count,
            exclude_owner=owner_of(message_path),
            min_score=self.settings.min_score,
        )
        t2 = time.perf_counter()
        return found, {"embedMs": round((t1 - t0) * 1000, 2), "matchMs": round((t2 - t1) * 1000, 2)}


_matchers: dict[tuple[int, int], Matcher] = {}
_matchers_lock = threading.Lock()


def matcher_for(db: firestore.Client, registry: ModelRegistry) -> Matcher:
    """The instance's matcher for this Firestore client and registry, built on first use."""
    with _matchers_lock:
        matcher = _matchers.get((id(db), id(registry)))
        if matcher is None or matcher.pool.db is not db or matcher.registry is not registry:
            matcher = _matchers[(id(db), id(registry))] = Matcher(db, registry, SharingSettings.from_env())
        return matcher


def similar_fields(found: list[Match]) -> dict[str, Any]:
    return {
        "similar": [{"id": m.id, "text": m.text, "score": round(m.score, 3)} for m in found],
        "similarIds": [m.id for m in found],
    }


def with_similar(
    db: firestore.Client, registry: ModelRegistry, message_path: str, text: str, result: dict[str, Any]
) -> dict[str, Any]:
    """`result` (an answered message's fields) plus its similar thoughts; `result` itself if matching fails."""
    emotion = (result.get("emotion") or {}).get("label")
    if emotion not in EMOTIONS:
        return result
    try:
        matched = matcher_for(db, registry).match(message_path, text, emotion)
    except Exception:
        log.exception("matching failed for %s; the reply goes out without similar thoughts", message_path)
        return result
    if matched is None:
        return result
    found, spent = matched
    timings = dict(result.get("timings") or {})
    if timings:
        timings.update(spent)
        timings["totalMs"] = round(timings.get("totalMs", 0.0) + spent["embedMs"] + spent["matchMs"], 2)
    return {**result, **similar_fields(found), **({"timings": timings} if timings else {})}
