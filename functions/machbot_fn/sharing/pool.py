"""The shared pool in Firestore: what is stored where, and who may see it.

- `thoughts/{thoughtId}`: the anonymised copy other people may read (signed-in users, unless
  hidden): `{text, emotion, hidden}`, nothing else: no user id nor anything derived from one, and
  not even when it was shared (a time can point at a person too). The id is random, not derived
  from the message.
- `thoughts/{thoughtId}/reports/{reporterUid}`: one report per user, `{reason, at}`.
- `thoughtIndex/{thoughtId}`: the function's own record, closed to every client by the rules:
  the author (to leave their own thoughts out of their matches), the message it came from (to
  unshare it), the text, emotion and embedding (float16 bytes), `active`, the number of `reports`,
  `sharedAt`, and `updatedAt`, which
  every change sets to the server time, so an instance can read just what changed since it last
  looked. Unsharing leaves a tombstone `{active: false, updatedAt}` without any content, so that
  instances holding the thought in memory learn that it is gone.
- On the author's message, written by the function: `sharedThought {id, sharedAt}` while it is in
  the pool, `shareBlocked` once reports hid it (it cannot be shared again).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from google.cloud import firestore

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.embedder import normalize_rows
from machbot_fn.sharing.pool_index import Thought

THOUGHTS = "thoughts"
REPORTS = "reports"
THOUGHT_INDEX = "thoughtIndex"
VECTOR_DTYPE = np.dtype("<f2")  # float16: half the bytes of float32; cosine changes by ~1e-4


def encode_vector(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def decode_vector(raw: bytes) -> np.ndarray:
    vector: np.ndarray = normalize_rows(np.frombuffer(raw, dtype=VECTOR_DTYPE).astype(np.float32)[None, :])[0]
    return vector


def public_doc(text: str, emotion: str) -> dict[str, Any]:
    """The anonymised copy: text and emotion, nothing about who wrote it."""
    return {"text": text, "emotion": emotion, "hidden": False}


def index_doc(owner: str, message_path: str, text: str, emotion: str, vector: np.ndarray) -> dict[str, Any]:
    return {
        "owner": owner,
        "message": message_path,
        "text": text,
        "emotion": emotion,
        "embedding": encode_vector(vector),
        "active": True,
        "reports": 0,
        "sharedAt": firestore.SERVER_TIMESTAMP,
        "updatedAt": firestore.SERVER_TIMESTAMP,
    }


def tombstone() -> dict[str, Any]:
    """What an unshared thought leaves in the index collection: that it is gone, and when."""
    return {"active": False, "updatedAt": firestore.SERVER_TIMESTAMP}


def thought_from(thought_id: str, data: dict[str, Any]) -> Thought | None:
    """The index entry of a `thoughtIndex` document; None when it no longer takes part in matching."""
    raw = data.get("embedding")
    if data.get("active") is not True or not isinstance(raw, bytes) or data.get("emotion") not in EMOTIONS:
        return None
    return Thought(
        thought_id, data["emotion"], str(data.get("owner", "")), str(data.get("text", "")), decode_vector(raw)
    )


def thought_ref(db: firestore.Client, thought_id: str) -> firestore.DocumentReference:
    return db.collection(THOUGHTS).document(thought_id)


def index_ref(db: firestore.Client, thought_id: str) -> firestore.DocumentReference:
    return db.collection(THOUGHT_INDEX).document(thought_id)
