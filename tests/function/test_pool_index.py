"""The in-memory index of shared thoughts: exact cosine search per emotion, owners left out, removals honoured."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from machbot_fn.sharing.pool_index import COMPACT_MIN_DEAD, Thought, ThoughtIndex

DIM = 16


def unit(rng: np.random.Generator, n: int = 1) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def thought(i: int, vector: np.ndarray, emotion: str = "sadness", owner: str = "u0") -> Thought:
    return Thought(f"t{i}", emotion, owner, f"text {i}", vector)


def brute_force(rows: list[Thought], emotion: str, query: np.ndarray, k: int, owner: str | None) -> list[str]:
    pool = [t for t in rows if t.emotion == emotion and t.owner != owner]
    pool.sort(key=lambda t: -float(t.vector @ query))
    return [t.id for t in pool[:k]]


def test_search_is_exact_within_the_emotion_and_leaves_the_owner_out() -> None:
    rng = np.random.default_rng(0)
    rows = [thought(i, unit(rng)[0], emotion=("sadness", "joy")[i % 2], owner=f"u{i % 5}") for i in range(500)]
    index = ThoughtIndex()
    for t in rows:
        index.upsert(t)
    for query in unit(rng, 20):
        for owner in (None, "u3"):
            got = [m.id for m in index.search("sadness", query, k=3, exclude_owner=owner)]
            assert got == brute_force(rows, "sadness", query, 3, owner)
    assert index.counts() == {"sadness": 250, "joy": 250}


def test_results_are_best_first_with_their_cosine() -> None:
    index = ThoughtIndex()
    base = np.eye(DIM, dtype=np.float32)
    index.upsert(thought(1, base[0]))
    near = base[0] * 0.8 + base[1] * 0.6
    index.upsert(thought(2, near))
    index.upsert(thought(3, base[1]))
    found = index.search("sadness", base[0], k=3)
    assert [m.id for m in found] == ["t1", "t2", "t3"]
    assert [round(m.score, 3) for m in found] == [1.0, 0.8, 0.0]
    assert found[0].text == "text 1"


def test_min_score_k_and_unknown_emotion() -> None:
    index = ThoughtIndex()
    base = np.eye(DIM, dtype=np.float32)
    for i in range(5):
        index.upsert(thought(i, base[i]))
    assert [m.id for m in index.search("sadness", base[0], k=3, min_score=0.5)] == ["t0"]
    assert len(index.search("sadness", base[0], k=10)) == 5
    assert index.search("sadness", base[0], k=0) == []
    assert index.search("fear", base[0]) == []


def test_only_the_owner_of_a_thought_is_left_out() -> None:
    index = ThoughtIndex()
    v = np.eye(DIM, dtype=np.float32)[0]
    index.upsert(thought(1, v, owner="alice"))
    index.upsert(thought(2, v, owner="bob"))
    assert [m.id for m in index.search("sadness", v, exclude_owner="alice")] == ["t2"]
    assert [m.id for m in index.search("sadness", v, exclude_owner="bob")] == ["t1"]
    assert len(index.search("sadness", v, exclude_owner="someone-new")) == 2


def test_removed_and_replaced_thoughts() -> None:
    index = ThoughtIndex()
    base = np.eye(DIM, dtype=np.float32)
    index.upsert(thought(1, base[0]))
    index.upsert(thought(2, base[1]))
    assert index.remove("t1") and not index.remove("t1")
    assert [m.id for m in index.search("sadness", base[0])] == ["t2"]
    # The same id again, now with another emotion and text: it moves.
    index.upsert(Thought("t2", "joy", "u0", "moved", base[0]))
    assert index.search("sadness", base[0]) == []
    assert [(m.id, m.text) for m in index.search("joy", base[0])] == [("t2", "moved")]
    assert len(index) == 1 and "t2" in index and "t1" not in index


def test_compaction_keeps_every_live_thought_findable() -> None:
    rng = np.random.default_rng(1)
    vectors = unit(rng, 4 * COMPACT_MIN_DEAD)
    rows = [thought(i, v, owner=f"u{i % 7}") for i, v in enumerate(vectors)]
    index = ThoughtIndex()
    for t in rows:
        index.upsert(t)
    removed = {t.id for t in rows[::2]}
    for thought_id in removed:
        index.remove(thought_id)
    live = [t for t in rows if t.id not in removed]
    assert index.counts() == {"sadness": len(live)}
    for t in live[:50]:
        assert index.search("sadness", t.vector, k=1, exclude_owner="nobody")[0].id == t.id
    for query in unit(rng, 10):
        assert [m.id for m in index.search("sadness", query, k=3)] == brute_force(live, "sadness", query, 3, None)
    assert index.nbytes() <= len(live) * DIM * 4 * 1.5  # compacted, not just marked


def test_a_vector_of_the_wrong_size_is_refused() -> None:
    index = ThoughtIndex()
    index.upsert(thought(1, np.eye(DIM, dtype=np.float32)[0]))
    with pytest.raises(ValueError, match="shape"):
        index.upsert(thought(2, np.ones(DIM + 1, dtype=np.float32)))


def test_searches_while_thoughts_come_and_go() -> None:
    rng = np.random.default_rng(2)
    index = ThoughtIndex()
    vectors = unit(rng, 3000)
    errors: list[BaseException] = []

    def writer() -> None:
        for i, v in enumerate(vectors):
            index.upsert(thought(i, v))
            if i % 3 == 0:
                index.remove(f"t{i // 2}")

    def reader() -> None:
        try:
            for q in unit(np.random.default_rng(3), 300):
                for m in index.search("sadness", q, k=3):
                    assert m.text is not None and m.text.startswith("text")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer), *(threading.Thread(target=reader) for _ in range(3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
