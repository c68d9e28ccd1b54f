"""Talking to the running emulators from tests the way real clients do.

- `User`: an Auth-emulator account writing through the Firestore REST API exactly as a mobile client
  (`documents:commit` with a REQUEST_TIME transform for createdAt), so security rules apply. The REST
  code is machbot/firestore_rest.py, shared with `machbot chat`; docs/mobile-clients.md shows the calls.
- `deliver_created_event`: posts a Firestore "document created" CloudEvent straight to the function's
  trigger in the Functions emulator: redelivery, duplicates, late and out-of-order events on demand.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from google.cloud import firestore

from machbot.firestore_rest import Endpoints, Session, to_value

__all__ = [
    "FINAL",
    "PROJECT",
    "SnapshotLog",
    "User",
    "deliver_created_event",
    "eventually",
    "firestore_base",
    "to_value",
    "wait_final",
]

PROJECT = os.environ.get("GCLOUD_PROJECT", "demo-machbot")
FUNCTIONS = "http://127.0.0.1:5001"
# The Functions emulator names event triggers <region>-<function>-<index>.
TRIGGER = "us-central1-on_message_created-0"
FINAL = ("done", "error")


def firestore_base() -> str:
    return Endpoints.emulators(PROJECT).documents_url


class User(Session):
    """An Auth-emulator user writing through Firestore REST exactly as a mobile client (rules apply)."""

    @classmethod
    def sign_up(cls) -> User:
        return cls.sign_up_anonymously(Endpoints.emulators(PROJECT))

    def messages_path(self) -> str:
        return f"users/{self.uid}/messages"

    def commit(  # type: ignore[override]
        self,
        path: str,
        fields: dict[str, Any],
        server_time_fields: tuple[str, ...] = ("createdAt",),
        exists: bool | None = False,
    ) -> requests.Response:
        """Write a document as this user (create by default); returns the raw response (200 or 403)."""
        return self.commit_document(path, fields, server_time_fields, exists)

    def send(self, text: Any, model: Any = "bert", **extra: Any) -> str:
        """Create a message as a mobile client would; returns its document path (asserts the rules allow it)."""
        path = f"{self.messages_path()}/{uuid.uuid4().hex}"
        r = self.commit(path, {"text": text, "model": model, **extra})
        assert r.status_code == 200, f"create refused: {r.status_code} {r.text[:300]}"
        return path


def wait_final(db: firestore.Client, path: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll until the message is done or error; fail with its last state otherwise."""
    deadline = time.monotonic() + timeout
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = db.document(path).get().to_dict() or {}
        if (data.get("status") or {}).get("state") in FINAL:
            return data
        time.sleep(0.05)
    raise AssertionError(f"{path} has no outcome after {timeout:.0f} s: status={data.get('status')}")


def eventually(read: Callable[[], Any], ok: Callable[[Any], bool], timeout: float = 60.0) -> Any:
    """Poll `read()` until `ok(value)`; return the value (fails with the last one seen)."""
    deadline = time.monotonic() + timeout
    value = read()
    while not ok(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout:.0f} s; last value: {value!r}")
        time.sleep(0.1)
        value = read()
    return value


def deliver_created_event(path: str, event_time: datetime | None = None, timeout: float = 120.0) -> requests.Response:
    """POST a `document.v1.created` CloudEvent for `path` to the function, as Eventarc would."""
    now = (event_time or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    name = f"projects/{PROJECT}/databases/(default)/documents/{path}"
    event = {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "type": "google.cloud.firestore.document.v1.created",
        "source": f"//firestore.googleapis.com/projects/{PROJECT}/databases/(default)",
        "time": now,
        "datacontenttype": "application/json",
        "subject": f"documents/{path}",
        "location": "us-central1",
        "project": PROJECT,
        "database": "(default)",
        "namespace": "(default)",
        "document": path,
        # As a JSON string: firebase-functions parses JSON event data with DocumentEventData.from_json.
        "data": json.dumps({"value": {"name": name, "fields": {}, "createTime": now, "updateTime": now}}),
    }
    return requests.post(
        f"{FUNCTIONS}/functions/projects/{PROJECT}/triggers/{TRIGGER}",
        json=event,
        headers={"Content-Type": "application/cloudevents+json"},
        timeout=timeout,
    )


class SnapshotLog:
    """Every state a document passes through, recorded by a live listener (to count reply writes)."""

    def __init__(self, db: firestore.Client, path: str) -> None:
        self.states: list[dict[str, Any]] = []
        self._watch = db.document(path).on_snapshot(self._on)

    def _on(self, docs: list, changes: list, read_time: Any) -> None:
        for doc in docs:
            self.states.append(doc.to_dict() or {})

    def close(self) -> None:
        self._watch.unsubscribe()

    def wait_for_reply(self, timeout: float = 60.0) -> None:
        """Until the listener has seen the reply: it lags the writes (a poll may see `done` first)."""
        eventually(self.reply_writes, lambda n: n >= 1, timeout)

    def reply_writes(self) -> int:
        """How many distinct `done` writes were observed."""
        return len(
            {
                str((s.get("status") or {}).get("updatedAt"))
                for s in self.states
                if (s.get("status") or {}).get("state") == "done"
            }
        )
