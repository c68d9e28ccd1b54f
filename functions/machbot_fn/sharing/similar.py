"""'Others felt this too': the shared thoughts written onto every answered message.

Up to `similar_count` thoughts from the pool with the message's emotion and the closest meaning
(cosine similarity of sentence embeddings), never the author's own, never hidden, none scoring
below `min_score`. They are added to the message's final write, beside the reply:

    similar:    [{id, text, score}]   best first; no user id, only the anonymised text
    similarIds: [id]                  the same ids, so that a thought that leaves the pool can be
                                      taken off every message showing it (sharing.retract)
    timings.embedMs, timings.matchMs  (and totalMs includes them)

(written by machbot_fn.serving.answer, from the `Similar` found here).

Matching is an extra: when it fails (no embedder published, the bucket or Firestore unreachable),
the reply is written without `similar` and the failure is logged; the reply is never lost or
delayed for it. After the embedder fails to load, matching pauses for `embedder_retry_seconds`
rather than wait on the bucket for every message.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from google.cloud import firestore

from machbot_fn.errors import MachbotError
from machbot_fn.labels import EMOTIONS
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.registry import ModelRegistry
from machbot_fn.settings import SharingSettings
from machbot_fn.sharing.anonymise import anonymise
from machbot_fn.sharing.pool_index import Match
from machbot_fn.sharing.pool_sync import LivePool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Similar:
    """The shared thoughts found for a message, best first, and the time spent finding them."""

    found: tuple[Match, ...]
    embed_ms: float
    match_ms: float


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
            return self.registry.embedder().runner
        except MachbotError as exc:
            self._paused_until = time.monotonic() + self.settings.embedder_retry_seconds
            log.warning("matching paused for %.0f s: %s", self.settings.embedder_retry_seconds, exc)
            return None

    def match(self, owner: str, text: str, emotion: str) -> Similar | None:
        """The similar thoughts, or None when no embedder can serve."""
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
            exclude_owner=owner,
            min_score=self.settings.min_score,
        )
        t2 = time.perf_counter()
        return Similar(tuple(found), round((t1 - t0) * 1000, 2), round((t2 - t1) * 1000, 2))


_matchers: dict[tuple[int, int], Matcher] = {}
_matchers_lock = threading.Lock()


def matcher_for(db: firestore.Client, registry: ModelRegistry, settings: SharingSettings) -> Matcher:
    """The instance's matcher for this Firestore client and registry, built on first use."""
    with _matchers_lock:
        matcher = _matchers.get((id(db), id(registry)))
        if matcher is None or matcher.pool.db is not db or matcher.registry is not registry:
            matcher = _matchers[(id(db), id(registry))] = Matcher(db, registry, settings)
        return matcher


def find_similar(
    db: firestore.Client, registry: ModelRegistry, settings: SharingSettings, owner: str, text: str, emotion: str
) -> Similar | None:
    """The shared thoughts like `owner`'s message (never their own); None (logged) when matching cannot
    run or fails."""
    if emotion not in EMOTIONS:
        return None
    try:
        return matcher_for(db, registry, settings).match(owner, text, emotion)
    except Exception:
        log.exception("matching failed; the reply goes out without similar thoughts")
        return None
