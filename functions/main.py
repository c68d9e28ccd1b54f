"""machbot's Cloud Functions: thin triggers; the logic lives in machbot_fn."""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import TypedDict

from firebase_functions import firestore_fn, https_fn, options, scheduler_fn, storage_fn
from firebase_functions.core import Change, CloudEvent
from firebase_functions.params import IntParam
from flask import Request, Response
from google.cloud.firestore_v1 import DocumentReference, DocumentSnapshot

from machbot_fn import clients
from machbot_fn.models import catalog, upload_check
from machbot_fn.models.registry import ModelRegistry
from machbot_fn.serving import pipeline
from machbot_fn.settings import Settings
from machbot_fn.sharing import reports, share

logging.basicConfig(level=logging.INFO)
# Our app must be the default one before the SDK builds its own (with credentials the emulator lacks).
clients.firebase_app()


class TriggerOptions(TypedDict, total=False):
    """The deploy-time options the Firestore triggers share (typed, so each one is checked against the SDK)."""

    memory: options.MemoryOption
    cpu: int
    timeout_sec: int
    min_instances: IntParam
    max_instances: IntParam
    concurrency: IntParam


# How far each trigger scales is chosen per deployment: these params are valued in functions/.env, which
# `firebase deploy` reads (a param without a value would be prompted for, and fails a non-interactive
# deploy); the emulator reads functions/.env.local over it. Why these values: the README's deploy section.
MESSAGE_MIN_INSTANCES = IntParam("MESSAGE_MIN_INSTANCES", description="warm instances kept for new messages")
MESSAGE_MAX_INSTANCES = IntParam("MESSAGE_MAX_INSTANCES", description="instances answering messages, at most")
MESSAGE_CONCURRENCY = IntParam("MESSAGE_CONCURRENCY", description="messages one instance answers at once")
SHARING_MAX_INSTANCES = IntParam("SHARING_MAX_INSTANCES", description="instances of the sharing triggers, at most")
SHARING_CONCURRENCY = IntParam("SHARING_CONCURRENCY", description="sharing events one instance handles at once")

MESSAGE_OPTIONS: TriggerOptions = {
    # No `retry`: firebase-functions (Python) cannot enable redelivery for Firestore triggers
    # (firebase/firebase-functions-python#165). Transient failures release the claim instead and the
    # scheduled sweeper below re-drives them, up to MACHBOT_MAX_ATTEMPTS.
    "memory": options.MemoryOption.GB_2,
    "cpu": 1,
    "timeout_sec": 60,
    "min_instances": MESSAGE_MIN_INSTANCES,
    "max_instances": MESSAGE_MAX_INSTANCES,
    "concurrency": MESSAGE_CONCURRENCY,
}


@cache
def settings() -> Settings:
    """Read once per instance (MACHBOT_* variables)."""
    return Settings.from_env()


@cache
def services() -> pipeline.Services:
    """Built once per instance: clients, the registry, and the preloaded default models."""
    config, db = settings(), clients.firestore_client()
    registry = ModelRegistry(
        clients.bucket(config.bucket),
        config.cache_dir,
        recheck_seconds=config.recheck_seconds,
        threads=config.onnx_threads,
        on_refused=lambda model_id, version, reason: catalog.record_refused(db, model_id, version, reason),
        embedder_retry_seconds=config.sharing.embedder_retry_seconds,
    )
    for model_id in config.preload:
        try:
            registry.get(model_id)
        except Exception:
            logging.exception("preloading %s failed", model_id)
    return pipeline.Services(db=db, registry=registry, settings=config)


@firestore_fn.on_document_created(document="users/{uid}/messages/{messageId}", **MESSAGE_OPTIONS)
def on_message_created(event: firestore_fn.Event[DocumentSnapshot[DocumentReference] | None]) -> None:
    if event.data is None:
        return
    svc = services()
    pipeline.handle_message(svc, svc.db.document(event.document), event.time)


# Sharing reacts to every change of a message but acts on few: most events end after a dict lookup.
SHARING_OPTIONS: TriggerOptions = {
    "memory": options.MemoryOption.GB_1,
    "cpu": 1,
    "timeout_sec": 60,
    "max_instances": SHARING_MAX_INSTANCES,
    "concurrency": SHARING_CONCURRENCY,
}


@firestore_fn.on_document_updated(document="users/{uid}/messages/{messageId}", **SHARING_OPTIONS)
def on_message_updated(event: firestore_fn.Event[Change[DocumentSnapshot[DocumentReference] | None]]) -> None:
    """Put an answered message into the shared pool, or take it out, as its owner's `share` says."""
    after = event.data.after if event.data else None
    if after is None or not share.needs_reconcile(after.to_dict() or {}):
        return
    svc = services()
    logging.info("sharing: %s", share.reconcile(svc.db, svc.registry, svc.db.document(event.document)))


@firestore_fn.on_document_created(document="thoughts/{thoughtId}/reports/{reporterId}", **SHARING_OPTIONS)
def on_thought_reported(event: firestore_fn.Event[DocumentSnapshot[DocumentReference] | None]) -> None:
    """Count a report on a shared thought; enough of them hide it."""
    threshold = settings().sharing.report_threshold
    outcome = reports.handle_report(clients.firestore_client(), event.params["thoughtId"], threshold)
    logging.info("report on %s: %s", event.params["thoughtId"], outcome)


@scheduler_fn.on_schedule(schedule="every 5 minutes", timeout_sec=300, memory=options.MemoryOption.GB_1)
def sweep_sharing(event: scheduler_fn.ScheduledEvent) -> None:
    """Redo the shares and unshares whose events failed (triggers are not redelivered)."""
    svc = services()
    logging.info("sharing sweep: %s", share.sweep(svc.db, svc.registry))


@scheduler_fn.on_schedule(schedule="every 1 minutes", timeout_sec=300, memory=options.MemoryOption.GB_2)
def sweep_stale_messages(event: scheduler_fn.ScheduledEvent) -> None:
    """Re-drive messages whose handler died (expired lease) or whose event never arrived."""
    logging.info("sweep: %s", pipeline.sweep(services()))


@storage_fn.on_object_finalized(memory=options.MemoryOption.GB_1, timeout_sec=300)
def on_model_uploaded(event: CloudEvent[storage_fn.StorageObjectData]) -> None:
    """Verify each model version uploaded into the bucket and record the verdict in the catalog."""
    if not upload_check.parse_manifest_path(event.data.name):
        return
    upload_check.check_upload(clients.bucket(event.data.bucket), clients.firestore_client(), event.data.name)


if os.environ.get("FUNCTIONS_EMULATOR") == "true":
    # The emulator runs no schedules: tests and the run command call the sweeper over HTTP instead.
    @https_fn.on_request()
    def sweep_now(req: Request) -> Response:
        grace = req.args.get("grace", type=float)
        unclaimed_only = req.args.get("unclaimed_only") == "1"
        counts = pipeline.sweep(services(), grace_seconds=grace, unclaimed_only=unclaimed_only)
        return Response(str(counts), mimetype="text/plain")
