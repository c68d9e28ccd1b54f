"""Fixtures shared by the integration, rules and browser tests: the running emulators and tiny models.

`scripts/test.sh` runs pytest inside `firebase emulators:exec`, which sets the *_EMULATOR_HOST
variables. Run alone (e.g. `pytest tests/unit`), emulator tests skip; under the test command
(MACHBOT_REQUIRE_EMULATORS=1) a missing emulator is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def emulators_running() -> bool:
    return all(
        os.environ.get(v) for v in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "STORAGE_EMULATOR_HOST")
    )


@pytest.fixture(scope="session")
def emulators() -> None:
    if emulators_running():
        return
    if os.environ.get("MACHBOT_REQUIRE_EMULATORS") == "1":
        pytest.fail("the Firebase emulators are not running (run the suite with `make test`)")
    pytest.skip("needs the Firebase emulators: run `make test`")


@pytest.fixture(scope="session")
def db(emulators):
    from machbot_fn import clients

    return clients.firestore_client()


@pytest.fixture(scope="session")
def bucket(emulators):
    from machbot_fn import clients

    return clients.bucket()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Untrained tiny versions of every default model id (built by the project's export code)."""
    from machbot.default_models import DEFAULT_IDS, tiny_version

    root = tmp_path_factory.mktemp("tiny-models")
    return {model_id: tiny_version(model_id, root) for model_id in DEFAULT_IDS}


@pytest.fixture(scope="session")
def published(db, bucket, tiny_models) -> dict[str, Path]:
    """The tiny models published into the emulated bucket and catalog, as the run command does."""
    from machbot_fn.admin.publish import ensure_published

    ensure_published(bucket, db, list(tiny_models.values()))
    return tiny_models


@pytest.fixture(scope="session", autouse=True)
def sweeper_running(request: pytest.FixtureRequest):
    """While emulator tests run, sweep for never-claimed messages as the deployed scheduler does.

    The Functions emulator starts a worker process per concurrent event on a randomly chosen port
    and occasionally loses an invocation to a port clash ("socket hang up"); in production the
    scheduled sweeper recovers such messages, and here it does the same. Only never-claimed
    messages older than 15 s are re-driven, so tests of leases and late events are untouched, and
    every recovery is printed.
    """
    if not emulators_running():
        yield
        return
    import threading

    from machbot.stack import call_sweeper

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(5.0):
            try:
                counts = call_sweeper(grace_seconds=15, unclaimed_only=True)
            except Exception as exc:
                print(f"sweeper: {exc}")
                continue
            if counts.strip() not in ("{}", ""):
                print(f"sweeper re-drove never-claimed messages: {counts}")

    thread = threading.Thread(target=loop, name="sweeper", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)
