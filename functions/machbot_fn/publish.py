"""Publishing a model version into the bucket: verify locally, upload, move CURRENT, update the catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from google.cloud import firestore

from machbot_fn import catalog
from machbot_fn.errors import ManifestError
from machbot_fn.manifest import Manifest, parse_manifest
from machbot_fn.registry import Bucket, current_path, load_runner, verify_files, version_prefix


@dataclass(frozen=True)
class Published:
    manifest: Manifest
    uploaded: list[str]
    promoted: bool


def read_local_version(directory: Path) -> Manifest:
    """Parse and verify a version directory as the registry would, before anything is uploaded."""
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        raise ManifestError(f"{directory} has no manifest.json")
    try:
        manifest = parse_manifest(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path} is not valid JSON ({exc.msg})") from exc
    verify_files(manifest, Path(directory))
    return manifest


def publish_version(
    bucket: Bucket, db: firestore.Client | None, directory: Path, promote: bool = True, smoke: bool = True
) -> Published:
    """Upload `directory` (a version folder with manifest.json) and, by default, make it CURRENT."""
    directory = Path(directory)
    manifest = read_local_version(directory)
    if smoke:
        load_runner(manifest, directory, threads=1)
    prefix = version_prefix(manifest.id, manifest.version)
    uploaded = []
    # Model files first, manifest last: a version is complete once its manifest exists.
    for name in [*manifest.files, "manifest.json"]:
        bucket.blob(f"{prefix}/{name}").upload_from_filename(str(directory / name))
        uploaded.append(f"{prefix}/{name}")
    if promote:
        promote_version(bucket, db, manifest)
    return Published(manifest, uploaded, promote)


def promote_version(bucket: Bucket, db: firestore.Client | None, manifest: Manifest) -> None:
    """Point CURRENT at `manifest`'s version (remembering the one it replaces) and update the catalog."""
    current = bucket.blob(current_path(manifest.id))
    try:
        previous = current.download_as_bytes().decode().strip()
    except Exception:  # noqa: BLE001 - no CURRENT yet (NotFound) is the common case
        previous = ""
    if previous and previous != manifest.version:
        bucket.blob(f"models/{manifest.id}/PREVIOUS").upload_from_string(previous, content_type="text/plain")
    current.upload_from_string(manifest.version, content_type="text/plain")
    if db is not None:
        catalog.record_serving(db, manifest)
