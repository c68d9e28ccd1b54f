"""The vertical slice on the real emulators: a user's message gets an emotion and a reply."""

from __future__ import annotations

import math
import time

from emulator import User, wait_final

from machbot_fn.labels import EMOTIONS


def test_message_gets_emotion_reply_and_bookkeeping(db, published, user: User) -> None:
    path = user.send("i feel so happy and grateful today", model="bert")
    doc = wait_final(db, path)

    assert doc["status"]["state"] == "done", doc.get("error")
    assert doc["status"]["attempt"] == 1
    emotion = doc["emotion"]
    assert set(emotion["scores"]) == set(EMOTIONS)
    assert math.isclose(sum(emotion["scores"].values()), 1.0, abs_tol=1e-4)
    assert emotion["label"] == max(emotion["scores"], key=emotion["scores"].get)
    assert emotion["score"] == emotion["scores"][emotion["label"]]
    assert isinstance(doc["reply"]["text"], str) and doc["reply"]["text"].strip()
    assert doc["reply"]["model"] == {"id": "t5", "version": "tiny-1"}
    assert isinstance(doc["reply"]["generated"], bool)
    served = doc["servedBy"]
    assert served["classifier"]["id"] == "bert" and served["classifier"]["version"] == "tiny-1"
    assert len(served["classifier"]["sha256"]) == 64
    timings = doc["timings"]
    assert {"fetchMs", "classifyMs", "generateMs", "totalMs", "coldStart"} <= set(timings)
    assert timings["totalMs"] >= timings["classifyMs"] + timings["generateMs"] - 0.1
    assert "error" not in doc
    # The client's own fields are untouched.
    assert doc["text"] == "i feel so happy and grateful today" and doc["model"] == "bert"


def test_every_classifier_answers_and_names_itself(db, published, user: User) -> None:
    paths = {
        m: user.send(f"testing the {m} model, i am a bit nervous", model=m)
        for m in ("distilbert", "roberta", "electra", "mobilebert")
    }
    for model_id, path in paths.items():
        doc = wait_final(db, path)
        assert doc["status"]["state"] == "done", doc.get("error")
        assert doc["servedBy"]["classifier"]["id"] == model_id


def test_unknown_model_ends_in_error_without_retry(db, published, user: User) -> None:
    doc = wait_final(db, user.send("hello there", model="gpt-nine"))
    assert doc["status"]["state"] == "error"
    assert doc["error"]["code"] == "unknown_model"
    assert "gpt-nine" in doc["error"]["message"]
    assert doc["status"]["attempt"] == 1
    assert "reply" not in doc


def test_replier_is_not_a_classifier(db, published, user: User) -> None:
    doc = wait_final(db, user.send("hello there", model="t5"))
    assert doc["error"]["code"] == "unknown_model"
    assert "not an emotion classifier" in doc["error"]["message"]


def test_control_characters_end_in_invalid_text(db, published, user: User) -> None:
    doc = wait_final(db, user.send("hello\u0007 bell"))
    assert doc["status"]["state"] == "error"
    assert doc["error"]["code"] == "invalid_text"
    assert "control" in doc["error"]["message"]


def test_conversation_history_reaches_the_replier(db, published, user: User) -> None:
    first = user.send("my dog ran away this morning", conversationId="conv-1")
    assert wait_final(db, first)["status"]["state"] == "done"
    time.sleep(0.05)
    second = user.send("i still cannot find him", conversationId="conv-1")
    doc = wait_final(db, second)
    assert doc["status"]["state"] == "done"
    assert doc["reply"]["text"]
    assert doc["reply"]["contextTurns"] == 2  # the first message and its reply
    assert wait_final(db, first)["reply"]["contextTurns"] == 0


def test_the_ensemble_answers_with_every_classifier_voting(db, published, user: User) -> None:
    doc = wait_final(db, user.send("i can't believe i won the whole thing", model="ensemble"))
    assert doc["status"]["state"] == "done", doc.get("error")
    served = doc["servedBy"]["classifier"]
    assert served["id"] == "ensemble"
    assert {m["id"] for m in served["members"]} == {"bert", "distilbert", "roberta", "electra", "mobilebert"}
    assert math.isclose(sum(doc["emotion"]["scores"].values()), 1.0, abs_tol=1e-4)
    catalog = db.document("models/ensemble").get().to_dict()
    assert catalog["task"] == "ensemble" and len(catalog["members"]) == 5
