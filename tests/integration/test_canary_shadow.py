"""Canary and shadow on the emulators: the real function routes users, records shadows, keeps stats."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from emulator import User, eventually, wait_final
from google.cloud import firestore

from machbot_fn.admin.publish import publish_version, set_routing
from machbot_fn.admin.stats import read_stats
from machbot_fn.models.routing import Routing, in_canary
from machbot_fn.serving.observe import SERVED, SHADOW, SHADOW_RESULTS, message_key
from machbot_train.tiny_models import build_tiny_classifier

MODEL = "canarymodel"
SHARE = 40.0


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory, db, bucket, published) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("canary")
    built = {v: build_tiny_classifier(root, MODEL, "distilbert", version=v) for v in ("base1", "canary2", "shadow3")}
    publish_version(bucket, db, built["base1"])
    for v in ("canary2", "shadow3"):
        publish_version(bucket, db, built[v], promote=False)
    return built


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "machbot.cli", *args], capture_output=True, text=True, timeout=300)


def ask(user: User, text: str) -> tuple[str, dict]:
    path = user.send(text, model=MODEL)
    return path, wait_final(firestore.Client(), path)


def test_a_canary_answers_about_its_share_of_users_and_each_user_stays_put(db, bucket, versions) -> None:
    result = cli("models", "canary", MODEL, "canary2", "--percent", str(SHARE))
    assert result.returncode == 0, result.stderr
    assert f"canary canary2 for {SHARE:g}% of users" in result.stdout
    assert db.document(f"models/{MODEL}").get().to_dict()["routing"] == {
        "canary": {"version": "canary2", "percent": SHARE}
    }

    users = [User.sign_up() for _ in range(30)]

    def two_messages(user: User) -> tuple[str, list[str]]:
        return user.uid, [ask(user, f"message {i} from {user.uid[:6]}")[1] for i in range(2)]

    # Routing is re-read within a second (MACHBOT_RECHECK_SECONDS=1 in the test command).
    ask(users[0], "warm up after the routing change")
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(two_messages, users))
    canary_users = 0
    for uid, docs in outcomes:
        served = [(d["servedBy"]["classifier"]["version"], d["servedBy"]["classifier"]["route"]) for d in docs]
        expected = ("canary2", "canary") if in_canary(Routing("canary2", SHARE), MODEL, uid) else ("base1", "primary")
        assert served == [expected, expected], uid  # sticky: both messages from the same version
        canary_users += expected[0] == "canary2"
    assert 0.15 <= canary_users / len(users) <= 0.70  # 40% of 30 users, binomial spread


def test_a_shadow_classifies_every_message_and_is_never_shown(db, bucket, versions, user: User) -> None:
    result = cli("models", "shadow", MODEL, "shadow3")
    assert result.returncode == 0, result.stderr
    set_routing(bucket, db, MODEL, Path("/tmp/machbot-verify"), clear_canary=True)
    ask(user, "warm up after the routing change")
    paths = []
    for text in ("i am so happy today", "this makes me furious", "i feel lost"):
        path, doc = ask(user, text)
        paths.append(path)
        assert doc["servedBy"]["classifier"]["version"] == "base1"
        assert "shadow3" not in json.dumps(doc, default=str)  # nothing about the shadow on the user's document
        assert user.read(path) is not None and "shadow3" not in json.dumps(user.read(path), default=str)
    for path in paths:
        # The shadow classifies after the answer is written (the user never waits for it).
        shadow = eventually(lambda p=path: db.collection(SHADOW_RESULTS).document(message_key(p)).get().to_dict(), bool)
        served = db.document(path).get().to_dict()
        assert shadow["version"] == "shadow3" and shadow["servedVersion"] == "base1"
        assert shadow["label"] in served["emotion"]["scores"]
        assert shadow["agreesWithServed"] == (shadow["label"] == served["emotion"]["label"])
        assert user.get(f"{SHADOW_RESULTS}/{message_key(path)}").status_code == 403


def test_stats_count_each_version_and_agreement_with_reports(db, versions, user: User) -> None:
    before = {(r.version, r.mode): r for r in read_stats(db, MODEL)}
    path, doc = ask(user, "i cannot believe this happened")
    reported = next(label for label in doc["emotion"]["scores"] if label != doc["emotion"]["label"])
    db.document(path).update({"feedback": {"label": reported, "at": firestore.SERVER_TIMESTAMP}})

    # Counters and the shadow's verdict are written after the answer: wait until this message's are in.
    def stats() -> dict:
        return {(r.version, r.mode): r for r in read_stats(db, MODEL)}

    def counted(rows: dict) -> bool:
        served, shadow = rows.get(("base1", SERVED)), rows.get(("shadow3", SHADOW))
        return bool(served and shadow) and served.count > before[("base1", SERVED)].count and shadow.feedback_count >= 1

    after = eventually(stats, counted)
    served, shadow = after[("base1", SERVED)], after[("shadow3", SHADOW)]
    assert served.count == before[("base1", SERVED)].count + 1
    assert served.mean_latency_ms > 0 and 0 < served.mean_confidence <= 1
    assert served.feedback_count >= 1 and served.feedback_agreement is not None
    assert shadow.count >= 4 and shadow.agree_with_served is not None and shadow.feedback_count >= 1
    assert after[("canary2", SERVED)].count >= 1  # the canary's messages from the previous test

    result = cli("models", "stats", MODEL)
    assert result.returncode == 0, result.stderr
    assert "base1" in result.stdout and "shadow3" in result.stdout and "shadow" in result.stdout


def test_routing_to_a_version_that_is_not_in_the_bucket_is_refused(versions) -> None:
    result = cli("models", "canary", MODEL, "missing9", "--percent", "5")
    assert result.returncode == 2 and "missing9" in result.stderr and "Traceback" not in result.stderr
