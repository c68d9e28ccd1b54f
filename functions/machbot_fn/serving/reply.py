"""Which reply a message gets: what a person answered to the most similar message, refined by the T5
when it was trained to, else the T5's own.

Retrieval comes first: a from-scratch T5 trained on this little dialogue writes few distinct sentences,
while the pool holds tens of thousands of human replies, each read by our classifier so that none of
the opposite polarity to the message is ever chosen (machbot_fn.models.reply_pool). A T5 trained to
retrieve and refine (`Replier.refines`) then rewrites the chosen reply for this message (REFINED);
an earlier T5 serves the human reply as it is (POOL). The T5 answers on its own when the version
ships no pool, the message has no embedding (the embedder is paused or failed), the pool's vectors
come from another embedder than the one serving, or no candidate is left.

The choice is seeded by the message's path: a retried message gets the same reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from machbot_fn.labels import NEUTRAL
from machbot_fn.models.classifier import Emotion
from machbot_fn.models.replier import Replier
from machbot_fn.models.reply_pool import DEFAULT_K, avoided_polarities, choose, polarity, seed_for

log = logging.getLogger(__name__)

POOL = "pool"  # a human reply from the replier's pool
REFINED = "refined"  # the T5's rewrite of a human reply from the pool
MODEL = "model"  # written by the T5
FIXED = "fixed"  # the T5 wrote nothing printable: replier.FALLBACK_REPLY


@dataclass(frozen=True)
class Drafted:
    text: str
    source: str  # POOL, REFINED, MODEL or FIXED
    context_turns: int  # earlier texts of the conversation the replier read (the pool reads none)


def reply_emotion(emotion: Emotion) -> str:
    """What the reply is conditioned on: the label, or neutral when the classifier is not sure."""
    return NEUTRAL if emotion.unsure else emotion.label


def from_pool(
    replier: Replier, emotion: Emotion, vector: np.ndarray | None, embedder: str | None, key: str
) -> str | None:
    """The pool's reply for a message embedding made by `embedder` (`<id>@<version>`); None when the pool
    cannot answer (no pool, no vector, vectors of another embedder, no candidate)."""
    pool = replier.pool
    if pool is None or vector is None or embedder is None:
        return None
    if pool.embedder != embedder:
        log.warning(
            "reply pool of %s holds %s vectors, the message has %s ones: the T5 replies",
            replier.manifest.version,
            pool.embedder,
            embedder,
        )
        return None
    found = choose(pool.candidates(vector, reply_emotion(emotion), DEFAULT_K, emotion.scores), seed_for(key))
    return found.text if found is not None else None


def fits(reply: Emotion, message: Emotion) -> bool:
    """The reply's own emotion is not of a polarity the message must not get: the rule the pool applies
    to its replies (`reply_pool.avoided_polarities`), applied to a reply the T5 wrote."""
    return polarity(reply.label) not in avoided_polarities(reply_emotion(message), message.scores)


def draft(
    replier: Replier,
    text: str,
    emotion: Emotion,
    vector: np.ndarray | None,
    embedder: str | None,
    key: str,
    history: Callable[[], Sequence[str]],
    reads: Callable[[str], Emotion] | None = None,
) -> Drafted:
    """The reply to `text`. `history` is called (a Firestore query) only when the T5 writes the reply.
    `reads` (a classifier) checks a rewrite: one that does not `fit` the message gives way to the
    human reply it was written from."""
    pooled = from_pool(replier, emotion, vector, embedder, key)
    if pooled is not None and not replier.refines:
        return Drafted(pooled, POOL, 0)
    turns = list(history())
    generated = replier.generate(text, reply_emotion(emotion), turns, retrieved=pooled)
    if pooled is None:
        return Drafted(generated.text, MODEL if generated.generated else FIXED, len(turns))
    if generated.generated and (reads is None or fits(reads(generated.text), emotion)):
        return Drafted(generated.text, REFINED, len(turns))
    return Drafted(pooled, POOL, 0)  # an empty or ill-fitting rewrite: the human reply still answers
