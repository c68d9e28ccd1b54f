"""'Others felt this too' on the real emulators: sharing a thought, matching it for other people,
unsharing it, reporting it, and the rules around the pool.

Users write as mobile clients do (REST with their own ID token, so the security rules apply); the
checks read with admin credentials. Each test writes texts of its own (a random tag), so what other
tests share cannot take their place. With the tiny untrained models, an identical text gets the
same emotion and an identical embedding (cosine 1), which is all that matching needs here.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from emulator import User, eventually, wait_final
from google.cloud import firestore

from machbot_fn.sharing.anonymise import anonymise
from machbot_fn.sharing.pool import THOUGHT_INDEX, THOUGHTS

PUBLIC_FIELDS = {"text", "emotion", "hidden"}


def unique_text(words: str = "i keep worrying that i will fail my exams") -> str:
    return f"{words} {uuid.uuid4().hex[:8]}"


def doc(db: firestore.Client, path: str) -> dict[str, Any]:
    return db.document(path).get().to_dict() or {}


def shared_thought(db: firestore.Client, path: str) -> str:
    """Wait until the message is in the pool; its thought id."""
    data = eventually(lambda: doc(db, path), lambda d: (d.get("sharedThought") or {}).get("id"))
    return data["sharedThought"]["id"]


def set_share(user: User, path: str, share: bool) -> None:
    r = user.commit(path, {"share": share}, server_time_fields=(), exists=True)
    assert r.status_code == 200, r.text


def similar_ids(data: dict[str, Any]) -> list[str]:
    return [s["id"] for s in data.get("similar") or []]


def share_and_show(db: firestore.Client, author: User, reader: User, words: str) -> tuple[str, str, str]:
    """The author shares a new text; the reader writes the same and is shown it.
    Returns (the author's message, the thought id, the reader's message)."""
    text = unique_text(words)
    path = author.send(text, share=True)
    thought_id = shared_thought(db, path)
    seen = reader.send(text)
    assert thought_id in similar_ids(wait_final(db, seen))
    return path, thought_id, seen


@pytest.fixture
def other(emulators) -> User:
    return User.sign_up()


def test_sharing_is_off_by_default(db, published, user: User, other: User) -> None:
    text = unique_text()
    mine = wait_final(db, user.send(text))
    assert mine["status"]["state"] == "done"
    assert "share" not in mine and "sharedThought" not in mine
    in_pool = db.collection(THOUGHTS).where(filter=firestore.FieldFilter("text", "==", text)).get()
    assert in_pool == []
    theirs = wait_final(db, other.send(text))
    assert theirs["emotion"]["label"] == mine["emotion"]["label"]
    assert isinstance(theirs["similar"], list)  # matching ran; nothing of the unshared message is there
    assert text not in [s["text"] for s in theirs["similar"]]
    # Asking not to share is the same as not asking.
    explicit = wait_final(db, user.send(unique_text(), share=False))
    assert "sharedThought" not in explicit


def test_a_shared_thought_reaches_others_with_the_same_emotion_never_its_author(
    db, published, user: User, other: User
) -> None:
    text = unique_text("i feel so alone since i moved, mail me at lonely@example.com")
    path = user.send(text, share=True)
    mine = wait_final(db, path)
    thought_id = shared_thought(db, path)

    public = doc(db, f"{THOUGHTS}/{thought_id}")
    assert set(public) == PUBLIC_FIELDS  # text and emotion, nothing about the author, not even when
    assert public["text"] == anonymise(text) and "lonely@example.com" not in public["text"]
    assert public["emotion"] == mine["emotion"]["label"] and public["hidden"] is False
    assert user.uid not in repr(public) and thought_id not in path
    private = doc(db, f"{THOUGHT_INDEX}/{thought_id}")
    assert private["owner"] == user.uid and private["message"] == path and private["active"] is True

    theirs = wait_final(db, other.send(text))
    assert theirs["emotion"]["label"] == mine["emotion"]["label"]
    assert theirs["similar"][0] == {"id": thought_id, "text": public["text"], "score": pytest.approx(1.0, abs=0.01)}
    assert len(theirs["similar"]) <= 3 and theirs["similarIds"] == similar_ids(theirs)
    assert all(set(s) == {"id", "text", "score"} for s in theirs["similar"])
    assert user.uid not in repr(theirs["similar"])
    assert theirs["timings"]["embedMs"] >= 0 and theirs["timings"]["matchMs"] >= 0

    again = wait_final(db, user.send(text))  # the author writes the same thing again
    assert thought_id not in similar_ids(again)


def test_unsharing_takes_the_thought_out_of_the_pool_and_off_other_messages(
    db, published, user: User, other: User
) -> None:
    path, thought_id, seen = share_and_show(db, user, other, "i am scared of the storm tonight")
    text = doc(db, path)["text"]

    set_share(user, path, False)
    eventually(lambda: doc(db, path), lambda d: "sharedThought" not in d)
    assert not db.document(f"{THOUGHTS}/{thought_id}").get().exists
    tomb = doc(db, f"{THOUGHT_INDEX}/{thought_id}")
    assert set(tomb) == {"active", "updatedAt"} and tomb["active"] is False  # gone, its content too
    # Taken off the message that showed it, too.
    shown = eventually(lambda: doc(db, seen), lambda d: thought_id not in similar_ids(d))
    assert thought_id not in shown["similarIds"]
    # And nobody is matched with it any more.
    assert thought_id not in similar_ids(wait_final(db, User.sign_up().send(text)))


def test_a_message_can_be_shared_after_its_answer(db, published, user: User, other: User) -> None:
    text = unique_text("i finally told my sister how much i love her")
    path = user.send(text)
    wait_final(db, path)
    assert "sharedThought" not in doc(db, path)
    set_share(user, path, True)
    thought_id = shared_thought(db, path)
    assert thought_id in similar_ids(wait_final(db, other.send(text)))


def test_reports_hide_a_thought_from_everyone(db, published, user: User) -> None:
    reporters = [User.sign_up() for _ in range(3)]
    path, thought_id, seen = share_and_show(db, user, reporters[0], "everyone at work ignores me, i am furious")
    text = doc(db, path)["text"]

    report_path = f"{THOUGHTS}/{thought_id}/reports"
    for i, reporter in enumerate(reporters):
        r = reporter.commit(f"{report_path}/{reporter.uid}", {"reason": "offensive"}, server_time_fields=("at",))
        assert r.status_code == 200, r.text
        expected = i + 1
        eventually(lambda: doc(db, f"{THOUGHT_INDEX}/{thought_id}"), lambda d, n=expected: d.get("reports") == n)
    # A second report by the same user is refused by the rules.
    again = reporters[0].commit(f"{report_path}/{reporters[0].uid}", {"reason": "spam"}, server_time_fields=("at",))
    assert again.status_code == 403

    public = eventually(lambda: doc(db, f"{THOUGHTS}/{thought_id}"), lambda d: d.get("hidden") is True)
    assert set(public) == PUBLIC_FIELDS  # the count of reports is not public either
    private = doc(db, f"{THOUGHT_INDEX}/{thought_id}")
    assert private["active"] is False and private["reports"] == 3
    assert eventually(lambda: doc(db, path), lambda d: d.get("shareBlocked") is True)
    eventually(lambda: doc(db, seen), lambda d: thought_id not in similar_ids(d))
    assert reporters[1].get(f"{THOUGHTS}/{thought_id}").status_code == 403  # no longer readable
    assert thought_id not in similar_ids(wait_final(db, User.sign_up().send(text)))
    # Sharing it again does not bring it back.
    set_share(user, path, False)
    eventually(lambda: doc(db, path), lambda d: "sharedThought" not in d)
    set_share(user, path, True)
    assert not db.document(f"{THOUGHTS}/{thought_id}").get().exists
    # Its reports are deleted with it, right after the transaction that took it out of the pool.
    eventually(lambda: db.collection(f"{THOUGHTS}/{thought_id}/reports").get(), lambda reports: reports == [])


def test_clients_cannot_write_the_pool(db, published, user: User, other: User) -> None:
    path = user.send(unique_text("i won the race today and i cannot stop smiling"), share=True)
    thought_id = shared_thought(db, path)
    assert other.get(f"{THOUGHTS}/{thought_id}").status_code == 200  # signed-in users read it
    for writer in (user, other):
        forged = writer.commit(
            f"{THOUGHTS}/forged-{uuid.uuid4().hex[:6]}", {"text": "x", "emotion": "joy", "hidden": False}, ()
        )
        assert forged.status_code == 403
        edit = writer.commit(f"{THOUGHTS}/{thought_id}", {"text": "edited"}, (), exists=True)
        assert edit.status_code == 403
        name = writer.endpoints.document_name(f"{THOUGHTS}/{thought_id}")
        assert writer.commit_writes([{"delete": name}]).status_code == 403
        assert writer.get(f"{THOUGHT_INDEX}/{thought_id}").status_code == 403
        sneaky = writer.commit(f"{THOUGHT_INDEX}/x-{uuid.uuid4().hex[:6]}", {"owner": writer.uid}, ())
        assert sneaky.status_code == 403
    # Nor write the function's sharing fields on their own message.
    forged = user.commit(path, {"sharedThought": {"id": "forged"}}, (), exists=True)
    assert forged.status_code == 403
    assert doc(db, f"{THOUGHTS}/{thought_id}")["text"] != "edited"
