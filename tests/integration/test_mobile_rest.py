"""docs/mobile-clients.md's worked example, performed literally against the emulators.

The JSON bodies are read from the document's `<!-- example: NAME -->` blocks, so the page and this
test cannot drift apart.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from machbot.firestore_rest import from_fields
from machbot_fn.labels import EMOTIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "mobile-clients.md"
PROJECT = "demo-machbot"  # the project id the document's example uses
TIMEOUT = 30


def example(name: str, uid: str, message_id: str) -> dict[str, Any]:
    """The document's JSON block `name`, with {uid} and {messageId} filled in."""
    match = re.search(rf"<!-- example: {re.escape(name)} -->\s*```json\n(.*?)\n```", DOC.read_text(), re.DOTALL)
    assert match, f"{DOC.name} has no `example: {name}` JSON block"
    return json.loads(match.group(1).replace("{uid}", uid).replace("{messageId}", message_id))


@pytest.fixture
def rest(emulators, published) -> dict[str, str]:
    assert os.environ.get("GCLOUD_PROJECT", PROJECT) == PROJECT
    auth, firestore = os.environ["FIREBASE_AUTH_EMULATOR_HOST"], os.environ["FIRESTORE_EMULATOR_HOST"]
    return {
        "signUp": f"http://{auth}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key",
        "documents": f"http://{firestore}/v1/projects/{PROJECT}/databases/(default)/documents",
    }


def sign_up(rest: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Step 1: an anonymous account; its uid and the Authorization header."""
    r = requests.post(rest["signUp"], json={"returnSecureToken": True}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["localId"], {"Authorization": f"Bearer {body['idToken']}"}


def test_the_documented_calls_get_an_answer(rest: dict[str, str]) -> None:
    uid, auth = sign_up(rest)
    message_id = uuid.uuid4().hex
    path = f"users/{uid}/messages/{message_id}"

    # Step 2: the create, with REQUEST_TIME for createdAt and a create-only precondition.
    create = example("create", uid, message_id)
    r = requests.post(f"{rest['documents']}:commit", json=create, headers=auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    stamped = r.json()["writeResults"][0]["transformResults"][0]["timestampValue"]

    # Sending the same body again does not write a second message.
    again = requests.post(f"{rest['documents']}:commit", json=create, headers=auth, timeout=TIMEOUT)
    assert again.status_code == 409 and again.json()["error"]["status"] == "ALREADY_EXISTS", again.text

    # Step 3: poll the document until the function has answered.
    deadline = time.monotonic() + 90
    while True:
        r = requests.get(f"{rest['documents']}/{path}", headers=auth, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        raw = r.json()
        doc = from_fields(raw["fields"])
        if (doc.get("status") or {}).get("state") in ("done", "error"):
            break
        assert time.monotonic() < deadline, f"no answer: status={doc.get('status')}"
        time.sleep(0.1)

    assert doc["status"]["state"] == "done", doc.get("error")
    assert raw["fields"]["createdAt"]["timestampValue"] == stamped
    assert doc["text"] == "I finally got the job I wanted!" and doc["model"] == "bert"
    assert doc["conversationId"] == "first-conversation"
    assert doc["emotion"]["label"] in EMOTIONS and set(doc["emotion"]["scores"]) == set(EMOTIONS)
    assert doc["reply"]["text"].strip()
    assert doc["servedBy"]["classifier"]["id"] == "bert"
    assert isinstance(doc["timings"]["coldStart"], bool)
    assert set(raw["fields"]["status"]["mapValue"]["fields"]["attempt"]) == {"integerValue"}

    # Step 4: report the emotion as wrong; only `feedback` changes.
    r = requests.post(
        f"{rest['documents']}:commit", json=example("feedback", uid, message_id), headers=auth, timeout=TIMEOUT
    )
    assert r.status_code == 200, r.text
    after = from_fields(requests.get(f"{rest['documents']}/{path}", headers=auth, timeout=TIMEOUT).json()["fields"])
    assert after["feedback"]["label"] == "surprise"
    assert after["feedback"]["at"] > doc["createdAt"]
    assert {k: v for k, v in after.items() if k != "feedback"} == doc


def test_a_create_with_the_clients_own_timestamp_is_refused(rest: dict[str, str]) -> None:
    uid, auth = sign_up(rest)
    message_id = uuid.uuid4().hex
    r = requests.post(
        f"{rest['documents']}:commit",
        json=example("create-without-transform", uid, message_id),
        headers=auth,
        timeout=TIMEOUT,
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["status"] == "PERMISSION_DENIED"
    missing = requests.get(f"{rest['documents']}/users/{uid}/messages/{message_id}", headers=auth, timeout=TIMEOUT)
    assert missing.status_code == 404


def test_another_user_cannot_read_the_message(rest: dict[str, str]) -> None:
    uid, auth = sign_up(rest)
    message_id = uuid.uuid4().hex
    r = requests.post(
        f"{rest['documents']}:commit", json=example("create", uid, message_id), headers=auth, timeout=TIMEOUT
    )
    assert r.status_code == 200, r.text
    _, stranger = sign_up(rest)
    r = requests.get(f"{rest['documents']}/users/{uid}/messages/{message_id}", headers=stranger, timeout=TIMEOUT)
    assert r.status_code == 403
