"""Tunables of "Others felt this too", read from the environment (names prefixed MACHBOT_)."""

from __future__ import annotations

from dataclasses import dataclass

from machbot_fn.settings import _float, _int


@dataclass(frozen=True)
class SharingSettings:
    similar_count: int = 3  # shared thoughts written onto each answered message, at most
    min_score: float = 0.3  # cosine similarity below which a thought is not shown as similar
    refresh_seconds: float = 2.0  # how often an instance reads the pool's latest changes
    report_threshold: int = 3  # reports by different users that hide a thought from matching
    embedder_retry_seconds: float = 30.0  # after the embedder failed to load, matching pauses this long

    @classmethod
    def from_env(cls) -> SharingSettings:
        return cls(
            similar_count=_int("SIMILAR_COUNT", 3),
            min_score=_float("SIMILAR_MIN_SCORE", 0.3),
            refresh_seconds=_float("POOL_REFRESH_SECONDS", 2.0),
            report_threshold=_int("REPORT_THRESHOLD", 3),
            embedder_retry_seconds=_float("EMBEDDER_RETRY_SECONDS", 30.0),
        )
