"""`machbot feedback ...`: users' "wrong emotion" reports as a dataset, and retraining from them."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from machbot.console import console, fail
from machbot.stack import use_emulators

feedback_app = typer.Typer(
    help="Users' misclassification reports: export them, retrain from them.", no_args_is_help=True
)


@feedback_app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="Where to write the JSON lines.")] = Path("feedback.jsonl"),
    model: Annotated[str | None, typer.Option(help="Only reports on messages this model id classified.")] = None,
) -> None:
    """Write every report as {text, label, predicted, model, version, reportedAt}: no user ids."""
    from machbot_fn import clients
    from machbot_fn.admin.feedback import reports

    use_emulators()
    rows = [r.export_row() for r in reports(clients.firestore_client(), model)]
    if not rows:
        fail(f"no reports{' on ' + model if model else ''} to export yet", code=1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    labels = Counter(row["label"] for row in rows)
    console.print(f"{len(rows)} reports -> {out} ({', '.join(f'{k} {v}' for k, v in labels.most_common())})")


@feedback_app.command("retrain")
def retrain_cmd(
    model_id: Annotated[str, typer.Argument(help="The classifier to improve, e.g. bert.")],
    feedback: Annotated[Path, typer.Option(help="Reports from `machbot feedback export`.")] = Path("feedback.jsonl"),
    checkpoint: Annotated[
        Path | None, typer.Option(help="The PyTorch model behind the current version (default: its manifest's).")
    ] = None,
    out_dir: Annotated[Path, typer.Option(help="Where the candidate version is written.")] = Path("runs/candidates"),
    version: Annotated[str, typer.Option(help="The candidate's version name (default: derived).")] = "",
    epochs: int = 1,
    lr: float = 2e-5,
    replay: Annotated[int, typer.Option(help="Training-split examples mixed in, against forgetting.")] = 2000,
    feedback_weight: Annotated[int, typer.Option(help="Times each report is seen per epoch.")] = 4,
    tolerance: Annotated[
        float, typer.Option(help="Test accuracy the candidate may lose (0.005 = half a point).")
    ] = 0.0,
    test_limit: Annotated[int | None, typer.Option(help="Evaluate on the first N test examples only.")] = None,
    publish: Annotated[bool, typer.Option(help="Upload an accepted candidate (never promoted).")] = True,
) -> None:
    """Fine-tune the current model with the reports, compare it with the current version on the test
    split and the reports, and publish it as a candidate only if it is not worse."""
    from machbot_fn import clients
    from machbot_fn.admin.publish import publish_version
    from machbot_fn.errors import MachbotError
    from machbot_fn.models import catalog
    from machbot_fn.models.registry import ModelRegistry, read_current
    from machbot_train.evaluate import source_dir
    from machbot_train.retrain import RetrainConfig, RetrainError, report, retrain

    use_emulators()
    bucket, db = clients.bucket(), clients.firestore_client()
    current = read_current(bucket, model_id)
    if current is None:
        fail(f"{model_id} has no CURRENT version in the bucket")
    with tempfile.TemporaryDirectory(prefix="machbot-retrain-") as cache:
        try:
            served = ModelRegistry(bucket, Path(cache)).verify(model_id, current)
        except MachbotError as exc:
            fail(f"the current version cannot be loaded: {exc}")
        source = checkpoint or source_dir(served.manifest, None)
        if source is None:
            fail(f"{model_id} {current} records no PyTorch weights here: pass --checkpoint <trained model dir>")
        cfg = RetrainConfig(
            model_id=model_id,
            feedback=feedback,
            checkpoint=source,
            out_dir=out_dir,
            version=version,
            epochs=epochs,
            lr=lr,
            replay=replay,
            feedback_weight=feedback_weight,
            tolerance=tolerance,
            test_limit=test_limit,
        )
        try:
            candidate_dir, verdict = retrain(cfg, Path(cache) / model_id / current, served.manifest)
        except (RetrainError, OSError) as exc:
            fail(str(exc))
    summary = candidate_dir.parent / f"{candidate_dir.name}.retrain.json"
    summary.write_text(json.dumps(report(verdict, candidate_dir), indent=2) + "\n")
    if not verdict.accepted:
        fail(f"candidate {candidate_dir.name} not published: {verdict.reason} (details: {summary})", code=1)
    if not publish:
        console.print(f"candidate {candidate_dir} accepted ({verdict.reason}); not uploaded (--no-publish)")
        return
    try:
        done = publish_version(bucket, db, candidate_dir, promote=False)
    except MachbotError as exc:
        fail(str(exc))
    catalog.record_candidate(db, done.manifest, f"retrained from user reports: {verdict.reason}")
    console.print(
        f"{model_id} {done.manifest.version}: published as a candidate ({verdict.reason}).\n"
        f"Next: machbot models shadow {model_id} {done.manifest.version}   "
        f"or   machbot models canary {model_id} {done.manifest.version} --percent 10"
    )
