"""Checking every version uploaded into the bucket, before anyone promotes it.

A Storage trigger calls `check_upload` for each finalized object; when it is a version's
`manifest.json` (uploaded last by `machbot publish`), the version is downloaded and verified as the
serving path would (schema, checksums, a smoke inference) and the verdict is recorded in the
catalog, `models/{id}.versions.{version}.verified` / `.reason`, for researchers and the web app.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from google.cloud import firestore

from machbot_fn.errors import ModelUnavailable, TransientError
from machbot_fn.models import catalog
from machbot_fn.models.manifest import MODEL_ID_PATTERN, VERSION_PATTERN
from machbot_fn.models.registry import Bucket, ModelRegistry

MANIFEST_PATH = re.compile(rf"^models/(?P<id>{MODEL_ID_PATTERN})/(?P<version>{VERSION_PATTERN})/manifest\.json$")


def parse_manifest_path(name: str) -> tuple[str, str] | None:
    match = MANIFEST_PATH.match(name)
    return (match["id"], match["version"]) if match else None


def check_upload(bucket: Bucket, db: firestore.Client, object_name: str) -> bool | None:
    """Verify the version whose manifest was just uploaded; None if the object is not a manifest."""
    parsed = parse_manifest_path(object_name)
    if parsed is None:
        return None
    model_id, version = parsed
    with tempfile.TemporaryDirectory(prefix="machbot-check-") as tmp:
        try:
            served = ModelRegistry(bucket, Path(tmp)).verify(model_id, version)
        except TransientError:
            raise  # the bucket blinked: no verdict is recorded (the trigger logs the failure)
        except ModelUnavailable as exc:
            catalog.record_check(db, model_id, version, ok=False, reason=str(exc))
            return False
    catalog.record_check(db, model_id, version, ok=True, reason="", manifest=served.manifest)
    return True
