"""The registry client: versions verified and cached, swaps seen after the re-check, bad versions refused.

The bucket is replaced by an in-memory one (the true boundary); the models are real tiny ONNX exports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from memory_bucket import Clock, MemoryBucket
from tiny_onnx import tiny_classifier

from machbot_fn.admin.publish import publish_version
from machbot_fn.errors import ModelUnavailable, TransientError, UnknownModel
from machbot_fn.models.registry import ModelRegistry
from machbot_fn.settings import SharingSettings


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("registry")
    return {v: tiny_classifier(root, "bert", v) for v in ("v1", "v2")} | {
        "distilbert": tiny_classifier(root, "distilbert", "v1")
    }


@pytest.fixture
def bucket() -> MemoryBucket:
    return MemoryBucket()


@pytest.fixture
def refused() -> list[tuple[str, str, str]]:
    return []


@pytest.fixture
def registry(bucket: MemoryBucket, tmp_path: Path, refused: list) -> tuple[ModelRegistry, Clock]:
    clock = Clock()
    reg = ModelRegistry(
        bucket, tmp_path / "cache", recheck_seconds=5, clock=clock, on_refused=lambda *args: refused.append(args)
    )
    return reg, clock


def test_a_published_version_is_served_and_cached(bucket, registry, versions) -> None:
    reg, clock = registry
    publish_version(bucket, None, versions["v1"])
    first = reg.get("bert")
    assert first.version == "v1" and first.runner("i am happy").label
    downloads = len(bucket.downloads)
    clock.now += 1
    assert reg.get("bert") is first
    assert len(bucket.downloads) == downloads  # within the re-check interval: no bucket traffic at all


def test_a_swap_is_served_after_the_recheck_interval(bucket, registry, versions) -> None:
    reg, clock = registry
    publish_version(bucket, None, versions["v1"])
    assert reg.get("bert").version == "v1"
    publish_version(bucket, None, versions["v2"])
    clock.now += 4
    assert reg.get("bert").version == "v1"
    clock.now += 1.5
    assert reg.get("bert").version == "v2"
    assert reg.loaded() == {"bert": "v2"}


def test_files_already_in_the_local_cache_are_not_downloaded_again(bucket, tmp_path, versions) -> None:
    publish_version(bucket, None, versions["v1"])
    ModelRegistry(bucket, tmp_path / "cache").get("bert")
    bucket.downloads.clear()
    ModelRegistry(bucket, tmp_path / "cache").get("bert")  # a new instance, same /tmp: a restart
    assert all(name.endswith(("CURRENT", "manifest.json")) for name in bucket.downloads)


def _corrupt(bucket: MemoryBucket, name: str) -> None:
    data = bytearray(bucket.files[name])
    data[-1] ^= 0xFF
    bucket.files[name] = bytes(data)


def test_a_checksum_failure_keeps_the_previous_version_serving(bucket, registry, refused, versions) -> None:
    reg, clock = registry
    publish_version(bucket, None, versions["v1"])
    assert reg.get("bert").version == "v1"
    publish_version(bucket, None, versions["v2"])
    _corrupt(bucket, "models/bert/v2/model.onnx")
    clock.now += 10
    assert reg.get("bert").version == "v1"
    assert refused and refused[0][:2] == ("bert", "v2") and "checksum" in refused[0][2]


def test_a_bad_version_with_nothing_to_fall_back_on_is_unavailable(bucket, registry, versions) -> None:
    reg, _ = registry
    publish_version(bucket, None, versions["v1"])
    _corrupt(bucket, "models/bert/v1/tokenizer.json")
    with pytest.raises(ModelUnavailable, match="checksum"):
        reg.get("bert")


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda m: m.update(labels=["a", "b"]), "labels"),
        (lambda m: m.update(id="other"), "sits at"),
        (lambda m: m.pop("files"), "files"),
        (lambda m: m.update(schema=99), "schema"),
    ],
)
def test_a_bad_manifest_is_refused_with_the_reason(bucket, registry, versions, edit, words) -> None:
    reg, _ = registry
    publish_version(bucket, None, versions["v1"])
    manifest = json.loads(bucket.files["models/bert/v1/manifest.json"])
    edit(manifest)
    bucket.files["models/bert/v1/manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(ModelUnavailable, match=words):
        reg.get("bert")


def test_an_unpublished_model_is_unknown(registry) -> None:
    reg, _ = registry
    with pytest.raises(UnknownModel, match="nothing"):
        reg.get("nothing")


def test_an_unreachable_bucket_is_transient_until_something_is_loaded(bucket, registry, versions) -> None:
    reg, clock = registry
    publish_version(bucket, None, versions["v1"])
    bucket.down = True
    with pytest.raises(TransientError, match="unavailable"):
        reg.get("bert")
    bucket.down = False
    assert reg.get("bert").version == "v1"
    bucket.down = True
    clock.now += 60
    assert reg.get("bert").version == "v1"  # keeps serving what it has


def asked_for(bucket: MemoryBucket, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of every blob the registry asks the bucket for, from now on."""
    names: list[str] = []
    blob = bucket.blob
    monkeypatch.setattr(bucket, "blob", lambda name: names.append(name) or blob(name))
    return names


def test_an_unknown_model_fails_a_message_before_anything_else_is_fetched(
    bucket, registry, versions, monkeypatch
) -> None:
    reg, _ = registry
    publish_version(bucket, None, versions["v1"])
    asked = asked_for(bucket, monkeypatch)
    with pytest.raises(UnknownModel, match="nope"):
        reg.models_for("nope", "user")
    assert asked and all(name.startswith("models/nope/") for name in asked)  # no replier, no embedder


def test_a_message_fails_when_its_replier_cannot_serve(bucket, registry, versions) -> None:
    reg, clock = registry
    publish_version(bucket, None, versions["v1"])
    with pytest.raises(UnknownModel, match="t5"):
        reg.models_for("bert", "user")  # no replier published
    bucket.down = True
    clock.now += 60
    with pytest.raises(TransientError):  # the pipeline releases its claim for the sweeper
        reg.models_for("bert", "user")


def test_the_embedder_is_optional_and_not_asked_for_again_for_a_while_after_a_failure(
    bucket, registry, monkeypatch
) -> None:
    reg, clock = registry
    asked = asked_for(bucket, monkeypatch)
    assert reg.optional_embedder() is None  # none published
    assert asked
    asked.clear()
    clock.now += SharingSettings().embedder_retry_seconds - 1
    assert reg.optional_embedder() is None
    assert asked == []  # paused: no message waits on the bucket for it
    clock.now += 1
    assert reg.optional_embedder() is None
    assert asked  # asked again after the pause


def test_the_ensemble_is_every_classifier_that_can_serve(bucket, registry, versions) -> None:
    reg, _ = registry
    publish_version(bucket, None, versions["v1"])
    with pytest.raises(ModelUnavailable, match="at least 2"):
        reg.ensemble_members()
    publish_version(bucket, None, versions["distilbert"])
    assert [m.manifest.id for m in reg.ensemble_members()] == ["bert", "distilbert"]
