"""When a message belongs in the shared pool, and what the pool stores of it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from machbot_fn.sharing.pool import (
    decode_vector,
    encode_vector,
    index_doc,
    public_doc,
    thought_from,
    tombstone,
)
from machbot_fn.sharing.share import needs_reconcile, shared_id, wants_sharing

DONE = {"text": "i miss my dog", "status": {"state": "done"}, "emotion": {"label": "sadness"}}


def msg(**over: Any) -> dict[str, Any]:
    return {**DONE, **over}


@pytest.mark.parametrize(
    ("data", "wants", "reconcile"),
    [
        (msg(), False, False),  # sharing is off unless asked for
        (msg(share=False), False, False),
        (msg(share=True), True, True),  # answered and asked: share it
        (msg(share="true"), False, False),  # only a real boolean counts
        (msg(share=True, status={"state": "processing"}), False, False),  # not before the answer
        (msg(share=True, status={"state": "error"}), False, False),
        (msg(share=True, emotion=None), False, False),
        (msg(share=True, emotion={"label": "boredom"}), False, False),
        (msg(share=True, sharedThought={"id": "t1"}), True, False),  # already in the pool
        (msg(share=False, sharedThought={"id": "t1"}), False, True),  # asked to leave it
        (msg(sharedThought={"id": "t1"}), False, True),
        (msg(share=True, shareBlocked=True), True, False),  # hidden after reports: not again
        (msg(share=False, shareBlocked=True, sharedThought={"id": "t1"}), False, True),  # may still leave
    ],
)
def test_what_the_owner_wants_against_what_is(data: dict[str, Any], wants: bool, reconcile: bool) -> None:
    assert wants_sharing(data) is wants
    assert needs_reconcile(data) is reconcile


def test_shared_id_reads_only_a_real_id() -> None:
    assert shared_id(msg(sharedThought={"id": "abc"})) == "abc"
    assert shared_id(msg(sharedThought={"id": ""})) is None
    assert shared_id(msg(sharedThought="abc")) is None
    assert shared_id(msg()) is None


def test_the_public_copy_says_nothing_about_its_author() -> None:
    doc = public_doc("i miss my dog", "sadness")
    assert doc == {"text": "i miss my dog", "emotion": "sadness", "hidden": False}


def test_index_entries_round_trip_and_tombstones_leave_the_index() -> None:
    rng = np.random.default_rng(0)
    v = rng.standard_normal(384).astype(np.float32)
    v /= np.linalg.norm(v)
    data = index_doc("alice", "users/alice/messages/m1", "i miss my dog", "sadness", v)
    assert len(data["embedding"]) == 384 * 2  # float16
    thought = thought_from("t1", data)
    assert thought is not None and thought.owner == "alice" and thought.emotion == "sadness"
    assert float(thought.vector @ v) > 0.9999
    assert np.isclose(np.linalg.norm(thought.vector), 1.0)
    assert thought_from("t1", tombstone()) is None
    assert thought_from("t1", {**data, "active": False}) is None
    assert thought_from("t1", {**data, "emotion": "boredom"}) is None
    assert np.allclose(decode_vector(encode_vector(v)), v, atol=1e-3)
