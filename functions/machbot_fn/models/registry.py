"""The model registry client: which version of a model serves now, loaded once and verified.

`models_for(model_id, user_id)` is the one question a message asks: every model it needs (the
classifier routed to this user or the ensemble's members, the shadow, the replier, the optional
sentence embedder), as one typed `MessageModels`.

Bucket layout: `models/<id>/CURRENT` (the version string) and `models/<id>/<version>/` holding
`manifest.json` plus the files it lists with their sha256. A version is downloaded to the local
cache once, verified (checksums, schema, a smoke inference) and kept in memory keyed by version.
CURRENT is re-read at most every `recheck_seconds`, so a swap serves within seconds, no redeploy.
A version that fails verification is remembered as bad; the previous good one keeps serving.

Every bucket call is bounded. The storage library's default retries a refused connection for two
minutes, longer than the function's 60 s timeout: an outage would kill each attempt before it could
release its claim or give up with `model_unavailable`, and a served model's periodic re-check would
stall every message behind it. Here a call retries for at most `bucket_retry_seconds`, and the
re-check of a model that is already serving makes one short attempt, then keeps serving.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, cast

from google.api_core import exceptions as gexc
from google.cloud.storage.retry import DEFAULT_RETRY

from machbot_fn.errors import MachbotError, ManifestError, ModelUnavailable, TransientError, UnknownModel
from machbot_fn.labels import CLASSIFIER_IDS, EMBEDDER_ID, ENSEMBLE_ID, REPLIER_ID
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.manifest import CLASSIFICATION, EMBEDDING, GENERATION, Manifest, parse_manifest
from machbot_fn.models.replier import Replier
from machbot_fn.models.routing import CANARY, NO_ROUTING, PRIMARY, Routing, in_canary, parse_routing
from machbot_fn.models.runtime import Runtime
from machbot_fn.settings import SharingSettings

log = logging.getLogger(__name__)
MODELS_PREFIX = "models"
BUCKET_RETRY_SECONDS = 10.0  # total retry budget of one bucket call, well inside the function's 60 s
CONNECT_TIMEOUT = 5.0  # seconds to open a connection to the bucket
READ_TIMEOUT = 60.0  # seconds of silence mid-download before the attempt fails
QUICK_TIMEOUT = (3.0, 10.0)  # the re-check of a model that is serving: one short attempt, no retries
ENSEMBLE_MIN_MEMBERS = 2  # fewer classifiers that can serve: the ensemble is unavailable
EMBEDDER_RETRY_SECONDS = SharingSettings().embedder_retry_seconds  # the setting's default (settings.py)


def bounded(retry_seconds: float = BUCKET_RETRY_SECONDS) -> dict[str, Any]:
    """Keyword arguments for one google-cloud-storage call: retried for at most `retry_seconds` (0: once)."""
    retry = DEFAULT_RETRY.with_timeout(retry_seconds) if retry_seconds > 0 else None
    return {"retry": retry, "timeout": (CONNECT_TIMEOUT, READ_TIMEOUT) if retry else QUICK_TIMEOUT}


class Blob(Protocol):
    def download_as_bytes(self, **kwargs: Any) -> bytes: ...
    def download_to_filename(self, filename: str, **kwargs: Any) -> None: ...
    def upload_from_filename(self, filename: str) -> None: ...
    def upload_from_string(self, data: str | bytes, content_type: str = ...) -> None: ...
    def exists(self) -> bool: ...


class Bucket(Protocol):
    def blob(self, name: str) -> Blob: ...


def current_path(model_id: str) -> str:
    return f"{MODELS_PREFIX}/{model_id}/CURRENT"


def routing_path(model_id: str) -> str:
    return f"{MODELS_PREFIX}/{model_id}/ROUTING"


def version_prefix(model_id: str, version: str) -> str:
    return f"{MODELS_PREFIX}/{model_id}/{version}"


def _read_small(bucket: Bucket, name: str, retry_seconds: float) -> bytes | None:
    """A small control file (CURRENT, ROUTING); None if absent, TransientError if the bucket is down."""
    try:
        return bucket.blob(name).download_as_bytes(**bounded(retry_seconds))
    except gexc.NotFound:
        return None
    except (gexc.GoogleAPICallError, gexc.RetryError, OSError) as exc:
        raise TransientError(f"model bucket unavailable reading {name}: {exc}") from exc


def read_version_name(bucket: Bucket, name: str, retry_seconds: float = BUCKET_RETRY_SECONDS) -> str | None:
    """The version a pointer file (CURRENT, PREVIOUS, DEFAULT) names; None if there is no such file."""
    raw = _read_small(bucket, name, retry_seconds)
    return (raw.decode("utf-8").strip() or None) if raw is not None else None


def read_current(bucket: Bucket, model_id: str, retry_seconds: float = BUCKET_RETRY_SECONDS) -> str | None:
    """The version CURRENT names, or None when the model was never published."""
    return read_version_name(bucket, current_path(model_id), retry_seconds)


def read_routing(bucket: Bucket, model_id: str, retry_seconds: float = BUCKET_RETRY_SECONDS) -> Routing:
    """The model's canary/shadow settings; none when there is no ROUTING file."""
    return parse_routing(_read_small(bucket, routing_path(model_id), retry_seconds))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_files(manifest: Manifest, directory: Path) -> None:
    """Every listed file exists with the manifest's size and sha256."""
    for name, entry in manifest.files.items():
        path = directory / name
        if not path.is_file():
            raise ManifestError(f"{manifest.id} {manifest.version}: {name} is missing")
        if path.stat().st_size != entry.size:
            raise ManifestError(
                f"{manifest.id} {manifest.version}: {name} has {path.stat().st_size} bytes, manifest says {entry.size}"
            )
        actual = sha256_file(path)
        if actual != entry.sha256:
            raise ManifestError(f"{manifest.id} {manifest.version}: {name} fails its checksum (sha256 {actual[:12]}…)")


RUNTIMES: dict[str, type[EmotionClassifier] | type[Replier] | type[SentenceEmbedder]] = {
    CLASSIFICATION: EmotionClassifier,
    GENERATION: Replier,
    EMBEDDING: SentenceEmbedder,
}


def load_runner(manifest: Manifest, directory: Path, threads: int) -> Runtime:
    """Build the inference object for a verified version and run its smoke test."""
    runtime = RUNTIMES.get(manifest.task)
    if runtime is None:
        raise ManifestError(f"{manifest.id}: unknown task {manifest.task!r}")
    runner = runtime(manifest, directory, threads=threads)
    runner.smoke_test()
    return runner


R = TypeVar("R", bound=Runtime, covariant=True)
K = TypeVar("K", EmotionClassifier, Replier, SentenceEmbedder)


@dataclass(frozen=True)
class ServedModel(Generic[R]):
    """A verified version in memory: its manifest and the runtime that runs it."""

    manifest: Manifest
    runner: R
    loaded_at: float
    main_sha256: str
    version: str = field(init=False)  # the manifest's, kept as a plain attribute: read on every message

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", self.manifest.version)


def of_kind(model: ServedModel[Runtime], kind: type[K], what: str) -> ServedModel[K]:
    """`model` as a model of `kind`; UnknownModel (the user's choice cannot answer) when it is another task's."""
    if not isinstance(model.runner, kind):
        raise UnknownModel(f"{model.manifest.id!r} is a {model.manifest.task} model, not {what}")
    return cast(ServedModel[K], model)


@dataclass(frozen=True)
class Route:
    """Who answers one user's message (CURRENT, or the canary), and who watches in shadow."""

    model: ServedModel[EmotionClassifier]
    role: str  # routing.PRIMARY or routing.CANARY
    shadow: ServedModel[EmotionClassifier] | None = None


@dataclass(frozen=True)
class MessageModels:
    """Every model one message needs, chosen in one call (`ModelRegistry.models_for`)."""

    classifiers: tuple[ServedModel[EmotionClassifier], ...]  # the version routed to the user; for the ensemble,
    # every member that can serve
    route: str | None  # routing.PRIMARY or CANARY; None for the ensemble
    shadow: ServedModel[EmotionClassifier] | None  # classifies the text too, after the answer is written
    replier: ServedModel[Replier]
    embedder: ServedModel[SentenceEmbedder] | None  # None: it cannot serve now, and the message is not matched


@dataclass
class _Entry:
    current: str | None = None
    checked_at: float = float("-inf")
    served: ServedModel[Runtime] | None = None  # the version answering now
    routing: Routing = NO_ROUTING
    candidates: dict[str, ServedModel[Runtime]] = field(default_factory=dict)  # canary / shadow versions in memory
    bad: dict[str, str] = field(default_factory=dict)  # version -> why it was refused
    lock: threading.Lock = field(default_factory=threading.Lock)


class ModelRegistry:
    """Serve models from a bucket; thread-safe; one instance per process."""

    def __init__(
        self,
        bucket: Bucket,
        cache_dir: Path,
        recheck_seconds: float = 5.0,
        threads: int = 1,
        clock: Callable[[], float] = time.monotonic,
        on_refused: Callable[[str, str, str], None] | None = None,
        bucket_retry_seconds: float = BUCKET_RETRY_SECONDS,
        embedder_retry_seconds: float = EMBEDDER_RETRY_SECONDS,
    ) -> None:
        self._bucket = bucket
        self._cache_dir = Path(cache_dir)
        self._recheck = recheck_seconds
        self._threads = threads
        self._clock = clock
        self._on_refused = on_refused
        self._retry_seconds = bucket_retry_seconds
        self._embedder_retry = embedder_retry_seconds
        self._embedder_paused_until = float("-inf")
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def _entry(self, model_id: str) -> _Entry:
        with self._lock:
            return self._entries.setdefault(model_id, _Entry())

    def loaded(self) -> dict[str, str]:
        """model id -> version currently in memory."""
        return {k: e.served.version for k, e in self._entries.items() if e.served}

    def classifier(self, model_id: str) -> ServedModel[EmotionClassifier]:
        return of_kind(self.get(model_id), EmotionClassifier, "an emotion classifier")

    def replier(self, model_id: str = REPLIER_ID) -> ServedModel[Replier]:
        return of_kind(self.get(model_id), Replier, "a reply generator")

    def embedder(self, model_id: str = EMBEDDER_ID) -> ServedModel[SentenceEmbedder]:
        return of_kind(self.get(model_id), SentenceEmbedder, "a sentence embedder")

    def models_for(self, model_id: str, user_id: str | None) -> MessageModels:
        """Every model a message to `model_id` from `user_id` needs. The classifier is fetched first, so an
        unknown or unusable model id fails before anything else is fetched; the replier's errors are the
        message's too (a TransientError releases its claim); the embedder's never are (`optional_embedder`)."""
        if model_id == ENSEMBLE_ID:
            classifiers, role, shadow = self.ensemble_members(), None, None
        else:
            route = self.route(model_id, user_id)
            classifiers, role, shadow = (route.model,), route.role, route.shadow
        return MessageModels(classifiers, role, shadow, self.replier(), self.optional_embedder())

    def ensemble_members(
        self, candidates: tuple[str, ...] = CLASSIFIER_IDS
    ) -> tuple[ServedModel[EmotionClassifier], ...]:
        """The classifiers that can serve now; members that are unpublished or broken sit this one out."""
        members = []
        for model_id in candidates:
            try:
                members.append(self.classifier(model_id))
            except (UnknownModel, ModelUnavailable):
                continue
        if len(members) < ENSEMBLE_MIN_MEMBERS:
            raise ModelUnavailable(
                f"the ensemble needs at least {ENSEMBLE_MIN_MEMBERS} classifiers; {len(members)} can serve"
            )
        return tuple(members)

    def optional_embedder(self) -> ServedModel[SentenceEmbedder] | None:
        """The sentence embedder, or None when it cannot serve. Matching is an extra: after a failure the
        embedder is not asked for again for `embedder_retry_seconds`, so no message waits on the bucket for it."""
        if self._clock() < self._embedder_paused_until:
            return None
        try:
            return self.embedder()
        except MachbotError as exc:
            self._embedder_paused_until = self._clock() + self._embedder_retry
            log.warning("matching paused for %.0f s: %s", self._embedder_retry, exc)
            return None

    def get(self, model_id: str) -> ServedModel[Runtime]:
        """The verified model serving `model_id` now, of any task; raise UnknownModel / ModelUnavailable /
        TransientError. `classifier`, `replier` and `embedder` also check the task."""
        entry = self._entry(model_id)
        with entry.lock:
            now = self._clock()
            if now - entry.checked_at >= self._recheck or entry.current is None:
                # With a version serving, a re-check must not hold up the messages waiting on this lock.
                retry = 0.0 if entry.served else self._retry_seconds
                try:
                    current = read_current(self._bucket, model_id, retry)
                except TransientError:
                    if entry.served is None:
                        raise
                    log.warning("bucket unreachable; %s keeps serving %s", model_id, entry.served.version)
                    current = entry.current
                self._refresh_routing(model_id, entry, retry)
                # Stamped after the call: a slow or failed check waits a full interval before the next one.
                entry.current, entry.checked_at = current, self._clock()
            if entry.current is None:
                raise UnknownModel(f"no model named {model_id!r} is published")
            if entry.served and entry.served.version == entry.current:
                return entry.served
            if entry.current not in entry.bad:
                try:
                    # A promoted canary or shadow is already loaded and verified.
                    entry.served = entry.candidates.get(entry.current) or self._load(model_id, entry.current)
                    return entry.served
                except TransientError as exc:
                    if entry.served is None:
                        raise
                    # Not a verdict on the new version: it is tried again after the re-check interval.
                    log.warning(
                        "bucket unreachable loading %s %s (%s); keeps serving %s",
                        model_id,
                        entry.current,
                        exc,
                        entry.served.version,
                    )
                    return entry.served
                except ModelUnavailable as exc:
                    self._refuse(model_id, entry, entry.current, exc)
            if entry.served is not None:
                return entry.served  # the previous good version keeps serving
            raise ModelUnavailable(f"{model_id} cannot be served: {entry.bad[entry.current]}")

    def _refresh_routing(self, model_id: str, entry: _Entry, retry: float) -> None:
        """Re-read ROUTING (kept as it was if the bucket is down) and drop candidates it no longer names."""
        try:
            entry.routing = read_routing(self._bucket, model_id, retry)
        except TransientError:
            return
        except ManifestError as exc:
            log.error("ignoring %s's ROUTING: %s", model_id, exc)
            entry.routing = NO_ROUTING
        keep = {entry.routing.canary_version, entry.routing.shadow_version}
        entry.candidates = {v: m for v, m in entry.candidates.items() if v in keep}

    def _refuse(self, model_id: str, entry: _Entry, version: str, exc: ModelUnavailable) -> None:
        """Remember that `version` failed verification (it is not tried again) and report why."""
        entry.bad[version] = str(exc)
        log.error("refusing %s %s: %s", model_id, version, exc)
        if self._on_refused:
            self._on_refused(model_id, version, str(exc))

    def route(self, model_id: str, user_id: str | None) -> Route:
        """The classifier version that answers `user_id` (CURRENT, or the canary for its share of users) and
        the shadow version, if any. A candidate that cannot be loaded is left out; CURRENT answers."""
        primary = self.classifier(model_id)
        routing = self._entry(model_id).routing
        model, role = primary, PRIMARY
        if in_canary(routing, model_id, user_id) and routing.canary_version != primary.version:
            candidate = self._candidate(model_id, routing.canary_version)
            if candidate is not None:
                model, role = of_kind(candidate, EmotionClassifier, "an emotion classifier"), CANARY
        shadow = None
        if routing.shadow_version and routing.shadow_version != model.version:
            watcher = self._candidate(model_id, routing.shadow_version)
            shadow = of_kind(watcher, EmotionClassifier, "an emotion classifier") if watcher else None
        return Route(model, role, shadow)

    def _candidate(self, model_id: str, version: str | None) -> ServedModel[Runtime] | None:
        if not version:
            return None
        entry = self._entry(model_id)
        with entry.lock:
            if version in entry.candidates:
                return entry.candidates[version]
            if version in entry.bad:
                return None
            try:
                entry.candidates[version] = self._load(model_id, version)
            except TransientError as exc:
                log.warning("bucket unreachable loading candidate %s %s: %s", model_id, version, exc)
                return None
            except ModelUnavailable as exc:
                self._refuse(model_id, entry, version, exc)
                return None
            return entry.candidates[version]

    def _download(self, name: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        try:
            self._bucket.blob(name).download_to_filename(str(tmp), **bounded(self._retry_seconds))
        except gexc.NotFound as exc:
            raise ManifestError(f"{name} is listed but not in the bucket") from exc
        except (gexc.GoogleAPICallError, gexc.RetryError, OSError) as exc:
            raise TransientError(f"model bucket unavailable downloading {name}: {exc}") from exc
        tmp.replace(dest)

    def fetch_manifest(self, model_id: str, version: str) -> Manifest:
        prefix = version_prefix(model_id, version)
        try:
            raw = self._bucket.blob(f"{prefix}/manifest.json").download_as_bytes(**bounded(self._retry_seconds))
        except gexc.NotFound as exc:
            raise ManifestError(f"{model_id} {version}: no manifest.json in the bucket") from exc
        except (gexc.GoogleAPICallError, gexc.RetryError, OSError) as exc:
            raise TransientError(f"model bucket unavailable reading {prefix}/manifest.json: {exc}") from exc
        try:
            manifest = parse_manifest(json.loads(raw))
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{model_id} {version}: manifest.json is not valid JSON ({exc.msg})") from exc
        if manifest.id != model_id or manifest.version != version:
            raise ManifestError(f"manifest says {manifest.id} {manifest.version}, but it sits at {prefix}")
        return manifest

    def verify(self, model_id: str, version: str) -> ServedModel[Runtime]:
        """Download and verify `version` (schema, checksums, smoke inference) without serving it."""
        return self._load(model_id, version)

    def _load(self, model_id: str, version: str) -> ServedModel[Runtime]:
        manifest = self.fetch_manifest(model_id, version)
        directory = self._cache_dir / model_id / version
        for name, entry in manifest.files.items():
            path = directory / name
            if path.is_file() and path.stat().st_size == entry.size and sha256_file(path) == entry.sha256:
                continue  # already in the local cache
            self._download(f"{version_prefix(model_id, version)}/{name}", path)
        verify_files(manifest, directory)
        try:
            runner = load_runner(manifest, directory, self._threads)
        except ModelUnavailable:
            raise
        except Exception as exc:  # onnxruntime / tokenizers reject a broken file with many exception types
            raise ModelUnavailable(f"{model_id} {version} failed to load: {exc}") from exc
        main = "decoder.onnx" if manifest.task == GENERATION else "model.onnx"
        log.info("loaded %s %s", model_id, version)
        return ServedModel(manifest, runner, self._clock(), manifest.files[main].sha256)
