"""Publishing a model version into the bucket: verify locally, upload, move CURRENT, update the catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.cloud import firestore

from machbot_fn.errors import ManifestError
from machbot_fn.models import catalog
from machbot_fn.models.manifest import Manifest, parse_manifest
from machbot_fn.models.registry import (
    Bucket,
    ModelRegistry,
    current_path,
    load_runner,
    read_current,
    read_routing,
    read_version_name,
    routing_path,
    verify_files,
    version_prefix,
)
from machbot_fn.models.routing import Routing


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
    previous = read_current(bucket, manifest.id)
    if previous and previous != manifest.version:
        bucket.blob(previous_path(manifest.id)).upload_from_string(previous, content_type="text/plain")
    bucket.blob(current_path(manifest.id)).upload_from_string(manifest.version, content_type="text/plain")
    if db is not None:
        catalog.record_serving(db, manifest)


def default_path(model_id: str) -> str:
    """The shipped default version last installed by the run command."""
    return f"models/{model_id}/DEFAULT"


def previous_path(model_id: str) -> str:
    return f"models/{model_id}/PREVIOUS"


def version_exists(bucket: Bucket, model_id: str, version: str) -> bool:
    return bucket.blob(f"{version_prefix(model_id, version)}/manifest.json").exists()


def ensure_published(
    bucket: Bucket, db: firestore.Client | None, directories: list[Path], ensemble: dict[str, Any] | None = None
) -> list[str]:
    """Publish each default version not yet in the bucket and make it CURRENT where the model has none,
    only an untrained one (and this one is trained), or still the previous default (`models/<id>/DEFAULT`
    remembers it): a new shipped default replaces the old one, never a version a researcher promoted.
    `ensemble` ({members: {id: version}, metrics}) is the ensemble's evaluation, shown in the catalog
    when its members are the classifiers published here. Returns a line per action, for the run
    command to print."""
    actions = []
    manifests = []
    for directory in directories:
        manifest = read_local_version(directory)
        manifests.append(manifest)
        current = read_current(bucket, manifest.id)
        if not version_exists(bucket, manifest.id, manifest.version):
            publish_version(bucket, None, directory, promote=False)
            actions.append(f"uploaded {manifest.id} {manifest.version}")
        previous_default = read_version_name(bucket, default_path(manifest.id))
        replace = current is None or (current != manifest.version and current == previous_default)
        if current and current != manifest.version and manifest.trained and not replace:
            replace = not _manifest_trained(bucket, manifest.id, current)
        if replace:
            promote_version(bucket, db, manifest)
            actions.append(f"serving {manifest.id} {manifest.version}")
        elif current == manifest.version and db is not None:
            catalog.record_serving(db, manifest)
        elif current != manifest.version:
            actions.append(
                f"{manifest.id}: keeping {current}, promoted instead of the shipped default {manifest.version} "
                f"(to serve it: machbot models promote {manifest.id} {manifest.version})"
            )
        if previous_default != manifest.version:
            bucket.blob(default_path(manifest.id)).upload_from_string(manifest.version, content_type="text/plain")
    classifiers = [m for m in manifests if m.is_classifier]  # verified once, above
    if db is not None and len(classifiers) >= 2:
        members = {m.id: m.version for m in classifiers}
        metrics = ensemble.get("metrics") if ensemble and ensemble.get("members") == members else None
        catalog.record_ensemble(db, list(members), trained=all(m.trained for m in classifiers), metrics=metrics)
    return actions


def _manifest_trained(bucket: Bucket, model_id: str, version: str) -> bool:
    try:
        raw = bucket.blob(f"{version_prefix(model_id, version)}/manifest.json").download_as_bytes()
        return bool(json.loads(raw).get("trained"))
    except Exception:
        return False


def list_versions(bucket: Any, model_id: str) -> list[str]:
    """Versions of `model_id` in the bucket that have a manifest, oldest name first."""
    prefix = f"models/{model_id}/"
    names = {b.name for b in bucket.list_blobs(prefix=prefix)}
    return sorted(n[len(prefix) : -len("/manifest.json")] for n in names if n.endswith("/manifest.json"))


def promote(bucket: Bucket, db: firestore.Client | None, model_id: str, version: str, cache_dir: Path) -> Manifest:
    """Verify a version already in the bucket, then make it CURRENT. Refuses (ManifestError/ModelUnavailable) if bad."""
    served = ModelRegistry(bucket, cache_dir).verify(model_id, version)
    promote_version(bucket, db, served.manifest)
    return served.manifest


def rollback(bucket: Bucket, db: firestore.Client | None, model_id: str, cache_dir: Path) -> Manifest:
    """Serve the version CURRENT replaced last (models/<id>/PREVIOUS)."""
    previous = read_version_name(bucket, previous_path(model_id))
    if previous is None:
        raise ManifestError(f"{model_id} has no previous version to roll back to")
    served = ModelRegistry(bucket, cache_dir).verify(model_id, previous)
    promote_version(bucket, db, served.manifest)
    return served.manifest


def set_routing(
    bucket: Bucket,
    db: firestore.Client | None,
    model_id: str,
    cache_dir: Path,
    *,
    canary: tuple[str, float] | None = None,
    shadow: str | None = None,
    clear_canary: bool = False,
    clear_shadow: bool = False,
) -> Routing:
    """Change `model_id`'s canary (version, percent) and/or shadow version; each new candidate is
    verified first (schema, checksums, smoke inference) and refused if bad. Returns the new routing."""
    current = read_current(bucket, model_id)
    if current is None:
        raise ManifestError(f"{model_id} has no CURRENT version; publish one before adding a canary or shadow")
    old = read_routing(bucket, model_id)
    canary_version, percent = (old.canary_version, old.canary_percent) if not clear_canary else (None, 0.0)
    shadow_version = None if clear_shadow else old.shadow_version
    registry = ModelRegistry(bucket, cache_dir)
    if canary is not None:
        canary_version, percent = canary
        if not 0 <= percent <= 100:
            raise ManifestError(f"a canary share must be 0-100 percent, got {percent}")
        registry.verify(model_id, canary_version)
    if shadow is not None:
        registry.verify(model_id, shadow)
        shadow_version = shadow
    for version, role in ((canary_version, "canary"), (shadow_version, "shadow")):
        if version == current:
            raise ManifestError(f"{model_id} {version} is CURRENT already; a {role} must be another version")
    routing = Routing(canary_version, percent if canary_version else 0.0, shadow_version)
    blob = bucket.blob(routing_path(model_id))
    blob.upload_from_string(json.dumps(routing.to_dict()), content_type="application/json")
    if db is not None:
        catalog.record_routing(db, model_id, routing)
    return routing
