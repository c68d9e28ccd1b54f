"""Tunables of the serving side, read once per instance from the environment (names prefixed MACHBOT_).

Each setting is declared once, with its default and its variable (`setting(...)` below);
`from_env` reads whichever are set and fails with the variable's name when one is not a number.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
S = TypeVar("S")
PREFIX = "MACHBOT_"
EMULATOR_PROJECT = "demo-machbot"  # the local project when no Google Cloud project is set
CACHE_DIR = Path("/tmp/machbot-models")  # downloaded model files (an instance's /tmp is memory)


def setting(name: str, default: T, parse: Callable[[str], T] | None = None) -> T:
    """A dataclass field with its default, read from MACHBOT_<name> (parsed like the default's type)."""
    return field(default=default, metadata={"env": PREFIX + name, "parse": parse or type(default)})


def _read(cls: type[S], environ: Mapping[str, str], **given: Any) -> S:
    values = dict(given)
    for f in fields(cls):  # type: ignore[arg-type]
        name = f.metadata.get("env")
        if name is None or name not in environ:
            continue
        try:
            values[f.name] = f.metadata["parse"](environ[name])
        except ValueError as exc:
            raise ValueError(f"{name}={environ[name]!r} is not a valid {f.metadata['parse'].__name__}") from exc
    return cls(**values)


def _names(raw: str) -> tuple[str, ...]:
    return tuple(x for x in raw.split(",") if x)


def project_id(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("GCLOUD_PROJECT") or environ.get("GOOGLE_CLOUD_PROJECT") or EMULATOR_PROJECT


def default_bucket(environ: Mapping[str, str] = os.environ) -> str:
    """The project's default bucket: MACHBOT_BUCKET, else FIREBASE_CONFIG's storageBucket, else <project>.appspot.com."""
    explicit = environ.get(PREFIX + "BUCKET")
    if explicit:
        return explicit
    config = environ.get("FIREBASE_CONFIG", "")
    if config.startswith("{"):
        bucket = json.loads(config).get("storageBucket")
        if bucket:
            return str(bucket)
    return f"{project_id(environ)}.appspot.com"


@dataclass(frozen=True)
class SharingSettings:
    """'Others felt this too'."""

    similar_count: int = setting("SIMILAR_COUNT", 3)  # shared thoughts written onto each answered message, at most
    min_score: float = setting("SIMILAR_MIN_SCORE", 0.3)  # cosine similarity below which a thought is not shown
    refresh_seconds: float = setting("POOL_REFRESH_SECONDS", 2.0)  # how often an instance reads the pool's changes
    report_threshold: int = setting("REPORT_THRESHOLD", 3)  # reports by different users that hide a thought
    embedder_retry_seconds: float = setting("EMBEDDER_RETRY_SECONDS", 30.0)  # matching pauses this long after the
    # embedder failed to load

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SharingSettings:
        return _read(cls, environ)


@dataclass(frozen=True)
class Settings:
    bucket: str
    cache_dir: Path = setting("CACHE_DIR", CACHE_DIR)  # noqa: RUF009 (a Path is immutable)
    lease_seconds: float = setting("LEASE_SECONDS", 60.0)  # a claim older than this is presumed dead and re-driven
    max_attempts: int = setting("MAX_ATTEMPTS", 3)  # then the message ends in error instead of retrying forever
    event_cutoff_seconds: float = setting("EVENT_CUTOFF_SECONDS", 600.0)  # older events end in `expired`
    recheck_seconds: float = setting("RECHECK_SECONDS", 5.0)  # how often CURRENT is re-read from the bucket
    history_turns: int = setting("HISTORY_TURNS", 4)  # previous messages (with their replies) given to the replier
    onnx_threads: int = setting("ONNX_THREADS", 1)
    preload: tuple[str, ...] = setting("PRELOAD", (), _names)  # model ids loaded at instance start
    sharing: SharingSettings = field(default_factory=SharingSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return _read(cls, environ, bucket=default_bucket(environ), sharing=SharingSettings.from_env(environ))
