"""Bad input, written by a signed-in client through REST: every kind ends in a rules denial or a clear error.

None may crash the function or leave a message without an outcome.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from emulator import User, wait_final

DENIED, ERROR, DONE = "denied", "error", "done"

# (kind, fields, server_time_fields, expected outcome, expected error code)
CASES = [
    ("empty text", {"text": ""}, ("createdAt",), DENIED, None),
    ("whitespace only", {"text": " \n\t  "}, ("createdAt",), DENIED, None),
    ("2001 characters", {"text": "a" * 2001}, ("createdAt",), DENIED, None),
    ("1001 emoji (2002 UTF-16 units)", {"text": "😀" * 1001}, ("createdAt",), DENIED, None),
    ("text is a number", {"text": 12}, ("createdAt",), DENIED, None),
    ("text is a map", {"text": {"a": "b"}}, ("createdAt",), DENIED, None),
    ("text is null", {"text": None}, ("createdAt",), DENIED, None),
    ("model missing", {"model": None}, ("createdAt",), DENIED, None),
    ("model of the wrong type", {"model": 5}, ("createdAt",), DENIED, None),
    ("model with upper case and spaces", {"model": "Bert Large"}, ("createdAt",), DENIED, None),
    ("extra field", {"priority": "high"}, ("createdAt",), DENIED, None),
    ("forged status", {"status": {"state": "done"}}, ("createdAt",), DENIED, None),
    ("forged reply", {"reply": {"text": "hi"}}, ("createdAt",), DENIED, None),
    ("missing createdAt", {}, (), DENIED, None),
    ("forged createdAt", {"createdAt": datetime(2020, 1, 1, tzinfo=UTC)}, (), DENIED, None),
    ("huge conversationId", {"conversationId": "c" * 5000}, ("createdAt",), DENIED, None),
    ("conversationId with a slash", {"conversationId": "../x"}, ("createdAt",), DENIED, None),
    ("control characters", {"text": "ring \u0007 the bell"}, ("createdAt",), ERROR, "invalid_text"),
    ("NUL byte", {"text": "nul\u0000byte"}, ("createdAt",), ERROR, "invalid_text"),
    ("unknown model", {"model": "gpt-nine"}, ("createdAt",), ERROR, "unknown_model"),
    ("the replier as a classifier", {"model": "t5"}, ("createdAt",), ERROR, "unknown_model"),
    ("emoji only", {"text": "😭😭😭"}, ("createdAt",), DONE, None),
    ("markup", {"text": "<script>alert('x')</script> i am angry"}, ("createdAt",), DONE, None),
    ("one 1500-character word", {"text": "a" * 1500}, ("createdAt",), DONE, None),
    ("exactly 2000 characters", {"text": "so tired " * 222 + "ok"}, ("createdAt",), DONE, None),
    ("right-to-left and combining marks", {"text": "أنا سعيد جدا e\u0301\u0301"}, ("createdAt",), DONE, None),
]


@pytest.mark.parametrize(("kind", "fields", "server_time", "outcome", "code"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_kind(db, published, user: User, kind, fields, server_time, outcome, code) -> None:
    doc = {"text": "hello there", "model": "bert", **fields}
    doc = {k: v for k, v in doc.items() if v is not None or k == "text"}
    if "model" in fields and fields["model"] is None:
        doc.pop("model", None)
    path = f"{user.messages_path()}/{uuid.uuid4().hex}"
    response = user.commit(path, doc, server_time_fields=server_time)
    if outcome == DENIED:
        assert response.status_code == 403, f"{kind}: expected a rules denial, got {response.status_code}"
        assert not db.document(path).get().exists
        return
    assert response.status_code == 200, f"{kind}: the rules refused it: {response.text[:200]}"
    result = wait_final(db, path)
    assert result["status"]["state"] == outcome, f"{kind}: {result.get('error')}"
    if code:
        assert result["error"]["code"] == code
        assert result["error"]["message"]
    else:
        assert result["reply"]["text"]
