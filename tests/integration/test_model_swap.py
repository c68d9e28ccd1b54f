"""Researchers swap what is served by publishing into the bucket: no redeploy, no restart."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from emulator import User, wait_final

from machbot_fn.admin.publish import publish_version
from machbot_train.tiny_models import build_tiny_classifier

SWAP_ID = "swaptest"


@pytest.fixture(scope="module")
def swap_versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("swap")
    return {v: build_tiny_classifier(root, SWAP_ID, "bert", version=v) for v in ("v1", "v2")}


def served_version(db, user: User, model: str) -> dict:
    doc = wait_final(db, user.send("which version answers me?", model=model))
    assert doc["status"]["state"] == "done", doc.get("error")
    return doc["servedBy"]["classifier"]


def wait_until_served(db, user: User, model: str, version: str, within: float = 10.0) -> list[str]:
    """Send messages until one is answered by `version`; return the versions seen on the way."""
    started = time.monotonic()
    seen: list[str] = []
    while time.monotonic() - started < within:
        seen.append(served_version(db, user, model)["version"])
        if seen[-1] == version:
            return seen
    raise AssertionError(f"{model} {version} not served within {within:.0f} s; answers came from {seen}")


def test_a_new_current_version_serves_within_seconds(db, bucket, published, user: User, swap_versions) -> None:
    publish_version(bucket, db, swap_versions["v1"])
    wait_until_served(db, user, SWAP_ID, "v1")

    publish_version(bucket, db, swap_versions["v2"])
    seen = wait_until_served(db, user, SWAP_ID, "v2")
    assert set(seen) <= {"v1", "v2"}  # every answer in between names a real version
    catalog = db.document(f"models/{SWAP_ID}").get().to_dict()
    assert catalog["version"] == "v2" and catalog["status"] == "serving"


def test_a_corrupt_version_is_refused_and_the_previous_keeps_serving(
    db, bucket, published, user: User, swap_versions, tmp_path: Path
) -> None:
    publish_version(bucket, db, swap_versions["v1"])
    wait_until_served(db, user, SWAP_ID, "v1")

    broken = tmp_path / "v3"
    shutil.copytree(swap_versions["v1"], broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["version"] = "v3"
    (broken / "manifest.json").write_text(json.dumps(manifest))
    prefix = f"models/{SWAP_ID}/v3"
    for name in manifest["files"]:
        data = (broken / name).read_bytes()
        if name == "model.onnx":
            data = data[:-16] + b"\0" * 16  # same size, different bytes: only the checksum can tell
        bucket.blob(f"{prefix}/{name}").upload_from_string(data)
    bucket.blob(f"{prefix}/manifest.json").upload_from_string(json.dumps(manifest))
    bucket.blob(f"models/{SWAP_ID}/CURRENT").upload_from_string("v3")

    time.sleep(1.5)  # past the re-check interval of the test configuration
    assert served_version(db, user, SWAP_ID)["version"] == "v1"
    refused = db.document(f"models/{SWAP_ID}").get().to_dict()
    assert refused["versions"]["v3"]["status"] == "invalid"
    assert "checksum" in refused["versions"]["v3"]["reason"]


def test_an_unusable_model_with_no_fallback_ends_in_model_unavailable(db, bucket, published, user: User) -> None:
    bucket.blob("models/ghost/CURRENT").upload_from_string("v1")  # CURRENT names a version never uploaded
    doc = wait_final(db, user.send("anyone there?", model="ghost"))
    assert doc["status"]["state"] == "error"
    assert doc["error"]["code"] == "model_unavailable"
