"""An instance's in-memory copy of the pool, kept in step with Firestore.

The first search loads every `thoughtIndex` document; after that, at most every `refresh_seconds`,
a search first reads only the documents whose `updatedAt` is at or after the latest one seen: new
thoughts are added, and unshared or hidden ones (tombstones, `active: false`) are removed. A server
timestamp is the commit time, and a query sees every commit up to its read time, so nothing
committed before the last read can appear later with an older `updatedAt`; the boundary itself is
read again each time, which is harmless (applying a change twice changes nothing).

Only one thread refreshes at a time; while it does, the others search the copy as it is (the first
load excepted: every search waits for it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import numpy as np
from google.cloud import firestore

from machbot_fn.sharing.pool import THOUGHT_INDEX, thought_from
from machbot_fn.sharing.pool_index import Match, ThoughtIndex

log = logging.getLogger(__name__)


class LivePool:
    """`ThoughtIndex` plus the Firestore cursor that keeps it current."""

    def __init__(
        self, db: firestore.Client, refresh_seconds: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.index = ThoughtIndex()
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._cursor: datetime | None = None
        self._loaded = False
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> int:
        """Apply the pool's changes since the last refresh; returns how many documents were read."""
        if not force and self._loaded and self._clock() - self._checked < self.refresh_seconds:
            return 0
        if not self._lock.acquire(blocking=not self._loaded):
            return 0  # another thread is refreshing: search the copy as it is
        try:
            pool = self.db.collection(THOUGHT_INDEX)
            query = pool.where(filter=firestore.FieldFilter("updatedAt", ">=", self._cursor)) if self._cursor else pool
            read = 0
            for snap in query.order_by("updatedAt").stream():
                read += 1
                data = snap.to_dict() or {}
                thought = thought_from(snap.id, data)
                if thought is None:
                    self.index.remove(snap.id)
                else:
                    self.index.upsert(thought)
                stamp = data.get("updatedAt")
                if isinstance(stamp, datetime) and (self._cursor is None or stamp > self._cursor):
                    self._cursor = stamp
            self._loaded = True
            self._checked = self._clock()
            return read
        finally:
            self._lock.release()

    def search(self, emotion: str, query: np.ndarray, k: int, exclude_owner: str, min_score: float) -> list[Match]:
        self.refresh()
        return self.index.search(emotion, query, k=k, exclude_owner=exclude_owner, min_score=min_score)
