"""The typed answer becomes the message document's fields in one place, in the contract's shape."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import Emotion
from machbot_fn.models.manifest import FileEntry, Manifest
from machbot_fn.models.registry import ServedModel
from machbot_fn.serving.answer import Answer, Reply, ServedBy, Timings
from machbot_fn.sharing.pool_index import Match
from machbot_fn.sharing.similar import Similar

SCORES = {label: (0.5 if label == "joy" else 0.1) for label in EMOTIONS}


def served(model_id: str, version: str, sha: str) -> ServedModel[Any]:
    manifest = Manifest(
        id=model_id,
        version=version,
        task="text-classification",
        arch="bert",
        display_name=model_id,
        format="onnx-int8",
        trained=False,
        files={"model.onnx": FileEntry(sha, 1)},
        max_length=64,
        labels=EMOTIONS,
    )
    return ServedModel(manifest, runner=None, loaded_at=0.0, main_sha256=sha)


def answer(classifier: ServedBy, similar: Similar | None = None) -> Answer:
    return Answer(
        emotion=Emotion("joy", 0.5, SCORES),
        classifier=classifier,
        reply=Reply("Congratulations!", "model", ServedBy("t5", "r1", "c" * 64), context_turns=2),
        timings=Timings(fetch_ms=1.0, classify_ms=2.5, generate_ms=10.0, total_ms=17.2, cold_start=False),
        similar=similar,
    )


def test_fields_of_a_routed_classifier_and_the_replier() -> None:
    fields = answer(ServedBy("bert", "v2", "a" * 64, route="canary")).to_fields()
    assert fields == {
        "emotion": {"label": "joy", "score": 0.5, "scores": SCORES, "unsure": False},
        "reply": {
            "text": "Congratulations!",
            "model": {"id": "t5", "version": "r1"},
            "source": "model",
            "generated": True,
            "contextTurns": 2,
        },
        "servedBy": {
            "classifier": {"id": "bert", "version": "v2", "sha256": "a" * 64, "route": "canary"},
            "replier": {"id": "t5", "version": "r1"},
        },
        "timings": {"fetchMs": 1.0, "classifyMs": 2.5, "generateMs": 10.0, "totalMs": 17.2, "coldStart": False},
    }
    assert fields["emotion"]["scores"] is not SCORES  # the document gets its own copy


def test_the_ensemble_names_every_member_and_a_digest_of_their_weights() -> None:
    members = [served("bert", "v1", "a" * 64), served("roberta", "v3", "b" * 64)]
    classifier = answer(ServedBy.ensemble(members)).to_fields()["servedBy"]["classifier"]
    assert classifier == {
        "id": "ensemble",
        "version": "bert@v1+roberta@v3",
        "sha256": hashlib.sha256(("a" * 64 + "b" * 64).encode()).hexdigest(),
        "members": [
            {"id": "bert", "version": "v1", "sha256": "a" * 64},
            {"id": "roberta", "version": "v3", "sha256": "b" * 64},
        ],
    }


def test_similar_thoughts_and_their_time_join_the_same_fields() -> None:
    found = (Match("t1", "i got the job too", 0.81234), Match("t2", "so happy today", 0.5))
    vector = np.ones(4, dtype=np.float32) / 2
    fields = answer(ServedBy("bert", "v1", "a" * 64), Similar(found, 3.2, 0.4, vector)).to_fields()
    assert fields["similar"] == [
        {"id": "t1", "text": "i got the job too", "score": 0.812},
        {"id": "t2", "text": "so happy today", "score": 0.5},
    ]
    assert fields["similarIds"] == ["t1", "t2"]
    timings = fields["timings"]
    assert (timings["embedMs"], timings["matchMs"]) == (3.2, 0.4)
    assert timings["totalMs"] == 17.2  # one span, matching included
    assert "route" not in fields["servedBy"]["classifier"]


def test_no_matching_means_no_similar_fields() -> None:
    fields = answer(ServedBy("bert", "v1", "a" * 64)).to_fields()
    assert not {"similar", "similarIds"} & set(fields)
    assert not {"embedMs", "matchMs"} & set(fields["timings"])
    empty = answer(ServedBy("bert", "v1", "a" * 64), Similar((), 1.0, 0.1, np.zeros(4, np.float32))).to_fields()
    assert empty["similar"] == [] and empty["similarIds"] == []
