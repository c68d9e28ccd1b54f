"""The reply pool: file round trip and validation, retrieval by emotion and polarity, deterministic choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from machbot_fn.errors import ModelUnavailable
from machbot_fn.labels import EMOTIONS, NEUTRAL
from machbot_fn.models.reply_pool import (
    POOL_FILE,
    REPLY_WEIGHT,
    SHORTLIST,
    PoolArrays,
    ReplyCandidate,
    ReplyPool,
    avoided_polarities,
    choose,
    conflicting,
    polarity,
    quantize_rows,
    seed_for,
)

DIM = 16


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def tiny_arrays(n: int = 300, seed: int = 0) -> tuple[PoolArrays, list[str], list[str]]:
    """A random pool: message emotions cycle through the six and neutral, reply emotions through the six."""
    rng = np.random.default_rng(seed)
    message_emotions = [(*EMOTIONS, NEUTRAL)[i % 7] for i in range(n)]
    reply_emotions = [EMOTIONS[(i * 5 + i // 7) % 6] for i in range(n)]
    arrays = PoolArrays.from_vectors(
        unit(rng, n),
        [f"reply {i}" for i in range(n)],
        unit(rng, n),
        message_emotions,
        reply_emotions,
        rng.uniform(0.2, 1.0, n).tolist(),
        embedder="minilm@test",
        classifier="bert@test",
    )
    return arrays, message_emotions, reply_emotions


def stored(q: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The unit vectors a pool file holds."""
    v = q.astype(np.float32) * scales[:, None]
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def brute_force(
    arrays: PoolArrays,
    message_emotions: list[str],
    reply_emotions: list[str],
    query: np.ndarray,
    emotion: str,
    k: int,
    scores: dict[str, float] | None = None,
) -> list[int]:
    """The same search written out: same emotion (any for neutral, or when none is left), no avoided
    polarity, the SHORTLIST most similar messages, ranked by message and reply similarity together."""
    messages = stored(arrays.message_vectors, arrays.message_scales)
    replies = stored(arrays.reply_vectors, arrays.reply_scales)
    avoid = avoided_polarities(emotion, scores)
    usable = [i for i in range(len(arrays)) if polarity(reply_emotions[i]) not in avoid]
    rows = [i for i in usable if emotion not in EMOTIONS or message_emotions[i] == emotion] or usable
    short = sorted(rows, key=lambda i: -float(messages[i] @ query))[: max(k, SHORTLIST)]
    score = {
        i: (1 - REPLY_WEIGHT) * float(messages[i] @ query) + REPLY_WEIGHT * float(replies[i] @ query) for i in short
    }
    return sorted(short, key=lambda i: -score[i])[:k]


def test_polarity_and_conflicts() -> None:
    assert [polarity(e) for e in EMOTIONS] == [-1, 1, 1, -1, -1, 0]
    assert polarity(NEUTRAL) == 0
    assert conflicting("sadness", "joy") and conflicting("love", "anger") and conflicting("fear", "love")
    assert not conflicting("sadness", "anger") and not conflicting("joy", "love")
    assert not any(conflicting(e, "surprise") or conflicting("surprise", e) for e in EMOTIONS)
    assert not any(conflicting(NEUTRAL, e) or conflicting(e, NEUTRAL) for e in EMOTIONS)


def test_quantised_rows_keep_the_vectors() -> None:
    vectors = unit(np.random.default_rng(1), 50)
    q, scales = quantize_rows(vectors)
    assert q.dtype == np.int8 and scales.dtype == np.float32 and scales.shape == (50,)
    assert np.abs(q.astype(np.float32) * scales[:, None] - vectors).max() <= scales.max() / 2 + 1e-7


def test_file_round_trip(tmp_path: Path) -> None:
    arrays, *_ = tiny_arrays()
    arrays.save(tmp_path / POOL_FILE)
    assert PoolArrays.read(tmp_path / POOL_FILE).take(range(300)).replies.tolist() == arrays.replies.tolist()
    with np.load(tmp_path / POOL_FILE, allow_pickle=False) as data:
        assert data["message_vectors"].dtype == np.int8 and data["replies"].dtype.kind == "U"
    pool = ReplyPool.load(tmp_path / POOL_FILE)
    assert len(pool) == 300 and pool.dim == DIM
    assert pool.embedder == "minilm@test" and pool.classifier == "bert@test"
    assert sum(pool.counts().values()) == 300 and pool.counts()[NEUTRAL] == len(range(6, 300, 7))
    assert np.allclose(np.linalg.norm(pool.vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(pool.reply_vectors, axis=1), 1.0, atol=1e-5)
    assert pool.nbytes == 2 * 300 * DIM * 4


def test_avoided_polarities() -> None:
    assert avoided_polarities("joy") == {-1} and avoided_polarities("fear") == {1}
    assert avoided_polarities("surprise") == set() and avoided_polarities(NEUTRAL) == set()
    maybe_sad = {"joy": 0.55, "love": 0.1, "sadness": 0.25, "anger": 0.0, "fear": 0.0, "surprise": 0.1}
    assert avoided_polarities("joy", maybe_sad) == {1, -1}  # a quarter sad: nothing cheerful either
    assert avoided_polarities(NEUTRAL, {"surprise": 0.9, "fear": 0.1}) == set()
    assert avoided_polarities(NEUTRAL, {"surprise": 0.7, "fear": 0.3}) == {1}


@pytest.mark.parametrize("emotion", [*EMOTIONS, NEUTRAL, "something else"])
def test_candidates_are_the_best_compatible_rows(emotion: str) -> None:
    arrays, message_emotions, reply_emotions = tiny_arrays()
    pool = ReplyPool(arrays)
    messages = stored(arrays.message_vectors, arrays.message_scales)
    for query in unit(np.random.default_rng(2), 10):
        got = pool.candidates(query, emotion, k=5)
        assert [c.row for c in got] == brute_force(arrays, message_emotions, reply_emotions, query, emotion, 5)
        assert [c.score for c in got] == sorted((c.score for c in got), reverse=True)
        for c in got:
            assert c.text == f"reply {c.row}" and c.emotion == reply_emotions[c.row]
            assert not conflicting(emotion, c.emotion)
            assert c.message_score == pytest.approx(float(messages[c.row] @ query), abs=1e-5)
            assert c.score == pytest.approx((1 - REPLY_WEIGHT) * c.message_score + REPLY_WEIGHT * c.reply_score)


def test_the_probabilities_keep_a_maybe_sad_message_from_a_cheerful_reply() -> None:
    arrays, message_emotions, reply_emotions = tiny_arrays()
    pool = ReplyPool(arrays)
    maybe_sad = {"joy": 0.1, "love": 0.0, "sadness": 0.3, "anger": 0.0, "fear": 0.0, "surprise": 0.6}
    for query in unit(np.random.default_rng(4), 10):
        got = pool.candidates(query, NEUTRAL, k=8, scores=maybe_sad)
        assert got and all(polarity(c.emotion) <= 0 for c in got)
        assert [c.row for c in got] == brute_force(
            arrays, message_emotions, reply_emotions, query, NEUTRAL, 8, maybe_sad
        )


def test_the_message_vector_matters_more_when_replies_tie() -> None:
    """Two rows with the same reply vector: the one whose message is nearer the query ranks first."""
    rng = np.random.default_rng(5)
    query, reply, near, far = unit(rng, 4)
    near = query + 0.1 * near
    arrays = PoolArrays.from_vectors(
        np.stack([far, near]),
        ["far", "near"],
        np.stack([reply, reply]),
        ["joy", "joy"],
        ["joy", "joy"],
        [0.9, 0.9],
        embedder="e",
        classifier="c",
    )
    assert [c.text for c in ReplyPool(arrays).candidates(query, "joy")] == ["near", "far"]


def test_an_emotion_the_pool_lacks_searches_every_row_but_keeps_polarity() -> None:
    rng = np.random.default_rng(3)
    arrays = PoolArrays.from_vectors(
        unit(rng, 4),
        ["so sorry", "how lovely", "what a surprise", "that is awful"],
        unit(rng, 4),
        ["sadness", "joy", "surprise", NEUTRAL],
        ["sadness", "joy", "surprise", "anger"],
        [0.9] * 4,
        embedder="e",
        classifier="c",
    )
    pool = ReplyPool(arrays)
    got = pool.candidates(unit(rng, 1)[0], "fear", k=10)
    assert sorted(c.text for c in got) == ["so sorry", "that is awful", "what a surprise"]
    got = pool.candidates(unit(rng, 1)[0], "love", k=10)
    assert sorted(c.text for c in got) == ["how lovely", "what a surprise"]
    assert [c.text for c in pool.candidates(unit(rng, 1)[0], "joy", k=10)] == ["how lovely"]
    assert len(pool.candidates(unit(rng, 1)[0], NEUTRAL, k=10)) == 4
    assert len(pool.candidates(unit(rng, 1)[0], NEUTRAL, k=2)) == 2
    assert pool.candidates(unit(rng, 1)[0], NEUTRAL, k=0) == []
    both = {"joy": 0.4, "sadness": 0.4, "surprise": 0.2}
    assert [c.text for c in pool.candidates(unit(rng, 1)[0], NEUTRAL, scores=both)] == ["what a surprise"]


def test_query_of_the_wrong_size_is_refused() -> None:
    pool = ReplyPool(tiny_arrays(20)[0])
    with pytest.raises(ValueError, match="dimensions"):
        pool.candidates(np.ones(DIM + 1, dtype=np.float32), "joy")


def candidate(text: str, score: float) -> ReplyCandidate:
    return ReplyCandidate(text, score, score, score, "joy", 0.9, 0)


def test_choose_is_deterministic_among_the_best_few() -> None:
    cands = [candidate("a", 0.80), candidate("b", 0.79), candidate("c", 0.77), candidate("d", 0.76)]
    picks = {choose(cands, seed).text for seed in range(50)}  # type: ignore[union-attr]
    assert picks == {"a", "b", "c"}  # at most CHOICE_TOP
    assert choose(cands, 7) == choose(cands, 7)
    far = [candidate("a", 0.80), candidate("b", 0.60), candidate("c", 0.59)]
    assert {choose(far, seed).text for seed in range(20)} == {"a"}  # type: ignore[union-attr]
    assert choose([], 3) is None
    assert seed_for("message-1") == seed_for("message-1") != seed_for("message-2")
    assert seed_for("x") >= 0


def corrupt(tmp_path: Path, **changes: object) -> Path:
    arrays, *_ = tiny_arrays(20)
    fields = {
        "schema": np.asarray(1, dtype=np.int64),
        "labels": np.asarray(EMOTIONS, dtype=np.str_),
        "message_vectors": arrays.message_vectors,
        "message_scales": arrays.message_scales,
        "message_emotions": arrays.message_emotions,
        "replies": arrays.replies,
        "reply_vectors": arrays.reply_vectors,
        "reply_scales": arrays.reply_scales,
        "reply_emotions": arrays.reply_emotions,
        "reply_scores": arrays.reply_scores,
        "embedder": np.asarray("e", dtype=np.str_),
        "classifier": np.asarray("c", dtype=np.str_),
    }
    for key, value in changes.items():
        if value is None:
            del fields[key]
        else:
            fields[key] = value
    path = tmp_path / POOL_FILE
    np.savez_compressed(path, **fields)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"replies": None}, "missing replies"),
        ({"schema": np.asarray(2)}, "schema"),
        ({"labels": np.asarray(["a", "b"])}, "labels"),
        ({"message_vectors": np.zeros((20, DIM), dtype=np.float32)}, "message_vectors must be int8"),
        (
            {"message_vectors": np.zeros((19, DIM), dtype=np.int8)},
            r"message_vectors is \[19, 16\], expected \[20, 16\]",
        ),
        ({"reply_vectors": np.zeros((20, DIM - 1), dtype=np.int8)}, r"reply_vectors is \[20, 15\]"),
        ({"reply_scales": -np.ones(20, dtype=np.float32)}, "reply_scales must be finite and positive"),
        ({"message_scales": np.zeros(20, dtype=np.float32)}, "finite and positive"),
        ({"message_emotions": np.full(20, 7, dtype=np.int8)}, "message_emotions must be from 0 to 6"),
        ({"reply_emotions": np.full(20, 6, dtype=np.int8)}, "reply_emotions must be from 0 to 5"),
        ({"reply_scores": np.full(20, 1.5, dtype=np.float32)}, "probabilities"),
        ({"reply_scores": np.ones(20, dtype=np.float64)}, "reply_scores must be float32"),
        ({"replies": np.asarray([""] * 20)}, "a reply is empty"),
        ({"replies": np.arange(20)}, "unicode"),
    ],
)
def test_a_bad_file_is_unavailable_with_a_clear_message(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ModelUnavailable, match=message):
        ReplyPool.load(corrupt(tmp_path, **changes))


def test_not_a_pool_file(tmp_path: Path) -> None:
    (tmp_path / POOL_FILE).write_bytes(b"not a zip at all")
    with pytest.raises(ModelUnavailable, match="unreadable"):
        ReplyPool.load(tmp_path / POOL_FILE)
    with pytest.raises(ModelUnavailable, match="not found"):
        ReplyPool.load(tmp_path / "absent.npz")
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, replies=np.asarray([{"a": 1}], dtype=object))
    with pytest.raises(ModelUnavailable):
        ReplyPool.load(pickled)
