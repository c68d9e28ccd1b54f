"""The model bucket becomes unreachable: a true network fault, met by the real pipeline code.

The services are built in this process as the function builds them (its settings, a fresh
ModelRegistry with its own cache directory, a real Firestore client on the emulator), but the
Storage client points at a loopback port that is bound and never listens, so every request fails
with "connection refused", exactly what google-cloud-storage sees when the bucket is down.

Each test is the only handler of its messages, so every `handle_message` call is one delivery: the
documents sit at the real `users/{uid}/messages/{id}` paths, in a second project on the same
Firestore emulator, which the deployed trigger and the sweeper (both bound to demo-machbot) never
see. Were the real trigger to answer one of them with the healthy bucket, the first call here would
find it finished and the test would fail.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore, storage

from machbot_fn.errors import TransientError
from machbot_fn.models.registry import ModelRegistry
from machbot_fn.serving import lifecycle
from machbot_fn.serving.pipeline import Services, handle_message
from machbot_fn.settings import Settings

FAULT_PROJECT = "demo-machbot-faults"
UID = "fault-tester"
FUNCTION_FIELDS = ("emotion", "reply", "servedBy", "timings")


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connections are refused, and nobody else can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The function's settings (the test command's environment), with a cache directory of our own."""
    return dataclasses.replace(Settings.from_env(), cache_dir=tmp_path / "model-cache")


@pytest.fixture(scope="module")
def fault_db(emulators) -> firestore.Client:
    return firestore.Client(project=FAULT_PROJECT, credentials=AnonymousCredentials())


def storage_bucket(name: str, endpoint: str | None = None) -> storage.Bucket:
    """A real google-cloud-storage bucket handle: the Storage emulator, or `endpoint` when given."""
    options = {"api_endpoint": endpoint} if endpoint else None
    client = storage.Client(project=FAULT_PROJECT, credentials=AnonymousCredentials(), client_options=options)
    return client.bucket(name)


@pytest.fixture
def dead_bucket(settings: Settings, closed_port: int) -> storage.Bucket:
    return storage_bucket(settings.bucket, f"http://127.0.0.1:{closed_port}")


class SwitchableBucket:
    """Hands out blobs of whichever real bucket `target` is: the bucket "goes down" when it is switched."""

    def __init__(self, target: storage.Bucket) -> None:
        self.target = target

    def blob(self, name: str) -> storage.Blob:
        return self.target.blob(name)


def services_for(bucket: Any, db: firestore.Client, settings: Settings) -> Services:
    registry = ModelRegistry(
        bucket, settings.cache_dir, recheck_seconds=settings.recheck_seconds, threads=settings.onnx_threads
    )
    return Services(db=db, registry=registry, settings=settings)


def new_message(db: firestore.Client, text: str, model: str = "bert") -> firestore.DocumentReference:
    ref = db.document(f"users/{UID}/messages/{uuid.uuid4().hex}")
    ref.set({"text": text, "model": model, "createdAt": firestore.SERVER_TIMESTAMP})
    return ref


def assert_released(ref: firestore.DocumentReference, attempt: int, settings: Settings) -> None:
    """Still processing after `attempt`, its lease handed back: the next delivery may retry at once."""
    doc = ref.get().to_dict()
    status = doc["status"]
    assert status["state"] == "processing" and status["attempt"] == attempt, status
    now = datetime.now(UTC)
    assert status["leaseUntil"] <= now, f"the lease was kept ({status['leaseUntil']}), not released"
    decision = lifecycle.decide(doc, now, settings.lease_seconds, settings.max_attempts)
    assert decision == lifecycle.Take(attempt + 1, decision.lease_until)
    assert not any(field in doc for field in (*FUNCTION_FIELDS, "error"))


def test_an_unreachable_bucket_is_retried_then_ends_in_model_unavailable(
    fault_db, dead_bucket, settings, closed_port
) -> None:
    assert settings.max_attempts == 3
    services = services_for(dead_bucket, fault_db, settings)
    ref = new_message(fault_db, "is anybody out there? the bucket is down")

    for attempt in (1, 2):
        with pytest.raises(TransientError) as failure:
            handle_message(services, ref, datetime.now(UTC))
        # A true network fault, from the real client: nothing listens on the port.
        assert "Connection refused" in str(failure.value), failure.value
        assert f"port={closed_port}" in str(failure.value)
        assert_released(ref, attempt, settings)

    assert handle_message(services, ref, datetime.now(UTC)) == "error"
    doc = ref.get().to_dict()
    assert doc["status"]["state"] == "error"
    assert doc["status"]["attempt"] == 3
    assert doc["status"]["leaseUntil"] is None
    assert doc["error"] == {
        "code": "model_unavailable",
        "message": "the model store could not be reached; please try again later",
    }
    assert not any(field in doc for field in FUNCTION_FIELDS)  # no reply written
    # A delivery arriving after the end changes nothing.
    assert handle_message(services, ref, datetime.now(UTC)) == lifecycle.Skip.FINISHED
    assert ref.get().to_dict() == doc


def test_a_loaded_model_keeps_serving_while_the_bucket_is_down(
    published, fault_db, dead_bucket, settings, caplog: pytest.LogCaptureFixture
) -> None:
    live = storage_bucket(settings.bucket)  # the Storage emulator, through STORAGE_EMULATOR_HOST
    bucket = SwitchableBucket(live)
    services = services_for(bucket, fault_db, settings)

    first = new_message(fault_db, "i am glad the bucket is up")
    assert handle_message(services, first, datetime.now(UTC)) == "done"
    served = first.get().to_dict()["servedBy"]

    bucket.target = dead_bucket  # the bucket goes away
    time.sleep(settings.recheck_seconds + 0.2)  # past the re-check: the registry asks the bucket again
    with caplog.at_level(logging.WARNING, logger="machbot_fn.models.registry"):
        for i in range(3):
            ref = new_message(fault_db, f"message {i} while the bucket is down")
            assert handle_message(services, ref, datetime.now(UTC)) == "done"
            doc = ref.get().to_dict()
            assert doc["servedBy"] == served and doc["reply"]["text"]
    assert "bucket unreachable; bert keeps serving" in caplog.text  # it did ask, and was refused

    # A model this instance never loaded cannot be served: the message is released for a retry.
    other = new_message(fault_db, "and what does distilbert think?", model="distilbert")
    with pytest.raises(TransientError, match="Connection refused"):
        handle_message(services, other, datetime.now(UTC))
    assert_released(other, 1, settings)

    bucket.target = live  # the bucket is back: the released message is answered on its next delivery
    assert handle_message(services, other, datetime.now(UTC)) == "done"
    doc = other.get().to_dict()
    assert doc["status"]["attempt"] == 2
    assert doc["servedBy"]["classifier"]["id"] == "distilbert"
