"""`machbot models ...`: what the bucket serves, and the researcher's levers on it.

list / versions / verify / promote / rollback, canary and shadow routing, per-version stats.
Each works against the emulators, or a real project with MACHBOT_PROJECT and credentials.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from machbot.console import console, fail
from machbot.stack import use_emulators

models_app = typer.Typer(help="Inspect and manage the models in the bucket.", no_args_is_help=True)


@models_app.command("list")
def models_list() -> None:
    """The catalog: every model with its serving version, metrics and status."""
    from rich.table import Table

    from machbot_fn import clients

    use_emulators()
    table = Table("id", "name", "task", "version", "status", "accuracy", "macro-F1", "latency ms")
    for snap in clients.firestore_client().collection("models").order_by("id").stream():
        d = snap.to_dict() or {}
        m = d.get("metrics") or {}
        fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else "-"  # noqa: E731
        table.add_row(
            d.get("id", snap.id),
            d.get("displayName", ""),
            d.get("task", ""),
            d.get("version", ""),
            d.get("status", "") + ("" if d.get("trained", True) else " (untrained)"),
            fmt(m.get("accuracy")),
            fmt(m.get("macro_f1")),
            fmt(m.get("latency_ms")),
        )
    console.print(table)


def _model_action(action: str, model_id: str, version: str | None = None) -> None:
    """verify | promote | rollback one model version in the bucket, with a one-line outcome."""
    from machbot_fn import clients
    from machbot_fn.admin.publish import promote, rollback
    from machbot_fn.errors import MachbotError
    from machbot_fn.models.registry import ModelRegistry

    use_emulators()
    bucket, db = clients.bucket(), clients.firestore_client()
    with tempfile.TemporaryDirectory() as cache:
        try:
            if action == "verify":
                manifest = ModelRegistry(bucket, Path(cache)).verify(model_id, version or "").manifest
            elif action == "promote":
                manifest = promote(bucket, db, model_id, version or "", Path(cache))
            else:
                manifest = rollback(bucket, db, model_id, Path(cache))
        except MachbotError as exc:
            fail(str(exc))
    verb = {"verify": "is valid", "promote": "now serving", "rollback": "rolled back: now serving"}[action]
    console.print(f"{manifest.id} {manifest.version} {verb} ({'trained' if manifest.trained else 'untrained'})")


@models_app.command("versions")
def models_versions(model_id: Annotated[str, typer.Argument(help="A model id, e.g. bert.")]) -> None:
    """The versions of a model in the bucket, with the one being served and any refusal reasons."""
    from machbot_fn import clients
    from machbot_fn.admin.publish import list_versions
    from machbot_fn.models.registry import read_current

    use_emulators()
    bucket = clients.bucket()
    versions = list_versions(bucket, model_id)
    if not versions:
        fail(f"no versions of {model_id!r} in the bucket")
    current = read_current(bucket, model_id)
    entry = (clients.firestore_client().document(f"models/{model_id}").get().to_dict() or {}).get("versions", {})
    for version in versions:
        info = entry.get(version, {})
        mark = "*" if version == current else " "
        console.print(f"{mark} {version:24} {info.get('status', ''):10} {info.get('reason', '')}")


@models_app.command("verify")
def models_verify(model_id: str, version: str) -> None:
    """Download a version from the bucket and check it as the function would (checksums, smoke test)."""
    _model_action("verify", model_id, version)


@models_app.command("promote")
def models_promote(model_id: str, version: str) -> None:
    """Verify a version in the bucket, then make it CURRENT (served within seconds)."""
    _model_action("promote", model_id, version)


@models_app.command("rollback")
def models_rollback(model_id: str) -> None:
    """Serve the version that was CURRENT before the last promote."""
    _model_action("rollback", model_id)


def _set_routing(model_id: str, **change: Any) -> None:
    from machbot_fn import clients
    from machbot_fn.admin.publish import set_routing
    from machbot_fn.errors import MachbotError

    use_emulators()
    with tempfile.TemporaryDirectory() as cache:
        try:
            routing = set_routing(clients.bucket(), clients.firestore_client(), model_id, Path(cache), **change)
        except MachbotError as exc:
            fail(str(exc))
    canary = (
        f"canary {routing.canary_version} for {routing.canary_percent:g}% of users"
        if routing.canary_version
        else "no canary"
    )
    shadow = f"shadow {routing.shadow_version}" if routing.shadow_version else "no shadow"
    console.print(f"{model_id}: {canary}, {shadow} (applies within seconds)")


@models_app.command("canary")
def models_canary(
    model_id: str,
    version: Annotated[str, typer.Argument(help="A version already in the bucket (publish --no-promote).")],
    percent: Annotated[float, typer.Option(help="Share of users (sticky per user) answered by this version.")] = 10.0,
) -> None:
    """Route a share of users to a candidate version; the rest keep CURRENT."""
    _set_routing(model_id, canary=(version, percent))


@models_app.command("shadow")
def models_shadow(model_id: str, version: str) -> None:
    """Let a candidate version classify every message too, recorded for researchers and never shown."""
    _set_routing(model_id, shadow=version)


@models_app.command("routing-clear")
def models_routing_clear(
    model_id: str,
    canary: Annotated[bool, typer.Option(help="Remove the canary.")] = True,
    shadow: Annotated[bool, typer.Option(help="Remove the shadow.")] = True,
) -> None:
    """End the canary and/or the shadow: CURRENT answers everyone."""
    _set_routing(model_id, clear_canary=canary, clear_shadow=shadow)


@models_app.command("stats")
def models_stats(
    model_id: Annotated[str | None, typer.Argument(help="A model id; all models when omitted.")] = None,
) -> None:
    """Per-version metrics from live traffic: messages, latency, mean confidence, agreement with reports."""
    from rich.table import Table

    from machbot_fn import clients
    from machbot_fn.admin.stats import read_stats

    use_emulators()
    rows = read_stats(clients.firestore_client(), model_id)
    if not rows:
        fail(f"no traffic recorded{' for ' + model_id if model_id else ''} yet")

    def num(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    table = Table("model", "version", "mode", "messages", "latency ms", "confidence", "reports", "report agreement")
    for r in rows:
        table.add_row(
            r.model,
            r.version,
            r.mode,
            str(r.count),
            num(r.mean_latency_ms, ".2f"),
            num(r.mean_confidence, ".3f"),
            str(r.feedback_count),
            num(r.feedback_agreement, ".1%"),
        )
    console.print(table)
