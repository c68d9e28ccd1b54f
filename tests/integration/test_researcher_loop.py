"""Researchers' tools on the emulators: uploads are checked, versions promoted and rolled back."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from emulator import User, wait_final

from machbot_fn.admin.publish import publish_version, rollback
from machbot_train.tiny_models import build_tiny_classifier

MODEL = "loopmodel"


@pytest.fixture(scope="module")
def loop_versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("loop")
    return {v: build_tiny_classifier(root, MODEL, "distilbert", version=v) for v in ("a1", "a2")}


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def version_entry(db, version: str) -> dict:
    return ((db.document(f"models/{MODEL}").get().to_dict() or {}).get("versions") or {}).get(version) or {}


def test_the_storage_trigger_checks_every_uploaded_version(db, bucket, published, loop_versions) -> None:
    publish_version(bucket, db, loop_versions["a1"], promote=False)
    good = wait_for(lambda: "verified" in version_entry(db, "a1") and version_entry(db, "a1"), what="the a1 verdict")
    assert good["verified"] is True and good["checkReason"] == ""

    manifest = json.loads((loop_versions["a1"] / "manifest.json").read_text())
    manifest["version"] = "bad1"
    manifest["labels"] = ["joy", "sadness"]  # a classifier with the wrong label set
    for name in manifest["files"]:
        bucket.blob(f"models/{MODEL}/bad1/{name}").upload_from_filename(str(loop_versions["a1"] / name))
    bucket.blob(f"models/{MODEL}/bad1/manifest.json").upload_from_string(json.dumps(manifest))
    bad = wait_for(
        lambda: "verified" in version_entry(db, "bad1") and version_entry(db, "bad1"), what="the bad1 verdict"
    )
    assert bad["verified"] is False
    assert "labels" in bad["checkReason"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "machbot.cli", *args], capture_output=True, text=True, timeout=300)


def test_promote_and_rollback_from_the_cli(db, bucket, published, loop_versions, user: User) -> None:
    for version in ("a1", "a2"):
        publish_version(bucket, db, loop_versions[version], promote=False)
    assert cli("models", "promote", MODEL, "a1").returncode == 0
    assert cli("models", "promote", MODEL, "a2").returncode == 0
    served = wait_final(db, user.send("which one?", model=MODEL))["servedBy"]["classifier"]["version"]
    assert served in ("a1", "a2")  # a2 within the re-check interval

    result = cli("models", "rollback", MODEL)
    assert result.returncode == 0, result.stderr
    assert "now serving" in result.stdout and "a1" in result.stdout
    assert bucket.blob(f"models/{MODEL}/CURRENT").download_as_bytes().decode() == "a1"
    deadline = time.monotonic() + 10
    while True:
        doc = wait_final(db, user.send("and now?", model=MODEL))
        if doc["servedBy"]["classifier"]["version"] == "a1" or time.monotonic() > deadline:
            break
    assert doc["servedBy"]["classifier"]["version"] == "a1"
    assert db.document(f"models/{MODEL}").get().to_dict()["version"] == "a1"


def test_promoting_a_missing_version_fails_with_one_clear_line(published) -> None:
    result = cli("models", "promote", MODEL, "nope")
    assert result.returncode == 2
    assert "error:" in result.stderr and "nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_rollback_without_history_is_refused(db, bucket, published, tmp_path: Path) -> None:
    from machbot_fn.errors import ManifestError

    with pytest.raises(ManifestError, match="no previous version"):
        rollback(bucket, db, "never-published", tmp_path)


def test_the_catalog_shows_the_ensemble_metrics_only_for_the_members_they_were_measured_on(
    db, bucket, published
) -> None:
    from machbot_fn.admin.publish import ensure_published
    from machbot_fn.labels import CLASSIFIER_IDS
    from machbot_train.version_dir import read_manifest

    members = {m: read_manifest(published[m]).version for m in CLASSIFIER_IDS}
    measured = {"members": members, "metrics": {"accuracy": 0.5, "macro_f1": 0.4}}
    ensure_published(bucket, db, list(published.values()), measured)
    doc = db.document("models/ensemble").get().to_dict()
    assert doc["metrics"] == measured["metrics"] and doc["members"] == list(members)

    other = {"members": {**members, "bert": "some-other-version"}, "metrics": {"accuracy": 0.9}}
    ensure_published(bucket, db, list(published.values()), other)
    assert db.document("models/ensemble").get().to_dict()["metrics"] == {}


def test_a_new_shipped_default_replaces_the_old_one_but_never_a_promoted_version(db, bucket, tmp_path: Path) -> None:
    from machbot_fn.admin.publish import ensure_published, promote
    from machbot_fn.models.registry import read_current

    model = "defaultmodel"
    built = {v: build_tiny_classifier(tmp_path, model, "bert", version=v) for v in ("d1", "d2", "d3", "x1")}
    ensure_published(bucket, db, [built["d1"]])
    assert read_current(bucket, model) == "d1"
    actions = ensure_published(bucket, db, [built["d2"]])  # a newer default ships: it follows
    assert read_current(bucket, model) == "d2" and f"serving {model} d2" in actions

    publish_version(bucket, db, built["x1"], promote=False)
    promote(bucket, db, model, "x1", tmp_path / "cache")  # a researcher's choice
    actions = ensure_published(bucket, db, [built["d3"]])
    assert read_current(bucket, model) == "x1"
    assert any("keeping x1" in line and f"promote {model} d3" in line for line in actions)
