"""'Others felt this too': the shared thoughts written onto every answered message.

`match` is the one call a message makes here, once its emotion is known and before its reply: it
embeds the message (its anonymised text) once and searches the pool for up to `similar_count`
thoughts with the message's emotion and the closest meaning (cosine similarity of sentence
embeddings), never the author's own, never hidden, none scoring below `min_score`. The result
carries the message's vector too, for whatever else needs the message's meaning. The thoughts go
into the message's final write, beside the reply:

    similar:    [{id, text, score}]   best first; no user id, only the anonymised text
    similarIds: [id]                  the same ids, so that a thought that leaves the pool can be
                                      taken off every message showing it (sharing.retract)
    timings.embedMs, timings.matchMs  (and totalMs includes them)

(written by machbot_fn.serving.answer, from the `Similar` found here).

Matching is an extra and never raises: when it cannot run (no embedder: the registry pauses it
after a failure to load) or fails (Firestore unreachable), the reply is written without `similar`
and the failure is logged; the reply is never lost for it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.settings import SharingSettings
from machbot_fn.sharing.anonymise import anonymise
from machbot_fn.sharing.pool_index import Match
from machbot_fn.sharing.pool_sync import LivePool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Similar:
    """The shared thoughts found for a message, best first, the time spent finding them, and the message's
    embedding (a unit vector of the anonymised text)."""

    found: tuple[Match, ...]
    embed_ms: float
    match_ms: float
    vector: np.ndarray = field(compare=False, repr=False)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def match(
    pool: LivePool,
    settings: SharingSettings,
    embedder: SentenceEmbedder | None,
    owner: str,
    text: str,
    emotion: str,
) -> Similar | None:
    """The shared thoughts like `owner`'s message (never their own); None when matching cannot run (no
    embedder, no emotion of the six) or failed (logged)."""
    if embedder is None or emotion not in EMOTIONS:
        return None
    try:
        t0 = time.perf_counter()
        vector = embedder(anonymise(text))
        t1 = time.perf_counter()
        found = pool.search(
            emotion, vector, k=settings.similar_count, exclude_owner=owner, min_score=settings.min_score
        )
        t2 = time.perf_counter()
    except Exception:
        log.exception("matching failed; the reply goes out without similar thoughts")
        return None
    return Similar(tuple(found), _ms(t1 - t0), _ms(t2 - t1), vector)
