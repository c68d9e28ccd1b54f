"""Tunables of the serving side, read once from the environment (names prefixed MACHBOT_)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def _float(name: str, default: float) -> float:
    return float(os.environ.get(f"MACHBOT_{name}", default))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(f"MACHBOT_{name}", default))


def default_bucket() -> str:
    """The project's default bucket: MACHBOT_BUCKET, else FIREBASE_CONFIG's storageBucket, else <project>.appspot.com."""
    explicit = os.environ.get("MACHBOT_BUCKET")
    if explicit:
        return explicit
    config = os.environ.get("FIREBASE_CONFIG", "")
    if config.startswith("{"):
        bucket = json.loads(config).get("storageBucket")
        if bucket:
            return bucket
    project = os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT") or "demo-machbot"
    return f"{project}.appspot.com"


@dataclass(frozen=True)
class Settings:
    bucket: str
    cache_dir: Path
    lease_seconds: float = 60.0  # a claim older than this is presumed dead and may be re-driven
    max_attempts: int = 3  # then the message ends in error instead of retrying forever
    event_cutoff_seconds: float = 600.0  # older events end in `expired` rather than a late answer
    recheck_seconds: float = 5.0  # how often CURRENT is re-read from the bucket
    history_turns: int = 4  # previous messages (with their replies) given to the replier
    onnx_threads: int = 1
    preload: tuple[str, ...] = ()  # model ids loaded at instance start

    @classmethod
    def from_env(cls) -> Settings:
        preload = tuple(x for x in os.environ.get("MACHBOT_PRELOAD", "").split(",") if x)
        return cls(
            bucket=default_bucket(),
            cache_dir=Path(os.environ.get("MACHBOT_CACHE_DIR", "/tmp/machbot-models")),
            lease_seconds=_float("LEASE_SECONDS", 60.0),
            max_attempts=_int("MAX_ATTEMPTS", 3),
            event_cutoff_seconds=_float("EVENT_CUTOFF_SECONDS", 600.0),
            recheck_seconds=_float("RECHECK_SECONDS", 5.0),
            history_turns=_int("HISTORY_TURNS", 4),
            onnx_threads=_int("ONNX_THREADS", 1),
            preload=preload,
        )
