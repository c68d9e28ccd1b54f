"""Swapping models while messages flow: no message is dropped, failed or served by a version from the past.

A sender thread writes messages back to back as a signed-in user (each one after the previous is
answered, as a person chatting) while a researcher publishes v2 and then v3 of the same model.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from emulator import User, wait_final

from machbot_fn.admin.publish import publish_version
from machbot_train.tiny_models import build_tiny_classifier

FLOW_ID = "flowtest"
VERSIONS = ("v1", "v2", "v3")
SWAP_WITHIN = 10.0  # seconds after a publish from which every new message must be served by it
PATIENCE = 300.0  # how long to wait for the flow to reach a point (the machine is shared and slow)


@dataclass(frozen=True)
class Answered:
    sent_at: float  # time.monotonic() just before the write
    path: str
    state: str
    version: str | None
    error: dict | None


class Sender(threading.Thread):
    """Sends messages one after another until stopped; records each outcome in order."""

    def __init__(self, db, user: User) -> None:
        super().__init__(name="flow-sender", daemon=True)
        self.db, self.user = db, user
        self.answered: list[Answered] = []
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        i = 0
        try:
            while not self.stop.is_set():
                sent_at = time.monotonic()
                path = self.user.send(f"message {i} while models change, i feel hopeful", model=FLOW_ID)
                doc = wait_final(self.db, path, timeout=PATIENCE)
                version = ((doc.get("servedBy") or {}).get("classifier") or {}).get("version")
                self.answered.append(Answered(sent_at, path, doc["status"]["state"], version, doc.get("error")))
                i += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failure = exc

    def wait_for(self, what: str, predicate) -> None:
        deadline = time.monotonic() + PATIENCE
        while not any(predicate(a) for a in list(self.answered)):
            assert self.failure is None, f"the sender failed: {self.failure!r}"
            assert self.is_alive(), "the sender stopped"
            assert time.monotonic() < deadline, f"no {what} after {PATIENCE:.0f} s: {self.answered[-5:]}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def flow_versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("flow")
    return {v: build_tiny_classifier(root, FLOW_ID, "bert", version=v) for v in VERSIONS}


def test_messages_flowing_through_two_swaps_are_all_answered_in_version_order(
    db, bucket, published, user: User, flow_versions
) -> None:
    publish_version(bucket, db, flow_versions["v1"])
    sender = Sender(db, user)
    sender.start()
    published_at: dict[str, float] = {}
    try:
        sender.wait_for("answer from v1", lambda a: a.version == "v1")
        for version in VERSIONS[1:]:
            publish_version(bucket, db, flow_versions[version])
            published_at[version] = time.monotonic()
            # Flow on until a message written SWAP_WITHIN seconds after the publish has its answer.
            sender.wait_for(
                f"answer to a message sent {SWAP_WITHIN:.0f} s after publishing {version}",
                lambda a, t=published_at[version]: a.sent_at >= t + SWAP_WITHIN,
            )
    finally:
        sender.stop.set()
        sender.join(timeout=PATIENCE)
    assert sender.failure is None, f"the sender failed: {sender.failure!r}"

    answered = sender.answered
    start = answered[0].sent_at
    summary = [(round(a.sent_at - start, 1), a.version or a.state) for a in answered]
    changes = [s for i, s in enumerate(summary) if i == 0 or s[1] != summary[i - 1][1]]
    publishes = {v: round(t - start, 1) for v, t in published_at.items()}
    print(f"{len(answered)} messages; published at {publishes} s; first answer of each version (s): {changes}")
    failed = [a for a in answered if a.state != "done"]
    assert not failed, f"{len(failed)} of {len(answered)} messages did not end done: {failed[:3]}"
    assert all(a.version in VERSIONS for a in answered), summary

    ranks = [VERSIONS.index(a.version) for a in answered]
    assert ranks == sorted(ranks), f"a later message was served by an older version: {summary}"
    for version, at in published_at.items():
        late = [a for a in answered if a.sent_at >= at + SWAP_WITHIN]
        assert late, f"no message was sent {SWAP_WITHIN:.0f} s after publishing {version}"
        old = [a for a in late if VERSIONS.index(a.version) < VERSIONS.index(version)]
        assert not old, f"{version} was not serving {SWAP_WITHIN:.0f} s after its publish: {old[:3]}"
    catalog = db.document(f"models/{FLOW_ID}").get().to_dict()
    assert catalog["version"] == "v3" and catalog["status"] == "serving"
