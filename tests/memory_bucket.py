"""An in-memory stand-in for a google-cloud-storage bucket, and a settable clock: the true boundaries
of the registry's unit tests (the models in them are real tiny ONNX exports)."""

from __future__ import annotations

from pathlib import Path

from google.api_core import exceptions as gexc


class MemoryBlob:
    def __init__(self, bucket: MemoryBucket, name: str) -> None:
        self.bucket, self.name = bucket, name

    def _check(self) -> None:
        if self.bucket.down:
            raise gexc.ServiceUnavailable("bucket down")

    def download_as_bytes(self, **call: object) -> bytes:
        self._check()
        if self.name not in self.bucket.files:
            raise gexc.NotFound(self.name)
        self.bucket.downloads.append(self.name)
        return self.bucket.files[self.name]

    def download_to_filename(self, filename: str, **call: object) -> None:
        Path(filename).write_bytes(self.download_as_bytes())

    def upload_from_string(self, data: str | bytes, content_type: str = "") -> None:
        self._check()
        self.bucket.files[self.name] = data.encode() if isinstance(data, str) else data

    def upload_from_filename(self, filename: str) -> None:
        self.upload_from_string(Path(filename).read_bytes())

    def exists(self) -> bool:
        return self.name in self.bucket.files


class MemoryBucket:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []
        self.down = False

    def blob(self, name: str) -> MemoryBlob:
        return MemoryBlob(self, name)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
