"""Out-of-order delivery on the real trigger: B's event arrives before A's, and both real events too."""

from __future__ import annotations

import time

from emulator import SnapshotLog, User, deliver_created_event, wait_final


def test_a_later_message_delivered_first_both_answered_exactly_once(db, published, user: User) -> None:
    stamp = time.time_ns()
    conversation = f"ooo-{stamp}"
    a, b = (f"{user.messages_path()}/{name}-{stamp}" for name in ("a", "b"))
    logs = {path: SnapshotLog(db, path) for path in (a, b)}  # listening before anything is written
    try:
        for path, text in ((a, "first: my exam is tomorrow"), (b, "second: and i have not slept")):
            r = user.commit(path, {"text": text, "model": "bert", "conversationId": conversation})
            assert r.status_code == 200, r.text
        # The platform delivers B's event, then A's, while the real triggers for both are in flight.
        for path in (b, a):
            r = deliver_created_event(path)
            assert r.status_code == 200, r.text
        docs = {path: wait_final(db, path, timeout=180) for path in (a, b)}
        for log in logs.values():
            log.wait_for_reply()
        time.sleep(1.0)  # let any late duplicate write arrive before counting
    finally:
        for log in logs.values():
            log.close()

    for path, doc in docs.items():
        assert doc["status"]["state"] == "done", (path, doc.get("error"))
        assert doc["status"]["attempt"] == 1, path  # every other delivery stood back
        assert doc["reply"]["text"].strip()
        assert logs[path].reply_writes() == 1, f"{path}: {logs[path].reply_writes()} reply writes"
    assert docs[a]["createdAt"] < docs[b]["createdAt"]
