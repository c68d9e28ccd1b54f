"""The sharing sweep redoes what failed sharing events left undone (triggers are not redelivered).

Run in this process against documents of a project of its own on the Firestore emulator, which the
deployed triggers (bound to demo-machbot) never see: the failed event is simulated by writing the
owner's wish with admin credentials and no trigger reacting to it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from machbot_fn.models.registry import ModelRegistry
from machbot_fn.sharing import share
from machbot_fn.sharing.pool import THOUGHT_INDEX, THOUGHTS

SWEEP_PROJECT = "demo-machbot-sharing"


@pytest.fixture(scope="module")
def sweep_db(emulators) -> firestore.Client:
    return firestore.Client(project=SWEEP_PROJECT, credentials=AnonymousCredentials())


def answered(db: firestore.Client, share: bool) -> firestore.DocumentReference:
    ref = db.document(f"users/u-{uuid.uuid4().hex[:8]}/messages/{uuid.uuid4().hex}")
    ref.set(
        {
            "text": f"i cannot sleep before the interview {uuid.uuid4().hex[:6]}",
            "model": "bert",
            "createdAt": firestore.SERVER_TIMESTAMP,
            "share": share,
            "status": {"state": "done", "attempt": 1, "updatedAt": datetime.now(UTC), "leaseUntil": None},
            "emotion": {"label": "fear", "score": 0.9, "scores": {}},
        }
    )
    return ref


def test_the_sweep_shares_and_unshares_what_events_left_undone(
    sweep_db: firestore.Client, bucket, published, tmp_path: Path
) -> None:
    registry = ModelRegistry(bucket, tmp_path / "cache")
    private = answered(sweep_db, share=False)
    wanted = answered(sweep_db, share=True)  # its share event "failed": not in the pool

    assert share.sweep(sweep_db, registry) == {share.SHARED: 1}
    thought_id = wanted.get().to_dict()["sharedThought"]["id"]
    assert sweep_db.document(f"{THOUGHTS}/{thought_id}").get().to_dict()["emotion"] == "fear"
    assert "sharedThought" not in private.get().to_dict()

    wanted.update({"share": False})  # the owner stops sharing; that event "fails" too
    assert share.sweep(sweep_db, registry) == {share.UNSHARED: 1}
    assert not sweep_db.document(f"{THOUGHTS}/{thought_id}").get().exists
    assert sweep_db.document(f"{THOUGHT_INDEX}/{thought_id}").get().to_dict()["active"] is False
    assert share.sweep(sweep_db, registry) == {}  # nothing left to do
