"""The registry while the bucket is unreachable: every call bounded, a serving model never held up.

google-cloud-storage retries a refused connection for 120 s by default, twice the function's 60 s
timeout. The fake bucket here charges each failing call the time the real library would spend on
it (its retry budget, or one connect timeout when it makes a single attempt) on the registry's clock,
so the cost of an outage to the messages being served is measured, not guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc
from tiny_onnx import tiny_classifier

from machbot_fn.admin.publish import publish_version
from machbot_fn.errors import TransientError
from machbot_fn.models.registry import ModelRegistry

LIBRARY_DEFAULT_RETRY_SECONDS = 120.0  # google.cloud.storage.retry.DEFAULT_RETRY
FUNCTION_TIMEOUT_SECONDS = 60.0  # functions/main.py MESSAGE_OPTIONS["timeout_sec"]
RECHECK = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def call_seconds(call: dict) -> float:
    """How long the real library would block on an unreachable bucket with these arguments."""
    if "retry" not in call:
        return LIBRARY_DEFAULT_RETRY_SECONDS
    if call["retry"] is None:
        timeout = call.get("timeout", 60)
        return timeout[0] if isinstance(timeout, tuple) else timeout
    return call["retry"].timeout


class FlakyBlob:
    def __init__(self, bucket: FlakyBucket, name: str) -> None:
        self.bucket, self.name = bucket, name

    def download_as_bytes(self, **call) -> bytes:
        self.bucket.calls.append((self.name, call))
        if self.bucket.unreachable(self.name):
            self.bucket.clock.now += call_seconds(call)
            raise gexc.RetryError("connection refused", cause=ConnectionRefusedError(111, "Connection refused"))
        if self.name not in self.bucket.files:
            raise gexc.NotFound(self.name)
        return self.bucket.files[self.name]

    def download_to_filename(self, filename: str, **call) -> None:
        Path(filename).write_bytes(self.download_as_bytes(**call))

    def upload_from_string(self, data: str | bytes, content_type: str = "") -> None:
        self.bucket.files[self.name] = data.encode() if isinstance(data, str) else data

    def upload_from_filename(self, filename: str) -> None:
        self.upload_from_string(Path(filename).read_bytes())

    def exists(self) -> bool:
        return self.name in self.bucket.files


class FlakyBucket:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.files: dict[str, bytes] = {}
        self.calls: list[tuple[str, dict]] = []
        self.unreachable: Callable[[str], bool] = lambda name: False

    def blob(self, name: str) -> FlakyBlob:
        return FlakyBlob(self, name)


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("outage")
    return {v: tiny_classifier(root, "bert", v) for v in ("v1", "v2")}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bucket(clock: Clock) -> FlakyBucket:
    return FlakyBucket(clock)


@pytest.fixture
def registry(bucket: FlakyBucket, clock: Clock, tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(bucket, tmp_path / "cache", recheck_seconds=RECHECK, clock=clock)


def test_an_outage_fails_an_attempt_well_inside_the_function_timeout(bucket, clock, registry, versions) -> None:
    publish_version(bucket, None, versions["v1"])
    bucket.unreachable = lambda name: True
    with pytest.raises(TransientError, match="unavailable"):
        registry.get("bert")
    # Time left to release the claim (or end the last attempt in model_unavailable) before the cut.
    assert clock.now <= FUNCTION_TIMEOUT_SECONDS / 4


def test_every_bucket_call_carries_a_bounded_retry(bucket, clock, registry, versions) -> None:
    publish_version(bucket, None, versions["v1"])
    registry.get("bert")
    clock.now += RECHECK
    registry.get("bert")
    assert bucket.calls
    for name, call in bucket.calls:
        assert "retry" in call and "timeout" in call, f"{name} uses the library's 120 s default retry"
        assert call_seconds(call) <= FUNCTION_TIMEOUT_SECONDS / 4, name


def test_messages_served_during_an_outage_wait_on_the_bucket_at_most_once_per_recheck(
    bucket, clock, registry, versions
) -> None:
    publish_version(bucket, None, versions["v1"])
    registry.get("bert")
    bucket.unreachable = lambda name: True
    bucket.calls.clear()

    served, waited, start = [], 0.0, clock.now
    for _ in range(200):  # a message every 0.1 s of the registry's clock
        clock.now += 0.1
        before = clock.now
        served.append(registry.get("bert").version)
        waited += clock.now - before
    elapsed = clock.now - start

    assert set(served) == {"v1"}  # kept serving throughout
    checks = len(bucket.calls)
    assert 1 <= checks <= elapsed / RECHECK + 1
    assert waited <= checks * 3.0 + 1e-9  # each check one short attempt: no retries while a version serves


def test_a_new_version_that_cannot_be_downloaded_leaves_the_current_one_serving(
    bucket, clock, registry, versions
) -> None:
    publish_version(bucket, None, versions["v1"])
    assert registry.get("bert").version == "v1"
    publish_version(bucket, None, versions["v2"])
    bucket.unreachable = lambda name: "/v2/" in name  # CURRENT answers, the new files do not
    clock.now += RECHECK
    assert registry.get("bert").version == "v1"

    bucket.unreachable = lambda name: False  # a transient fault, not a verdict: v2 is tried again
    clock.now += RECHECK
    assert registry.get("bert").version == "v2"
