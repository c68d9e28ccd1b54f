"""Retrieve-and-refine training pairs for the T5 (Weston et al., 2018): each source carries a human
reply retrieved for its message, so the model learns to write from one.

The replier pairs are `reply_pairs`' (whole conversations split; nothing of a test set in train or
validation). For every training or validation pair:

- the target is the human reply as the pool serves it (`reply_pool.clean_reply`), and the pair is
  kept only if the pool would accept that reply (`reply_pool.rejection`: no character names,
  backchannel only, swearing ...), so the model learns only replies we would serve;
- the retrieved reply is what serving would retrieve for the message (`ReplyPool.candidates` with
  the annotated emotion, then `choose` seeded by the pair), never the pair's own reply and never a
  reply of its own conversation: the model must learn to adapt another person's answer, not to
  copy the one it is graded on (the pool holds training replies, so without this, every retrieved
  reply of a training message would be its own gold reply);
- except that, seeded, `GOLD_SHARE` of the sources carry the gold reply itself (a fitting
  retrieved reply is worth keeping) and `NONE_SHARE` carry none (the model still answers when the
  pool cannot: no embedding, another embedder's vectors).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.replier import build_prompt
from machbot_fn.models.reply_pool import DEFAULT_K, ReplyPool, choose, seed_for
from machbot_train.overlap import text_key
from machbot_train.progress import RunLog
from machbot_train.replier_data import Pair
from machbot_train.reply_pairs import ReplyPair
from machbot_train.reply_pool import clean_reply, embed_texts, rejection

GOLD_SHARE = 0.2
NONE_SHARE = 0.1


@dataclass
class RefineStats:
    pairs: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    retrieved: Counter[str] = field(default_factory=Counter)  # gold / none / other / nothing left

    def to_dict(self) -> dict:
        return {"pairs": self.pairs, "rejected": dict(self.rejected), "retrieved": dict(self.retrieved)}


def reply_owners(pairs: Sequence[ReplyPair]) -> dict[str, set[str]]:
    """Normalised reply text -> the conversations it was given in (to keep a conversation's own replies
    out of what is retrieved for it)."""
    owners: dict[str, set[str]] = defaultdict(set)
    for p in pairs:
        owners[text_key(clean_reply(p.reply))].add(p.conversation)
    return owners


def retrieve_other(
    pool: ReplyPool, vector: np.ndarray, pair: ReplyPair, owners: dict[str, set[str]], seed: int
) -> str | None:
    """The reply serving would choose for the pair's message, among replies of other conversations
    that are not the pair's own reply; None when nothing is left."""
    own = text_key(clean_reply(pair.reply))
    usable = [
        c
        for c in pool.candidates(vector, pair.emotion, DEFAULT_K)
        if (key := text_key(c.text)) != own and pair.conversation not in owners.get(key, ())
    ]
    found = choose(usable, seed)
    return found.text if found is not None else None


def message_vectors(
    embedder: SentenceEmbedder, pairs: Sequence[ReplyPair], cache: Path | None, log: RunLog | None = None
) -> np.ndarray:
    """The embedder's unit vector of every pair's message, cached in `cache` (an .npy file named by a
    hash of the messages and the embedder, so a resumed run does not embed again)."""
    messages = [p.message for p in pairs]
    digest = hashlib.sha256("\n".join([embedder.manifest.versioned_id, *messages]).encode()).hexdigest()[:16]
    path = None if cache is None else Path(cache) / f"messages-{digest}.npy"
    if path is not None and path.is_file():
        return np.load(path)
    vectors = embed_texts(embedder, messages, log)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def acceptable(pairs: Sequence[ReplyPair], stats: RefineStats | None = None) -> list[ReplyPair]:
    """The pairs whose reply, cleaned as the pool serves it, the pool would accept (`rejection`)."""
    stats = stats if stats is not None else RefineStats()
    out = []
    for pair in pairs:
        stats.pairs += 1
        why = rejection(clean_reply(pair.reply))
        if why:
            stats.rejected[why] += 1
        else:
            out.append(pair)
    return out


def refine_pairs(
    pairs: Sequence[ReplyPair],
    vectors: np.ndarray,
    pool: ReplyPool,
    owners: dict[str, set[str]],
    *,
    seed: int = 13,
    gold_share: float = GOLD_SHARE,
    none_share: float = NONE_SHARE,
    stats: RefineStats | None = None,
) -> list[Pair]:
    """One retrieve-and-refine `Pair` per pair (filter them with `acceptable` first; see the module doc).
    `vectors[i]`: the unit embedding of `pairs[i].message` by the pool's embedder."""
    if not (gold_share >= 0 and none_share >= 0 and gold_share + none_share <= 1):
        raise ValueError(
            f"gold_share and none_share must be shares summing to at most 1, got {gold_share}, {none_share}"
        )
    if len(vectors) != len(pairs):
        raise ValueError(f"{len(vectors)} message vectors for {len(pairs)} pairs")
    stats = stats if stats is not None else RefineStats()
    rng = random.Random(seed)
    out = []
    for pair, vector in zip(pairs, vectors, strict=True):
        target = clean_reply(pair.reply)
        roll = rng.random()
        if roll < gold_share:
            retrieved, kind = target, "gold"
        elif roll < gold_share + none_share:
            retrieved, kind = "", "none"
        else:
            found = retrieve_other(pool, vector, pair, owners, seed_for(f"{seed}:{pair.conversation}:{pair.message}"))
            retrieved, kind = (found, "other") if found is not None else ("", "nothing left")
        stats.retrieved[kind] += 1
        source = build_prompt(pair.emotion, pair.history, pair.message, retrieved)
        out.append(Pair(pair.conversation, pair.emotion, source, target, pair.message, pair.history))
    return out
