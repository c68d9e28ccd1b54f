"""Write a registry version directory: `<root>/<id>/<version>/` with its files and manifest.json.

The manifest is built with machbot_fn.models.manifest.Manifest and parsed back with parse_manifest before
it is written, so a directory this module produces always passes the serving side's schema check.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from machbot_fn.models.manifest import FileEntry, Manifest, parse_manifest
from machbot_fn.models.registry import sha256_file

MANIFEST = "manifest.json"
CURRENT = "CURRENT"
CLASSIFIER_MAX_LENGTH = 128  # tokens a classifier reads; the emotion data's tweets fit in far fewer
DISPLAY_NAMES = {
    "bert": "BERT",
    "distilbert": "DistilBERT",
    "roberta": "RoBERTa",
    "electra": "ELECTRA",
    "mobilebert": "MobileBERT",
    "t5": "T5 replier",
}
# The distributions behind an export from PyTorch; the TensorFlow import names its own (tf_import.py).
TORCH_STACK = ("torch", "transformers", "onnx", "onnxruntime", "tokenizers")


class ExportError(RuntimeError):
    """A model cannot be exported as asked (missing files, wrong labels, version already exists)."""


def new_version_dir(out_dir: Path, model_id: str, version: str, overwrite: bool) -> Path:
    """Create the empty `out_dir/<id>/<version>/`; an existing one is an error unless `overwrite`."""
    version_dir = Path(out_dir) / model_id / version
    if version_dir.exists():
        if not overwrite:
            raise ExportError(f"{version_dir} already exists; published versions are immutable (pick a new version)")
        shutil.rmtree(version_dir)
    version_dir.mkdir(parents=True)
    return version_dir


def file_entries(version_dir: Path) -> dict[str, FileEntry]:
    """sha256 and size of every file in the directory except the manifest itself."""
    return {
        p.name: FileEntry(sha256_file(p), p.stat().st_size)
        for p in sorted(version_dir.iterdir())
        if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")
    }


def created_timestamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def framework_versions(packages: Iterable[str] = TORCH_STACK) -> dict[str, str]:
    """Versions that produced the files: the first thing to check when an export behaves differently."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def display_name(model_id: str, trained: bool) -> str:
    name = DISPLAY_NAMES.get(model_id, model_id)
    return name if trained else f"{name} (untrained)"


def write_manifest(version_dir: Path, **fields: Any) -> Manifest:
    """Build the manifest from `fields` plus the directory's files, validate it, write manifest.json."""
    manifest = Manifest(files=file_entries(version_dir), **fields)
    data = manifest.to_dict()
    parsed = parse_manifest(json.loads(json.dumps(data)))  # what the function will read, checked now
    (version_dir / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return parsed


def read_manifest(version_dir: Path) -> Manifest:
    path = Path(version_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{version_dir} has no {MANIFEST}")
    return parse_manifest(json.loads(path.read_text(encoding="utf-8")))


def update_metrics(version_dir: Path, metrics: dict[str, Any]) -> Manifest:
    """Merge evaluation metrics into an existing manifest (the files, hence the checksums, are unchanged)."""
    return _update_manifest(version_dir, "metrics", metrics)


def update_calibration(version_dir: Path, calibration: dict[str, Any]) -> Manifest:
    """Set a classifier's fitted calibration (temperature, "not sure" threshold) in its manifest."""
    return _update_manifest(version_dir, "calibration", calibration, merge=False)


def update_generation(version_dir: Path, generation: dict[str, Any]) -> Manifest:
    """Merge replier generation settings (e.g. `prompt`) into an existing manifest, validated as served."""
    return _update_manifest(version_dir, "generation", generation)


def _update_manifest(version_dir: Path, key: str, value: dict[str, Any], merge: bool = True) -> Manifest:
    path = Path(version_dir) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data[key] = {**data.get(key, {}), **value} if merge else value
    parsed = parse_manifest(data)  # refuses a value the serving side would refuse
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return parsed


def verify_files(version_dir: Path) -> list[str]:
    """Problems with the directory against its manifest (missing files, wrong size or checksum); [] if none."""
    manifest = read_manifest(version_dir)
    problems = []
    for name, entry in manifest.files.items():
        path = Path(version_dir) / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != entry.size:
            problems.append(f"{name}: size {path.stat().st_size} != {entry.size}")
        elif sha256_file(path) != entry.sha256:
            problems.append(f"{name}: sha256 mismatch")
    return problems


def copy_version(source: Path, root: Path, version: str) -> Path:
    """`source` copied as `root/<id>/<version>/` (the manifest's version renamed, and
    `provenance.copied_from` naming the original), to add or change files without touching a
    published version."""
    manifest = read_manifest(source)
    target = new_version_dir(root, manifest.id, version, overwrite=False)
    for path in sorted(Path(source).iterdir()):
        if path.is_file() and path.name != MANIFEST and not path.name.startswith("."):
            shutil.copyfile(path, target / path.name)
    data = json.loads((Path(source) / MANIFEST).read_text(encoding="utf-8"))
    data["version"] = version
    data.setdefault("provenance", {})["copied_from"] = manifest.versioned_id
    parse_manifest(data)
    (target / MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return target


def set_current(root: Path, model_id: str, version: str) -> Path:
    """Point `<root>/<id>/CURRENT` at `version`, as the bucket does."""
    if not (Path(root) / model_id / version / MANIFEST).is_file():
        raise FileNotFoundError(f"{root}/{model_id}/{version} has no {MANIFEST}; export it first")
    path = Path(root) / model_id / CURRENT
    path.write_text(version + "\n", encoding="utf-8")
    return path


def current_version(root: Path, model_id: str) -> Path:
    """The version directory `<root>/<id>/CURRENT` names."""
    current = Path(root) / model_id / CURRENT
    if not current.is_file():
        raise FileNotFoundError(f"{root} has no {model_id}/CURRENT")
    return current.parent / current.read_text().strip()
