"""The reply pool: what people replied to messages like the user's, found by sentence embedding.

Retrieve-and-refine (Weston et al., 2018) starts here. For a message's embedding (MiniLM, the vector
the function already computes for "Others felt this too") and its detected emotion, `candidates`:

1. keeps the rows whose message had the same emotion (every row when the emotion is neutral or the
   classifier is not sure), and drops every reply of a polarity the message may have the opposite
   of (`avoided_polarities`: joy and love are positive, sadness, anger and fear negative; with the
   classifier's probabilities, a side holding `AVOID_MASS` of them counts, not only the top label);
2. shortlists the `SHORTLIST` rows whose message is most similar to the user's (cosine);
3. ranks them by `(1 - REPLY_WEIGHT) * message cosine + REPLY_WEIGHT * reply cosine`: of replies to
   equally similar messages, the one about what the user said comes first.

`choose` then picks one of the best few with a seed (a hash of the message id: a retry gets the
same reply).

The pool ships as `reply_pool.npz` in the T5 replier's version directory, listed with its sha256 in
the manifest, so it is fetched, verified, cached, swapped and rolled back with the model. Built by
`machbot build-pool` (training/machbot_train/reply_pool.py) from training conversations only.
One `np.savez_compressed` file, read with `allow_pickle=False`:

| array | dtype, shape | meaning |
|---|---|---|
| `schema` | int64, [] | `SCHEMA` |
| `labels` | unicode, [6] | the emotion order the indices below use: `EMOTIONS` |
| `message_vectors` | int8, [n, dim] | the messages' unit embeddings, quantised per row |
| `message_scales` | float32, [n] | the row's scale: vector = message_vectors[i] * message_scales[i] |
| `message_emotions` | int8, [n] | the message's annotated emotion: index into `labels`, or `NEUTRAL_INDEX` |
| `replies` | unicode, [n] | the human reply, as it is served |
| `reply_vectors` | int8, [n, dim] | the replies' unit embeddings, quantised per row |
| `reply_scales` | float32, [n] | their scales |
| `reply_emotions` | int8, [n] | the reply's own emotion read by our classifier: index into `labels` |
| `reply_scores` | float32, [n] | that classifier's calibrated probability for it |
| `embedder` | unicode, [] | `<id>@<version>` of the embedder the vectors came from (queries must match) |
| `classifier` | unicode, [] | `<id>@<version>` of the classifier that read the replies |

Numpy only: this module runs in the function.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from machbot_fn.errors import ModelUnavailable
from machbot_fn.labels import EMOTIONS, NEUTRAL

POOL_FILE = "reply_pool.npz"
SCHEMA = 1
NEUTRAL_INDEX = len(EMOTIONS)  # a message with no emotion (or none annotated)
POSITIVE = frozenset({"joy", "love"})
NEGATIVE = frozenset({"sadness", "anger", "fear"})  # surprise and neutral conflict with nothing
AVOID_MASS = 0.2  # a polarity holding this much of the message's probability is one to answer with care
DEFAULT_K = 10
SHORTLIST = 20  # rows ranked by the reply's own similarity, out of the most similar messages
REPLY_WEIGHT = 0.5
CHOICE_TOP = 3  # choose() picks among at most this many of the best candidates ...
CHOICE_MARGIN = 0.05  # ... that are within this score of the best one
ARRAYS = (
    "schema",
    "labels",
    "message_vectors",
    "message_scales",
    "message_emotions",
    "replies",
    "reply_vectors",
    "reply_scales",
    "reply_emotions",
    "reply_scores",
    "embedder",
    "classifier",
)
PER_ROW = {
    "message_scales": np.float32,
    "message_emotions": np.int8,
    "reply_scales": np.float32,
    "reply_emotions": np.int8,
    "reply_scores": np.float32,
}


def polarity(emotion: str) -> int:
    """+1 for joy and love, -1 for sadness, anger and fear, 0 for surprise, neutral and anything else."""
    return 1 if emotion in POSITIVE else -1 if emotion in NEGATIVE else 0


def conflicting(message_emotion: str, reply_emotion: str) -> bool:
    """A reply of the opposite polarity to the message: joy or love to sadness, anger or fear, or the reverse."""
    return polarity(message_emotion) * polarity(reply_emotion) < 0


def avoided_polarities(
    emotion: str, scores: Mapping[str, float] | None = None, mass: float = AVOID_MASS
) -> frozenset[int]:
    """The reply polarities a message must not get: the opposite of its label's, and with the classifier's
    probabilities the opposite of every side holding at least `mass` of them (so a message that may be
    sad gets no cheerful reply, even when the classifier's best guess is joy or it is not sure)."""
    avoid = {-polarity(emotion)} - {0}
    if scores:
        if sum(scores.get(label, 0.0) for label in NEGATIVE) >= mass:
            avoid.add(1)
        if sum(scores.get(label, 0.0) for label in POSITIVE) >= mass:
            avoid.add(-1)
    return frozenset(avoid)


def seed_for(key: str) -> int:
    """A stable seed for `choose` from a string (the message id): a retry gets the same reply."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def quantize_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and one float32 scale per row, so that row i ~ q[i] * scale[i] (max error scale / 2)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"expected a matrix of vectors, got shape {vectors.shape}")
    peak = np.abs(vectors).max(axis=1)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return q, scales


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out


def _emotion_index(label: str) -> int:
    return EMOTIONS.index(label) if label in EMOTIONS else NEUTRAL_INDEX


@dataclass(frozen=True)
class PoolArrays:
    """The arrays of a pool file (see the module doc for each)."""

    message_vectors: np.ndarray
    message_scales: np.ndarray
    message_emotions: np.ndarray
    replies: np.ndarray
    reply_vectors: np.ndarray
    reply_scales: np.ndarray
    reply_emotions: np.ndarray
    reply_scores: np.ndarray
    embedder: str
    classifier: str

    def __len__(self) -> int:
        return int(self.replies.shape[0])

    @classmethod
    def from_vectors(
        cls,
        message_vectors: np.ndarray,
        replies: Sequence[str],
        reply_vectors: np.ndarray,
        message_emotions: Sequence[str],
        reply_emotions: Sequence[str],
        reply_scores: Sequence[float],
        *,
        embedder: str,
        classifier: str,
    ) -> PoolArrays:
        """From float embeddings and label names (a message label not in EMOTIONS is neutral)."""
        if any(label not in EMOTIONS for label in reply_emotions):
            raise ValueError(f"reply emotions must be among {list(EMOTIONS)}")
        message_q, message_scales = quantize_rows(_unit(np.asarray(message_vectors, dtype=np.float32)))
        reply_q, reply_scales = quantize_rows(_unit(np.asarray(reply_vectors, dtype=np.float32)))
        arrays = cls(
            message_vectors=message_q,
            message_scales=message_scales,
            message_emotions=np.asarray([_emotion_index(e) for e in message_emotions], dtype=np.int8),
            replies=np.asarray(list(replies), dtype=np.str_),
            reply_vectors=reply_q,
            reply_scales=reply_scales,
            reply_emotions=np.asarray([EMOTIONS.index(e) for e in reply_emotions], dtype=np.int8),
            reply_scores=np.asarray(reply_scores, dtype=np.float32),
            embedder=embedder,
            classifier=classifier,
        )
        arrays.validate()
        return arrays

    def take(self, rows: Sequence[int]) -> PoolArrays:
        """The pool of only these rows, in this order."""
        idx = np.asarray(rows, dtype=np.int64)
        return PoolArrays(
            message_vectors=self.message_vectors[idx],
            message_scales=self.message_scales[idx],
            message_emotions=self.message_emotions[idx],
            replies=self.replies[idx],
            reply_vectors=self.reply_vectors[idx],
            reply_scales=self.reply_scales[idx],
            reply_emotions=self.reply_emotions[idx],
            reply_scores=self.reply_scores[idx],
            embedder=self.embedder,
            classifier=self.classifier,
        )

    def validate(self, where: str = "reply pool") -> None:
        """Raise ModelUnavailable naming the first thing wrong with the arrays."""

        def bad(problem: str) -> ModelUnavailable:
            return ModelUnavailable(f"{where}: {problem}")

        n = len(self.replies)
        if self.replies.dtype.kind != "U" or self.replies.ndim != 1 or n == 0:
            raise bad(
                f"replies must be a non-empty unicode vector, got {self.replies.dtype} {list(self.replies.shape)}"
            )
        dim = self.message_vectors.shape[-1]
        for name in ("message_vectors", "reply_vectors"):
            vectors = getattr(self, name)
            if vectors.dtype != np.int8 or vectors.ndim != 2 or vectors.shape[1] < 2:
                raise bad(f"{name} must be int8 [n, dim], got {vectors.dtype} {list(vectors.shape)}")
            if vectors.shape != (n, dim):
                raise bad(f"{name} is {list(vectors.shape)}, expected [{n}, {dim}] (one row per reply)")
        for name, dtype in PER_ROW.items():
            array = getattr(self, name)
            if array.dtype != dtype or array.shape != (n,):
                raise bad(f"{name} must be {np.dtype(dtype).name} [{n}], got {array.dtype} {list(array.shape)}")
        for name in ("message_scales", "reply_scales"):
            scales = getattr(self, name)
            if not np.all(np.isfinite(scales)) or np.any(scales <= 0):
                raise bad(f"{name} must be finite and positive")
        if np.any(self.message_emotions < 0) or np.any(self.message_emotions > NEUTRAL_INDEX):
            raise bad(f"message_emotions must be from 0 to {NEUTRAL_INDEX}")
        if np.any(self.reply_emotions < 0) or np.any(self.reply_emotions >= len(EMOTIONS)):
            raise bad(f"reply_emotions must be from 0 to {len(EMOTIONS) - 1}")
        if not np.all(np.isfinite(self.reply_scores)) or np.any((self.reply_scores < 0) | (self.reply_scores > 1)):
            raise bad("reply_scores must be probabilities")
        if np.any(np.char.str_len(np.char.strip(self.replies)) == 0):
            raise bad("a reply is empty")

    def save(self, path: Path) -> None:
        """Write the pool file (np.savez_compressed: no pickled objects)."""
        self.validate()
        with Path(path).open("wb") as fh:
            np.savez_compressed(
                fh,
                schema=np.asarray(SCHEMA, dtype=np.int64),
                labels=np.asarray(EMOTIONS, dtype=np.str_),
                message_vectors=self.message_vectors,
                message_scales=self.message_scales,
                message_emotions=self.message_emotions,
                replies=self.replies,
                reply_vectors=self.reply_vectors,
                reply_scales=self.reply_scales,
                reply_emotions=self.reply_emotions,
                reply_scores=self.reply_scores,
                embedder=np.asarray(self.embedder, dtype=np.str_),
                classifier=np.asarray(self.classifier, dtype=np.str_),
            )

    @classmethod
    def read(cls, path: Path) -> PoolArrays:
        """Read and validate a pool file; ModelUnavailable saying what is wrong if it is not one."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = [name for name in ARRAYS if name not in data.files]
                if missing:
                    raise ModelUnavailable(f"{path.name}: not a reply pool (missing {', '.join(missing)})")
                arrays = {name: data[name] for name in ARRAYS}
        except ModelUnavailable:
            raise
        except FileNotFoundError as exc:
            raise ModelUnavailable(f"{path.name}: reply pool file not found") from exc
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise ModelUnavailable(f"{path.name}: unreadable reply pool ({exc})") from exc
        if arrays["schema"].shape != () or int(arrays["schema"]) != SCHEMA:
            raise ModelUnavailable(f"{path.name}: reply pool schema {arrays['schema']!r}, expected {SCHEMA}")
        if arrays["labels"].dtype.kind != "U" or tuple(arrays["labels"].tolist()) != EMOTIONS:
            raise ModelUnavailable(
                f"{path.name}: reply pool labels {arrays['labels'].tolist()} are not {list(EMOTIONS)}"
            )
        for name in ("embedder", "classifier"):
            if arrays[name].dtype.kind != "U" or arrays[name].shape != ():
                raise ModelUnavailable(f"{path.name}: {name} must be a unicode string")
        pool = cls(
            **{name: arrays[name] for name in ARRAYS if name not in ("schema", "labels", "embedder", "classifier")},
            embedder=str(arrays["embedder"]),
            classifier=str(arrays["classifier"]),
        )
        pool.validate(path.name)
        return pool


@dataclass(frozen=True)
class ReplyCandidate:
    text: str
    score: float  # what candidates are ranked by: message and reply similarity, weighted
    message_score: float  # cosine of the query with the message this reply answered
    reply_score: float  # cosine of the query with the reply itself
    emotion: str  # the reply's own emotion (as the pool's classifier read it)
    emotion_score: float  # that classifier's probability for it
    row: int  # the row in the pool file


class ReplyPool:
    """The pool in memory: float32 unit vectors grouped by message emotion, searched exactly.

    A query scores only the rows of its emotion (one matrix-vector product over a contiguous block);
    a neutral or unsure one, or one whose emotion the pool has no usable row for, scores every row."""

    def __init__(self, arrays: PoolArrays) -> None:
        arrays.validate()
        order = np.argsort(arrays.message_emotions, kind="stable")
        emotions = arrays.message_emotions[order]
        self.vectors = _unit(arrays.message_vectors[order].astype(np.float32) * arrays.message_scales[order, None])
        self.reply_vectors = _unit(arrays.reply_vectors[order].astype(np.float32) * arrays.reply_scales[order, None])
        self.rows = order  # position -> row in the file
        self.replies = arrays.replies[order]
        self.reply_emotions = arrays.reply_emotions[order]
        self.reply_scores = arrays.reply_scores[order]
        self.reply_polarity = np.asarray([polarity(EMOTIONS[i]) for i in self.reply_emotions], dtype=np.int8)
        bounds = np.searchsorted(emotions, np.arange(NEUTRAL_INDEX + 2))
        self.blocks = {label: slice(int(bounds[i]), int(bounds[i + 1])) for i, label in enumerate((*EMOTIONS, NEUTRAL))}
        self.embedder = arrays.embedder
        self.classifier = arrays.classifier

    @classmethod
    def load(cls, path: Path) -> ReplyPool:
        return cls(PoolArrays.read(path))

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def nbytes(self) -> int:
        """Memory held by the vectors."""
        return int(self.vectors.nbytes + self.reply_vectors.nbytes)

    def counts(self) -> dict[str, int]:
        """Rows per message emotion (NEUTRAL included)."""
        return {label: block.stop - block.start for label, block in self.blocks.items()}

    def candidates(
        self,
        vector: np.ndarray,
        emotion: str,
        k: int = DEFAULT_K,
        scores: Mapping[str, float] | None = None,
    ) -> list[ReplyCandidate]:
        """The k best replies for a message embedding, best first (see the module doc).

        `emotion`: the detected label, or neutral when the classifier is not sure (any other value
        counts as neutral); `scores`: the classifier's probabilities per label, if known. If the
        message's emotion has no row left, every row is searched; polarity is never relaxed.
        """
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != self.dim:
            raise ValueError(f"query vector has {query.shape[0]} dimensions, the pool {self.dim}")
        if k <= 0:
            return []
        avoid = avoided_polarities(emotion, scores)
        block = self.blocks[emotion] if emotion in EMOTIONS else slice(0, len(self))
        allowed = self._allowed(block, avoid)
        if not allowed.any() and (block.start, block.stop) != (0, len(self)):
            block = slice(0, len(self))
            allowed = self._allowed(block, avoid)
        similarity = np.where(allowed, self.vectors[block] @ query, -np.inf)
        n = int(allowed.sum())
        short = min(max(k, SHORTLIST), n)
        if short == 0:
            return []
        top = np.argpartition(-similarity, short - 1)[:short] if short < similarity.shape[0] else np.arange(n)
        top = top[np.isfinite(similarity[top])]
        rows = block.start + top
        reply_similarity = self.reply_vectors[rows] @ query
        combined = (1 - REPLY_WEIGHT) * similarity[top] + REPLY_WEIGHT * reply_similarity
        ranked = np.argsort(-combined, kind="stable")[:k]
        return [
            ReplyCandidate(
                text=str(self.replies[rows[i]]),
                score=float(combined[i]),
                message_score=float(similarity[top[i]]),
                reply_score=float(reply_similarity[i]),
                emotion=EMOTIONS[int(self.reply_emotions[rows[i]])],
                emotion_score=float(self.reply_scores[rows[i]]),
                row=int(self.rows[rows[i]]),
            )
            for i in ranked
        ]

    def _allowed(self, block: slice, avoid: frozenset[int]) -> np.ndarray:
        polarities = self.reply_polarity[block]
        allowed = np.ones(polarities.shape[0], dtype=bool)
        for side in avoid:
            allowed &= polarities != side
        return allowed


def choose(
    candidates: Sequence[ReplyCandidate], seed: int, top: int = CHOICE_TOP, margin: float = CHOICE_MARGIN
) -> ReplyCandidate | None:
    """One of the best few candidates (those within `margin` of the best score, at most `top`), picked by
    `seed`: the same candidates and seed always give the same reply. None when there are none."""
    if not candidates:
        return None
    best = candidates[0].score
    near = [c for c in candidates[: max(1, top)] if c.score >= best - margin]
    return near[seed % len(near)]
