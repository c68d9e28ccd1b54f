"""Shared thoughts in memory, one matrix per emotion, searched by cosine similarity.

Every thought is a unit vector, so cosine similarity is a dot product, and a query scores only the
rows of its own emotion with one matrix-vector product: an exact search (no approximation), whose
cost grows with that emotion's share of the pool (measured at 1k, 10k and 100k thoughts by
`machbot bench-similar`). Rows are appended; a removed thought's row is marked dead at once and the
dead rows are dropped by a compaction once they are a quarter of the matrix.

Thread-safe: the function answers several messages at once per instance, while one of them may
be applying the pool's latest changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

DEAD = -1  # the owner code of a removed row
MIN_CAPACITY = 64
GROWTH = 1.5  # a full matrix grows by half: at most a third of it is ever unused
COMPACT_MIN_DEAD = 256


@dataclass(frozen=True)
class Thought:
    """One shared thought as the index holds it; `owner` never leaves the function."""

    id: str
    emotion: str
    owner: str
    text: str
    vector: np.ndarray  # float32 [dim], unit length


@dataclass(frozen=True)
class Match:
    id: str
    text: str
    score: float


@dataclass
class _Shelf:
    """The thoughts of one emotion: row i is ids[i], texts[i], owners[i], vectors[i]."""

    dim: int
    vectors: np.ndarray = field(init=False)
    owners: np.ndarray = field(init=False)
    ids: list[str | None] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    dead: int = 0

    def __post_init__(self) -> None:
        self.vectors = np.zeros((MIN_CAPACITY, self.dim), dtype=np.float32)
        self.owners = np.full(MIN_CAPACITY, DEAD, dtype=np.int32)

    @property
    def rows(self) -> int:
        return len(self.ids)

    def _reallocate(self, keep: np.ndarray) -> None:
        """Keep rows `keep` (in order) as rows 0..len(keep)-1 of arrays with room to grow."""
        capacity = max(MIN_CAPACITY, int(GROWTH * len(keep)))
        vectors = np.zeros((capacity, self.dim), dtype=np.float32)
        vectors[: len(keep)] = self.vectors[keep]
        owners = np.full(capacity, DEAD, dtype=np.int32)
        owners[: len(keep)] = self.owners[keep]
        self.vectors, self.owners = vectors, owners

    def append(self, thought: Thought, owner: int) -> int:
        row = self.rows
        if row == len(self.vectors):
            self._reallocate(np.arange(row))
        self.vectors[row] = thought.vector
        self.owners[row] = owner
        self.ids.append(thought.id)
        self.texts.append(thought.text)
        return row

    def kill(self, row: int) -> None:
        self.owners[row] = DEAD
        self.ids[row] = None
        self.texts[row] = None
        self.dead += 1

    def compact(self) -> dict[str, int]:
        """Drop dead rows; returns the new row of every live thought."""
        keep = np.flatnonzero(self.owners[: self.rows] != DEAD)
        self._reallocate(keep)
        self.ids = [self.ids[i] for i in keep]
        self.texts = [self.texts[i] for i in keep]
        self.dead = 0
        return {thought_id: row for row, thought_id in enumerate(self.ids) if thought_id is not None}


class ThoughtIndex:
    """Exact nearest-neighbour search over shared thoughts, partitioned by emotion."""

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim
        self._shelves: dict[str, _Shelf] = {}
        self._where: dict[str, tuple[str, int]] = {}  # thought id -> (emotion, row)
        self._owner_codes: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, thought_id: str) -> bool:
        return thought_id in self._where

    def counts(self) -> dict[str, int]:
        """Live thoughts per emotion."""
        with self._lock:
            return {emotion: shelf.rows - shelf.dead for emotion, shelf in self._shelves.items()}

    def nbytes(self) -> int:
        """Memory held by the vectors (allocated rows included)."""
        with self._lock:
            return sum(shelf.vectors.nbytes for shelf in self._shelves.values())

    def _owner(self, uid: str) -> int:
        return self._owner_codes.setdefault(uid, len(self._owner_codes))

    def upsert(self, thought: Thought) -> None:
        """Add a thought, or replace the one with its id."""
        vector = np.asarray(thought.vector, dtype=np.float32)
        with self._lock:
            if self.dim is None:
                self.dim = int(vector.shape[0])
            if vector.shape != (self.dim,):
                raise ValueError(
                    f"thought {thought.id} has a vector of shape {vector.shape}, the index holds {self.dim}"
                )
            self._remove(thought.id)
            shelf = self._shelves.setdefault(thought.emotion, _Shelf(self.dim))
            row = shelf.append(
                Thought(thought.id, thought.emotion, thought.owner, thought.text, vector), self._owner(thought.owner)
            )
            self._where[thought.id] = (thought.emotion, row)

    def remove(self, thought_id: str) -> bool:
        """Take a thought out of every future search; False if it was not there."""
        with self._lock:
            return self._remove(thought_id)

    def _remove(self, thought_id: str) -> bool:
        where = self._where.pop(thought_id, None)
        if where is None:
            return False
        emotion, row = where
        shelf = self._shelves[emotion]
        shelf.kill(row)
        if shelf.dead >= COMPACT_MIN_DEAD and shelf.dead * 4 >= shelf.rows:
            for moved, new_row in shelf.compact().items():
                self._where[moved] = (emotion, new_row)
        return True

    def search(
        self, emotion: str, query: np.ndarray, k: int = 3, exclude_owner: str | None = None, min_score: float = -1.0
    ) -> list[Match]:
        """The `k` thoughts of `emotion` most similar to `query` (a unit vector), best first, leaving out
        `exclude_owner`'s own and any scoring below `min_score`."""
        with self._lock:
            shelf = self._shelves.get(emotion)
            if shelf is None or k <= 0 or shelf.rows == shelf.dead:
                return []
            n = shelf.rows
            scores = shelf.vectors[:n] @ np.asarray(query, dtype=np.float32)
            invalid = shelf.owners[:n] == DEAD
            code = self._owner_codes.get(exclude_owner) if exclude_owner is not None else None
            if code is not None:
                invalid |= shelf.owners[:n] == code
            scores[invalid] = -np.inf
            top = np.argpartition(-scores, k)[:k] if k < n else np.arange(n)
            top = top[np.argsort(-scores[top], kind="stable")]
            found = []
            for i in top:
                thought_id, text = shelf.ids[i], shelf.texts[i]  # None only on dead rows, scored -inf
                if thought_id is not None and text is not None and np.isfinite(scores[i]) and scores[i] >= min_score:
                    found.append(Match(thought_id, text, float(scores[i])))
            return found
