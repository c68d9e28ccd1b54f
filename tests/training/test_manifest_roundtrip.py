"""Exported version directories: the manifest parses back, checksums match, tampering is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from machbot_fn.models.manifest import parse_manifest
from machbot_train.export import build_tiny_classifier, build_tiny_replier
from machbot_train.version_dir import MANIFEST, read_manifest, set_current, update_metrics, verify_files

MAX_FILE_BYTES = 1 << 20


@pytest.fixture(scope="module")
def tiny_versions(tiny_root: Path) -> dict[str, Path]:
    root = tiny_root / "registry"
    return {
        "bert": build_tiny_classifier(root, "bert", "bert", "tiny-1"),
        "t5": build_tiny_replier(root, "tiny-1"),
    }


@pytest.mark.parametrize("model_id", ["bert", "t5"])
def test_manifest_round_trip(tiny_versions: dict[str, Path], model_id: str) -> None:
    version_dir = tiny_versions[model_id]
    data = json.loads((version_dir / MANIFEST).read_text())
    manifest = parse_manifest(data)
    assert manifest.to_dict() == data
    assert manifest.trained is False
    assert manifest.display_name.endswith("(untrained)")
    assert {"init", "data", "created", "frameworks"} <= set(manifest.provenance)
    assert verify_files(version_dir) == []
    for name, entry in manifest.files.items():
        assert entry.size == (version_dir / name).stat().st_size <= MAX_FILE_BYTES


def test_tampered_file_is_reported(tiny_versions: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "bert"
    shutil.copytree(tiny_versions["bert"], copy)
    tok = copy / "tokenizer.json"
    tok.write_text(tok.read_text().replace("[UNK]", "[UNX]", 1))
    assert verify_files(copy) == ["tokenizer.json: sha256 mismatch"]
    (copy / "model.onnx").unlink()
    assert "model.onnx: missing" in verify_files(copy)


def test_tiny_builders_are_deterministic(tiny_versions: dict[str, Path], tmp_path: Path) -> None:
    again = build_tiny_classifier(tmp_path, "bert", "bert", "tiny-1")
    first, second = read_manifest(tiny_versions["bert"]), read_manifest(again)
    assert first.files == second.files


def test_update_metrics_keeps_checksums(tiny_versions: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "t5"
    shutil.copytree(tiny_versions["t5"], copy)
    before = read_manifest(copy)
    after = update_metrics(copy, {"val_loss": 3.2})
    assert after.metrics["val_loss"] == 3.2
    assert after.files == before.files
    assert verify_files(copy) == []


def test_set_current_needs_an_exported_version(tiny_versions: dict[str, Path]) -> None:
    root = tiny_versions["bert"].parent.parent
    assert set_current(root, "bert", "tiny-1").read_text().strip() == "tiny-1"
    with pytest.raises(FileNotFoundError, match="export it first"):
        set_current(root, "bert", "nope")


def test_existing_version_is_not_overwritten_by_default(tiny_versions: dict[str, Path]) -> None:
    from machbot_train.bundle import ExportError

    root = tiny_versions["bert"].parent.parent
    with pytest.raises(ExportError, match="immutable"):
        build_tiny_classifier(root, "bert", "bert", "tiny-1", overwrite=False)
