"""Retrieve-and-refine training sources: what is retrieved for a pair is never its own reply nor one of
its own conversation, the shares of gold and empty retrievals hold, and unacceptable replies go."""

from __future__ import annotations

import numpy as np
import pytest

from machbot_fn.models.replier import build_prompt
from machbot_fn.models.reply_pool import PoolArrays, ReplyPool
from machbot_train.refine_data import RefineStats, acceptable, refine_pairs, reply_owners
from machbot_train.reply_pairs import ReplyPair

DIM = 4


def pair(conversation: str, message: str, reply: str, emotion: str = "sadness") -> ReplyPair:
    return ReplyPair(conversation, "empathetic", ("an earlier turn",), message, emotion, reply)


# Three conversations; every message is about the same thing, so every reply is a candidate for each.
PAIRS = [
    pair("a", "I lost my job today.", "That is awful, I am so sorry."),
    pair("a", "They gave me no reason.", "Did you ask them why?"),
    pair("b", "My job is gone.", "Oh no, what happened at work?"),
    pair("c", "I was fired this morning.", "I am sorry to hear that, do you have savings?"),
]


@pytest.fixture(scope="module")
def pool() -> ReplyPool:
    rng = np.random.default_rng(0)
    vectors = 1 + 0.05 * rng.standard_normal((len(PAIRS), DIM))
    return ReplyPool(
        PoolArrays.from_vectors(
            vectors,
            [p.reply for p in PAIRS],
            vectors,
            [p.emotion for p in PAIRS],
            ["sadness"] * len(PAIRS),
            [0.9] * len(PAIRS),
            embedder="minilm@unit",
            classifier="tiny@unit",
        )
    )


def vectors_for(pairs: list[ReplyPair]) -> np.ndarray:
    return np.ones((len(pairs), DIM), dtype=np.float32) / np.sqrt(DIM)


def retrieved_part(source: str) -> str:
    return source.split(" retrieved: ", 1)[1].split(" context: ", 1)[0]


def test_never_the_pairs_own_reply_nor_one_of_its_conversation(pool: ReplyPool) -> None:
    owners = reply_owners(PAIRS)
    for seed in range(20):
        out = refine_pairs(PAIRS, vectors_for(PAIRS), pool, owners, seed=seed, gold_share=0, none_share=0)
        for p, built in zip(PAIRS, out, strict=True):
            retrieved = retrieved_part(built.source)
            own_conversation = {q.reply for q in PAIRS if q.conversation == p.conversation}
            assert retrieved not in own_conversation
            assert retrieved in {q.reply for q in PAIRS}
            assert built.target == p.reply and built.message == p.message


def test_gold_and_none_shares(pool: ReplyPool) -> None:
    owners = reply_owners(PAIRS)
    many = PAIRS * 250
    stats = RefineStats()
    out = refine_pairs(many, vectors_for(many), pool, owners, seed=5, stats=stats, gold_share=0.2, none_share=0.1)
    gold = sum(retrieved_part(p.source) == p.target for p in out) / len(out)
    none = sum(retrieved_part(p.source) == "none" for p in out) / len(out)
    assert 0.15 < gold < 0.25 and 0.06 < none < 0.14
    assert stats.retrieved["gold"] + stats.retrieved["none"] + stats.retrieved["other"] == len(out)
    # Seeded: the same call builds the same sources.
    again = refine_pairs(many, vectors_for(many), pool, owners, seed=5, gold_share=0.2, none_share=0.1)
    assert [p.source for p in again] == [p.source for p in out]


def test_the_source_is_the_serving_prompt(pool: ReplyPool) -> None:
    p = PAIRS[0]
    (built,) = refine_pairs([p], vectors_for([p]), pool, reply_owners(PAIRS), gold_share=1, none_share=0)
    assert built.source == build_prompt(p.emotion, p.history, p.message, p.reply)
    (empty,) = refine_pairs([p], vectors_for([p]), pool, reply_owners(PAIRS), gold_share=0, none_share=1)
    assert empty.source == build_prompt(p.emotion, p.history, p.message, "")
    assert " retrieved: none context: " in empty.source


def test_nothing_left_to_retrieve_gives_none(pool: ReplyPool) -> None:
    # Every pooled reply belongs to the pair's own conversation.
    owners = {k: {"a"} for k in reply_owners(PAIRS)}
    stats = RefineStats()
    (built,) = refine_pairs([PAIRS[0]], vectors_for([PAIRS[0]]), pool, owners, gold_share=0, none_share=0, stats=stats)
    assert retrieved_part(built.source) == "none" and stats.retrieved["nothing left"] == 1


def test_unacceptable_replies_are_not_trained_on() -> None:
    stats = RefineStats()
    kept = acceptable(
        [PAIRS[0], pair("d", "hi", "Yeah."), pair("e", "Where is Ross?", "Ross went home, Rachel.")], stats
    )
    assert kept == [PAIRS[0]]
    assert stats.pairs == 3 and sum(stats.rejected.values()) == 2


def test_shares_must_add_up() -> None:
    with pytest.raises(ValueError, match="shares"):
        refine_pairs([], np.zeros((0, DIM)), None, {}, gold_share=0.7, none_share=0.5)  # type: ignore[arg-type]
