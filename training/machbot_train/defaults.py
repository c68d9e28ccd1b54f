"""Entry points for `machbot train | evaluate | export` and the rebuild of the six default models.

Every function takes plain, typer-friendly arguments (str, int, float, bool, Path) and returns
what it produced. `rebuild_all()` trains what is missing (resuming interrupted runs), exports,
evaluates and installs each default model as `models/defaults/<id>/<version>/` with `CURRENT`.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from machbot_fn.labels import CLASSIFIER_IDS, ENSEMBLE_ID, REPLIER_ID
from machbot_train.locations import BUILD, DEFAULT_ROOT, REPO, RUNS
from machbot_train.version_dir import MANIFEST, current_version, read_manifest, set_current, update_metrics

MAPPED = ("bert", "distilbert", "electra", "roberta")
MAX_MODEL_BYTES = 30 * 1024 * 1024


@dataclass(frozen=True)
class Recipe:
    """How a default classifier is trained (classifier.TrainConfig fields)."""

    arch: str
    base: str = "minilm"
    epochs: int = 3
    lr: float = 1e-4
    teacher: str | None = None  # "best": the best finished mapped classifier in the runs directory
    extra: dict[str, Any] = field(default_factory=dict)


RECIPES: dict[str, Recipe] = {
    # The multi-domain mix (emotion_mix, 45k texts): two epochs; the first release's 3 epochs on 16k
    # tweets fitted their hashtag style.
    **{arch: Recipe(arch, epochs=2) for arch in MAPPED},
    # Random init, so a higher learning rate, more epochs, and distillation from the best MiniLM model.
    "mobilebert": Recipe(
        "mobilebert",
        base="random",
        epochs=3,
        lr=5e-4,
        teacher="best",
        extra={"embedding_init": "minilm-pca", "distill_alpha": 0.3, "distill_temperature": 2.0, "threads": 1},
    ),
}


class RebuildError(RuntimeError):
    """A default model could not be rebuilt (missing run, failed check, size over budget)."""


def run_finished(run_dir: Path) -> bool:
    """True when the run's log records a completed training (every configured epoch done)."""
    log = Path(run_dir) / "train.log"
    return log.is_file() and any(" done: best " in line for line in log.read_text(encoding="utf-8").splitlines()[-3:])


def best_teacher(runs_dir: Path = RUNS, candidates: tuple[str, ...] = MAPPED) -> Path:
    """The distillation teacher: the classifier with the highest validation macro-F1 among finished
    runs, or, when no run has finished, among the saved best models of interrupted ones."""
    scored = []
    for arch in candidates:
        best = Path(runs_dir) / arch / "best"
        if (best / "training.json").is_file():
            val = json.loads((best / "training.json").read_text())["val"]
            scored.append((run_finished(Path(runs_dir) / arch), val["macro_f1"], arch, best))
    if not scored:
        raise RebuildError(f"no trained classifier under {runs_dir} to distil from (train bert first)")
    return max(scored)[3]


def train(
    arch: str,
    base: str = "minilm",
    epochs: int = 3,
    lr: float = 1e-4,
    out_dir: Path = RUNS,
    batch_size: int = 32,
    teacher: str | None = None,
    threads: int = 2,
    limit: int | None = None,
    embedding_init: str | None = None,
    distill_alpha: float = 0.5,
    distill_temperature: float = 2.0,
    seed: int = 13,
    pool: Path | None = None,
    class_weight_power: float = 0.5,
    corpus_repeat: dict[str, int] | None = None,
) -> dict:
    """Train (or resume) a classifier (`arch` in bert/distilbert/roberta/electra/mobilebert) or the replier
    (`arch` = t5) into out_dir/<arch>/; returns the best validation metrics. `teacher` = a trained
    classifier directory or "best"; `base` = minilm, random, a local directory or a Hub id; `pool` = the
    reply_pool.npz the T5 retrieves from while it learns (default: the shipped T5's); `class_weight_power`
    (0 = plain cross-entropy, 1 = inverse frequency) and `corpus_repeat` ({"dailydialog": 2}) weigh the
    classifiers' training mix."""
    if arch == REPLIER_ID:
        from machbot_train.replier_train import REFINE_SOURCE_MAX_LENGTH, ReplierConfig, train_replier
        from machbot_train.reply_pool import POOL_FILE, default_embedder_dir

        return train_replier(
            ReplierConfig(
                out_dir=Path(out_dir),
                epochs=epochs,
                lr=lr,
                batch_size=batch_size,
                threads=threads,
                limit=limit,
                seed=seed,
                refine=True,
                pool=Path(pool) if pool else current_version(DEFAULT_ROOT, REPLIER_ID) / POOL_FILE,
                embedder_dir=default_embedder_dir(BUILD),
                source_max_length=REFINE_SOURCE_MAX_LENGTH,
            )
        )
    if arch not in CLASSIFIER_IDS:
        raise ValueError(f"unknown model {arch!r}; expected one of {', '.join((*CLASSIFIER_IDS, REPLIER_ID))}")
    from machbot_train.classifier import TrainConfig
    from machbot_train.classifier import train as train_classifier

    teacher_dir = best_teacher(Path(out_dir)) if teacher == "best" else (Path(teacher) if teacher else None)
    return train_classifier(
        TrainConfig(
            arch=arch,
            base=base,
            out_dir=Path(out_dir),
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            threads=threads,
            limit=limit,
            teacher=teacher_dir,
            embedding_init=embedding_init,
            distill_alpha=distill_alpha,
            distill_temperature=distill_temperature,
            seed=seed,
            class_weight_power=class_weight_power,
            corpus_repeat=dict(corpus_repeat or {}),
        )
    )


def evaluate(model_dir: Path, trained_dir: Path | None = None, report_dir: Path | None = None) -> dict:
    """Evaluate an exported version directory (classifier on the test split, or the replier on held-out
    dialogues), write its report under training/reports/, and return the metrics."""
    from machbot_train.evaluate import REPORT_DIR, evaluate_classifier, evaluate_replier, write_classifier_report
    from machbot_train.evaluate_chat import evaluate_suite, write_chat_report

    manifest = read_manifest(Path(model_dir))
    reports = Path(report_dir) if report_dir else REPORT_DIR
    if manifest.is_classifier:
        result = evaluate_classifier(Path(model_dir), trained_dir, report_dir=reports)
        write_classifier_report(reports, (*CLASSIFIER_IDS, ENSEMBLE_ID))
        result["chat"] = evaluate_suite(Path(model_dir), trained_dir, report_dir=reports)
        write_chat_report(reports)
        return result
    return evaluate_replier(Path(model_dir), trained_dir, report_dir=reports)


def export(
    trained_dir: Path,
    out_dir: Path = DEFAULT_ROOT,
    model_id: str | None = None,
    version: str | None = None,
    per_channel: bool = True,
    current: bool = False,
) -> Path:
    """Export a trained model directory (runs/<arch>/best) to out_dir/<id>/<version>/ as int8 ONNX +
    tokenizer + manifest; the id defaults to the model's architecture, the version to today's next one."""
    from machbot_train.export import ExportOptions, export_classifier, export_replier

    trained_dir = Path(trained_dir)
    config = json.loads((trained_dir / "config.json").read_text()) if (trained_dir / "config.json").is_file() else {}
    model_id = model_id or config.get("model_type")
    if not model_id:
        raise ValueError(f"{trained_dir} has no config.json; pass model_id explicitly")
    version = version or next_version(Path(out_dir), model_id)
    options = ExportOptions(per_channel=per_channel, current=current)
    if config.get("model_type") == "t5":
        return export_replier(trained_dir, Path(out_dir), version, model_id, options)
    return export_classifier(trained_dir, Path(out_dir), model_id, version, options)


def next_version(root: Path, model_id: str) -> str:
    """`YYYYMMDD-N`: today's date and the first unused counter under root/<id>/."""
    day = time.strftime("%Y%m%d", time.gmtime())
    n = 1
    while (Path(root) / model_id / f"{day}-{n}").exists():
        n += 1
    return f"{day}-{n}"


def _install(version_dir: Path, root: Path, prune: bool) -> Path:
    """Copy a checked version into root/<id>/<version>/, point CURRENT at it, drop older versions if asked."""
    manifest = read_manifest(version_dir)
    too_big = [n for n, e in manifest.files.items() if e.size > MAX_MODEL_BYTES]
    if too_big:
        raise RebuildError(f"{manifest.id}: {', '.join(too_big)} over the {MAX_MODEL_BYTES >> 20} MB budget")
    target = Path(root) / manifest.id / manifest.version
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(version_dir, target)
    set_current(root, manifest.id, manifest.version)
    if prune:
        for old in (Path(root) / manifest.id).iterdir():
            if old.is_dir() and old.name != manifest.version and (old / MANIFEST).is_file():
                shutil.rmtree(old)
    return target


def rebuild_classifier(
    model_id: str,
    root: Path = DEFAULT_ROOT,
    runs_dir: Path = RUNS,
    version: str | None = None,
    train_missing: bool = True,
    prune: bool = True,
    report_dir: Path | None = None,
) -> Path:
    """Train (resuming) if needed, export, evaluate fp32 vs int8, write metrics, install one default classifier.

    With `train_missing=False` the run's saved best model is exported as it is, finished or not; the
    manifest's provenance records the epochs completed and planned."""
    from machbot_train.calibration import calibrate_version
    from machbot_train.evaluate import REPORT_DIR, evaluate_classifier, manifest_metrics, write_classifier_report
    from machbot_train.evaluate_chat import evaluate_suite, manifest_chat_metrics, write_chat_report
    from machbot_train.export import ExportOptions, export_classifier

    recipe = RECIPES[model_id]
    run_dir = Path(runs_dir) / recipe.arch
    if train_missing and not run_finished(run_dir):
        train(
            recipe.arch,
            base=recipe.base,
            epochs=recipe.epochs,
            lr=recipe.lr,
            out_dir=Path(runs_dir),
            teacher=recipe.teacher,
            **recipe.extra,
        )
    if not (run_dir / "best" / "config.json").is_file():
        raise RebuildError(f"{run_dir / 'best'} does not exist; run `machbot train {recipe.arch}` first")
    version = version or next_version(Path(root), model_id)
    built = export_classifier(run_dir / "best", BUILD, model_id, version, ExportOptions(overwrite=True))
    calibrate_version(built)  # on the validation splits, before any test figure is computed
    reports = Path(report_dir) if report_dir else REPORT_DIR
    result = evaluate_classifier(built, run_dir / "best", report_dir=reports)
    chat = evaluate_suite(built, run_dir / "best", report_dir=reports)
    update_metrics(built, {**manifest_metrics(result), **manifest_chat_metrics(chat)})
    write_classifier_report(reports, (*CLASSIFIER_IDS, ENSEMBLE_ID))
    write_chat_report(reports)
    return _install(built, root, prune)


def rebuild_replier(
    root: Path = DEFAULT_ROOT,
    runs_dir: Path = RUNS,
    version: str | None = None,
    train_missing: bool = True,
    prune: bool = True,
    epochs: int = 3,  # one epoch left the refiner ignoring the retrieved reply (val perplexity 130; 3: 97)
    report_dir: Path | None = None,
    embedder_dir: Path | None = None,
    pool: Path | None = None,
) -> Path:
    """Train (resuming) if needed, export, evaluate and install the default T5 replier with its reply pool
    (built from the training conversations with the served MiniLM, `embedder_dir` by default exported
    into build/embedder, and the installed classifier best on chat-like text). `pool`: ship this
    reply_pool.npz instead (e.g. the installed version's, when nothing it is built from changed: the
    same bytes, so the repository does not grow by another copy)."""
    from machbot_fn.models.reply_pool import POOL_FILE
    from machbot_train.evaluate import REPORT_DIR, evaluate_replier
    from machbot_train.export import ExportOptions, export_replier
    from machbot_train.reply_pool import (
        add_pool_to_version,
        build_pool_version,
        default_embedder_dir,
        pool_provenance,
        ranked_classifiers,
    )

    run_dir = Path(runs_dir) / REPLIER_ID
    if train_missing and not run_finished(run_dir):
        train(REPLIER_ID, epochs=epochs, lr=7e-4, out_dir=Path(runs_dir), threads=1)
    if not (run_dir / "best" / "config.json").is_file():
        raise RebuildError(f"{run_dir / 'best'} does not exist; run `machbot train t5` first")
    version = version or next_version(Path(root), REPLIER_ID)
    built = export_replier(run_dir / "best", BUILD, version, options=ExportOptions(overwrite=True))
    # The pool first: a refining T5 is evaluated on the replies its own pool retrieves.
    if pool is not None:
        add_pool_to_version(built, Path(pool), {**pool_provenance(Path(pool)), "file": POOL_FILE})
    else:
        build_pool_version(
            built,
            None,
            classifier_dir=ranked_classifiers(Path(root))[0],
            embedder_dir=embedder_dir or default_embedder_dir(REPO / "build" / "embedder"),
        )
    result = evaluate_replier(built, run_dir / "best", report_dir=Path(report_dir) if report_dir else REPORT_DIR)
    keys = ("val_loss", "val_perplexity", "distinct_1", "distinct_2")
    metrics = {k: round(float(result[k]), 4) for k in keys if k in result}
    metrics["latency_ms"] = round(result["latency_ms"]["p50"], 1)
    update_metrics(built, metrics)
    return _install(built, root, prune)


def rebuild_all(
    root: Path = DEFAULT_ROOT,
    runs_dir: Path = RUNS,
    version: str | None = None,
    models: str = "all",
    train_missing: bool = True,
    prune: bool = True,
    report_dir: Path | None = None,
    embedder_dir: Path | None = None,
    pool: Path | None = None,
) -> dict[str, Path]:
    """Rebuild the six default models (or a comma-separated subset): train what is missing (resuming),
    export, evaluate, install into root/<id>/<version>/ with CURRENT. MobileBERT is rebuilt after the
    MiniLM classifiers because it distils from the best of them."""
    wanted = list((*CLASSIFIER_IDS, REPLIER_ID)) if models == "all" else [m.strip() for m in models.split(",")]
    unknown = set(wanted) - {*CLASSIFIER_IDS, REPLIER_ID}
    if unknown:
        raise ValueError(f"unknown model(s) {sorted(unknown)}; expected {', '.join((*CLASSIFIER_IDS, REPLIER_ID))}")
    ordered = [m for m in (*MAPPED, "mobilebert", REPLIER_ID) if m in wanted]
    out: dict[str, Path] = {}
    for model_id in ordered:
        if model_id == REPLIER_ID:
            out[model_id] = rebuild_replier(
                root,
                runs_dir,
                version,
                train_missing,
                prune,
                report_dir=report_dir,
                embedder_dir=embedder_dir,
                pool=pool,
            )
        else:
            out[model_id] = rebuild_classifier(
                model_id, root, runs_dir, version, train_missing, prune, report_dir=report_dir
            )
    if any(m in CLASSIFIER_IDS for m in ordered):
        evaluate_default_ensemble(root, report_dir)  # its members changed: measure the vote again
    return out


def build_placeholders(root: Path, version: str = "tiny-1", current: bool = True) -> dict[str, Path]:
    """Tiny untrained stand-ins for all six models (seconds), for tests and a stack without trained models."""
    from machbot_train.export import build_tiny_classifier, build_tiny_replier

    out = {mid: build_tiny_classifier(Path(root), mid, mid, version, current=current) for mid in CLASSIFIER_IDS}
    out[REPLIER_ID] = build_tiny_replier(Path(root), version, current=current)
    return out


def reevaluate_defaults(root: Path = DEFAULT_ROOT, report_dir: Path | None = None) -> dict[str, dict]:
    """Evaluate every installed default classifier again (e.g. on a quiet machine, for comparable
    latencies), refresh the metrics in their manifests and the report; the model files do not change."""
    from machbot_train.evaluate import REPORT_DIR, evaluate_classifier, manifest_metrics, write_classifier_report
    from machbot_train.evaluate_chat import evaluate_suite, manifest_chat_metrics, write_chat_report

    reports = Path(report_dir) if report_dir else REPORT_DIR
    results = {}
    for model_id in CLASSIFIER_IDS:
        current = Path(root) / model_id / "CURRENT"
        if not current.is_file():
            continue
        version_dir = Path(root) / model_id / current.read_text().strip()
        results[model_id] = evaluate_classifier(version_dir, report_dir=reports)
        chat = evaluate_suite(version_dir, report_dir=reports)
        update_metrics(version_dir, {**manifest_metrics(results[model_id]), **manifest_chat_metrics(chat)})
        results[model_id]["chat"] = chat
        write_chat_report(reports)
    if len(results) >= 2:
        results[ENSEMBLE_ID] = evaluate_default_ensemble(root, reports)
    write_classifier_report(reports, (*CLASSIFIER_IDS, ENSEMBLE_ID))
    return results


def evaluate_default_ensemble(root: Path = DEFAULT_ROOT, report_dir: Path | None = None) -> dict:
    """Evaluate the installed default classifiers voting together; save it for the catalog and the report."""
    from machbot_train.evaluate import REPORT_DIR, write_classifier_report
    from machbot_train.evaluate_chat import evaluate_ensemble_suite, manifest_chat_metrics, write_chat_report
    from machbot_train.evaluate_ensemble import evaluate_ensemble, save_for_catalog

    reports = Path(report_dir) if report_dir else REPORT_DIR
    members = []
    for model_id in CLASSIFIER_IDS:
        current = Path(root) / model_id / "CURRENT"
        if current.is_file():
            members.append(Path(root) / model_id / current.read_text().strip())
    result = evaluate_ensemble(members, report_dir=reports)
    chat = evaluate_ensemble_suite(members, report_dir=reports)
    save_for_catalog(result, root, manifest_chat_metrics(chat))
    write_classifier_report(reports, (*CLASSIFIER_IDS, ENSEMBLE_ID))
    write_chat_report(reports)
    result["chat"] = chat
    return result


def ensemble_summary(result: dict) -> dict:
    from machbot_train.evaluate_ensemble import catalog_metrics

    return catalog_metrics(result)
