"""`machbot`: the one command-line entry point for people (run, publish, models, chat, train, ...).

User mistakes end in one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from machbot.console import UserError, console, err, fail
from machbot.feedback_cli import feedback_app
from machbot.models_cli import models_app
from machbot.paths import BUCKET, EMULATOR_DATA, WEBAPP
from machbot.stack import use_emulators

app = typer.Typer(help="machbot: an emotion-aware chatbot on Firebase.", no_args_is_help=True, add_completion=False)
app.add_typer(models_app, name="models")
app.add_typer(feedback_app, name="feedback")


def build_webapp() -> None:
    if not (WEBAPP / "package.json").is_file():
        return
    if not (WEBAPP / "node_modules").is_dir():
        raise UserError("webapp dependencies are missing: run scripts/setup.sh")
    with console.status("building the web app"):
        result = subprocess.run(["npm", "run", "build", "--silent"], cwd=WEBAPP, capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"web app build failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


@app.command()
def run(
    clean: Annotated[
        bool, typer.Option("--clean", help="Start empty: forget saved chats and published models.")
    ] = False,
    sweep_every: Annotated[float, typer.Option(help="Seconds between sweeps for stuck messages.")] = 30.0,
) -> None:
    """Run machbot locally: emulators, the function, the bucket with the default models, the web app."""
    from machbot.default_models import default_versions, ensemble_evaluation
    from machbot.stack import PORTS, EmulatorSuite, StackError, call_sweeper
    from machbot_fn import clients
    from machbot_fn.admin.publish import ensure_published

    if clean and EMULATOR_DATA.exists():
        shutil.rmtree(EMULATOR_DATA)
        console.print("starting clean: saved chats and models removed")
    try:
        build_webapp()
        with console.status("preparing the default models"):
            versions = default_versions()
        suite = EmulatorSuite()
        with console.status("starting the Firebase emulators (about 15 s)"):
            suite.start()
    except (UserError, StackError) as exc:
        fail(str(exc))

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # A shell starts background jobs with SIGINT ignored; Ctrl-C / kill -INT must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        use_emulators()
        with console.status("publishing the default models into the bucket"):
            actions = ensure_published(
                clients.bucket(BUCKET), clients.firestore_client(), list(versions.values()), ensemble_evaluation()
            )
        for line in actions:
            console.print(f"  {line}")
        untrained = [m for m, d in versions.items() if "tiny-models" in str(d)]
        if untrained:
            console.print(f"[yellow]untrained stand-ins serving for: {', '.join(untrained)}[/]")
        console.print(
            f"\n[bold green]machbot is running[/]\n"
            f"  web app    http://127.0.0.1:{PORTS['hosting']}\n"
            f"  firestore  127.0.0.1:{PORTS['firestore']}   auth 127.0.0.1:{PORTS['auth']}   "
            f"storage 127.0.0.1:{PORTS['storage']}   functions 127.0.0.1:{PORTS['functions']}\n"
            f"  terminal chat: .venv/bin/machbot chat      logs: {suite.log_path}\n"
            f"Press Ctrl-C to stop (chats and models are saved to {EMULATOR_DATA.name}/)."
        )
        while True:
            time.sleep(sweep_every)
            try:
                call_sweeper()
            except Exception as exc:
                err.print(f"sweeper: {exc}")
    except KeyboardInterrupt:
        console.print("\nstopping: saving data and shutting the emulators down")
    finally:
        suite.stop()
        console.print("stopped")


@app.command()
def publish(
    version_dir: Annotated[Path, typer.Argument(help="A version folder with manifest.json and its files.")],
    promote: Annotated[bool, typer.Option(help="Make it CURRENT after upload.")] = True,
) -> None:
    """Verify a model version locally, upload it into the bucket and (by default) serve it."""
    from machbot_fn import clients
    from machbot_fn.admin.publish import publish_version
    from machbot_fn.errors import MachbotError

    if not version_dir.is_dir():
        fail(f"{version_dir} is not a directory")
    use_emulators()
    try:
        done = publish_version(clients.bucket(), clients.firestore_client(), version_dir, promote=promote)
    except MachbotError as exc:
        fail(str(exc))
    state = "now serving" if done.promoted else "uploaded (not promoted)"
    console.print(f"{done.manifest.id} {done.manifest.version}: {state} ({len(done.uploaded)} files)")


def parse_repeats(values: list[str]) -> dict[str, int]:
    """`--repeat dailydialog=2 --repeat meld=2` as {"dailydialog": 2, "meld": 2}."""
    out = {}
    for value in values:
        name, _, times = value.partition("=")
        if not name or not times.isdigit():
            raise ValueError(f"--repeat expects CORPUS=N (e.g. dailydialog=2), got {value!r}")
        out[name.strip()] = int(times)
    return out


@app.command()
def train(
    model: Annotated[str, typer.Argument(help="bert, distilbert, roberta, electra, mobilebert or t5.")],
    base: Annotated[str, typer.Option(help="minilm (offline), random, a local directory or a Hub id.")] = "minilm",
    epochs: Annotated[int, typer.Option(min=1)] = 3,
    lr: Annotated[float, typer.Option(help="Peak learning rate (AdamW, linear decay).")] = 1e-4,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    teacher: Annotated[str | None, typer.Option(help="Distil from a trained classifier dir, or 'best'.")] = None,
    runs: Annotated[Path, typer.Option(help="Where runs (logs, checkpoints, best model) go.")] = Path("runs"),
    threads: Annotated[int, typer.Option(min=1)] = 2,
    pool: Annotated[
        Path | None, typer.Option(help="t5: the reply_pool.npz it learns to refine from (default: the shipped T5's).")
    ] = None,
    class_weight_power: Annotated[
        float, typer.Option(min=0.0, help="Classifiers: loss weight per label = (1/frequency)^power; 0 = plain.")
    ] = 0.5,
    repeat: Annotated[
        list[str] | None,
        typer.Option(help="Classifiers: show a corpus N times per epoch, as CORPUS=N (e.g. dailydialog=2)."),
    ] = None,
) -> None:
    """Fine-tune a classifier or the T5 replier (resumes from runs/<model>/checkpoint.pt)."""
    from machbot_train import defaults

    try:
        best = defaults.train(
            model,
            base=base,
            epochs=epochs,
            lr=lr,
            out_dir=runs,
            batch_size=batch_size,
            teacher=teacher,
            threads=threads,
            pool=pool,
            class_weight_power=class_weight_power,
            corpus_repeat=parse_repeats(repeat or []),
        )
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        fail(str(exc))
    console.print({k: v for k, v in best.items() if not isinstance(v, dict)})


@app.command()
def evaluate(
    version_dir: Annotated[
        Path | None, typer.Argument(help="An exported version directory (manifest.json inside).")
    ] = None,
    trained: Annotated[Path | None, typer.Option(help="The PyTorch model it came from, for fp32 vs int8.")] = None,
    ensemble: Annotated[
        bool, typer.Option("--ensemble", help="Evaluate the shipped classifiers voting together instead.")
    ] = False,
    shipped: Annotated[
        bool,
        typer.Option("--defaults", help="Evaluate every shipped default classifier and their ensemble again."),
    ] = False,
    replier: Annotated[
        bool,
        typer.Option(
            "--replier",
            help="Compare the human replies, the T5 (VERSION_DIR, default: the shipped one), the retrieval "
            "replier and the T5 refining it on held-out conversations: training/reports/replier.md.",
        ),
    ] = False,
    pool: Annotated[
        Path | None, typer.Option(help="--replier: the reply_pool.npz (default: the T5's own, else built now).")
    ] = None,
    embedder: Annotated[
        Path | None, typer.Option(help="--replier: the MiniLM version directory (default: exported once).")
    ] = None,
    before: Annotated[
        Path | None, typer.Option(help="--replier: an earlier T5 version directory to show beside it.")
    ] = None,
) -> None:
    """Evaluate an exported model: a classifier on the five test sets (tweets, GoEmotions, DailyDialog,
    EmpatheticDialogues, MELD; report in training/reports/chat.md), the replier on held-out dialogues."""
    from machbot_train import defaults

    if replier:
        _evaluate_replier(version_dir, pool, embedder, before)
        return
    if ensemble or shipped:
        try:
            results = defaults.reevaluate_defaults() if shipped else {"ensemble": defaults.evaluate_default_ensemble()}
        except (ValueError, FileNotFoundError) as exc:
            fail(str(exc))
        for model_id, result in results.items():
            chat = result.get("chat") or {}
            console.print(f"{model_id}: chat macro-F1 {chat.get('chat_macro_f1', float('nan')):.3f}")
        console.print("report: training/reports/chat.md")
        return
    if version_dir is None:
        fail("pass a version directory to evaluate, or --defaults, or --ensemble")
    if not (version_dir / "manifest.json").is_file():
        fail(f"{version_dir} has no manifest.json: pass an exported version directory")
    try:
        result = defaults.evaluate(version_dir, trained)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    console.print({k: v for k, v in result.items() if not isinstance(v, (dict, list))})
    if "chat" in result:
        sets = result["chat"]["sets"]
        console.print(
            {name: f"acc {e['int8']['accuracy']:.3f} macro-F1 {e['int8']['macro_f1']:.3f}" for name, e in sets.items()}
        )
        console.print(f"chat macro-F1 {result['chat']['chat_macro_f1']:.3f} · report: training/reports/chat.md")


def _require_versions(*given: tuple[str, Path | None]) -> None:
    """Every path given is a version directory (manifest.json inside), else one clear error."""
    for what, path in given:
        if path is not None and not (path / "manifest.json").is_file():
            fail(f"{what} {path} has no manifest.json: pass an exported version directory")


def _evaluate_replier(t5_dir: Path | None, pool: Path | None, embedder: Path | None, before: Path | None) -> None:
    from machbot_fn.errors import ModelUnavailable
    from machbot_train.evaluate_replies import evaluate_default_replies

    _require_versions(("VERSION_DIR", t5_dir), ("--embedder", embedder), ("--before", before))
    if pool is not None and not pool.is_file():
        fail(f"--pool {pool} does not exist")
    try:
        result = evaluate_default_replies(t5_dir, pool, embedder_dir=embedder, baseline_t5_dir=before)
    except (ValueError, FileNotFoundError, ModelUnavailable) as exc:
        fail(str(exc))
    for name, entry in result["sets"].items():
        for system, m in entry["systems"].items():
            console.print(
                f"{name} · {system}: distinct-2 {m['distinct_2']:.3f}, most common {100 * m['top1_share']:.1f} %, "
                f"ten most common {100 * m['top10_share']:.1f} %, opposite polarity {100 * m['conflict_vs_read']:.1f} %, "
                f"cosine to the message {m['cosine_message_reply']:.3f}"
            )
    console.print("report: training/reports/replier.md")


@app.command("build-pool")
def build_pool(
    t5_dir: Annotated[Path, typer.Argument(help="The T5 replier version directory the pool ships with.")],
    out: Annotated[
        Path, typer.Option(help="Registry root: the T5 with its pool is written as <out>/<id>/<version>/.")
    ] = Path("build/registry"),
    version: Annotated[str | None, typer.Option(help="Version name of the copy (default: YYYYMMDD-N).")] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Add the pool to T5_DIR itself (an unpublished version only).")
    ] = False,
    classifier: Annotated[
        Path | None, typer.Option(help="The classifier that reads the replies (default: the shipped best on chat).")
    ] = None,
    embedder: Annotated[
        Path | None, typer.Option(help="The MiniLM version directory (default: exported once into build/embedder).")
    ] = None,
    max_mb: Annotated[float, typer.Option(min=1, help="The largest pool file, in MB.")] = 20,
) -> None:
    """Build the reply pool from the training conversations and ship it in a T5 version (manifest: sha256)."""
    from machbot_fn.errors import ModelUnavailable
    from machbot_train.defaults import DEFAULT_ROOT, REPO, next_version
    from machbot_train.reply_pool import build_pool_version, default_embedder_dir, ranked_classifiers
    from machbot_train.version_dir import read_manifest

    _require_versions(("T5_DIR", t5_dir), ("--classifier", classifier), ("--embedder", embedder))
    try:
        built, stats = build_pool_version(
            t5_dir,
            None if in_place else out,
            classifier_dir=classifier or ranked_classifiers(DEFAULT_ROOT)[0],
            embedder_dir=embedder or default_embedder_dir(REPO / "build" / "embedder"),
            version=None if in_place else version or next_version(out, read_manifest(t5_dir).id),
            max_bytes=int(max_mb * 1e6),
        )
    except (ValueError, FileNotFoundError, ModelUnavailable, RuntimeError) as exc:
        fail(str(exc))
    console.print(f"{built}: reply_pool.npz, {stats.rows:,} replies, {stats.bytes / 1e6:.1f} MB")


@app.command()
def export(
    trained_dir: Annotated[Path, typer.Argument(help="A trained model directory, e.g. runs/bert/best.")],
    out: Annotated[Path, typer.Option(help="Registry root: <out>/<id>/<version>/ is written.")] = Path(
        "build/registry"
    ),
    model_id: Annotated[str | None, typer.Option("--id", help="Model id (default: the architecture).")] = None,
    version: Annotated[str | None, typer.Option(help="Version name (default: YYYYMMDD-N).")] = None,
) -> None:
    """Export to int8 ONNX + tokenizer.json + manifest.json, checked against the PyTorch model."""
    from machbot_train import defaults

    if not trained_dir.is_dir():
        fail(f"{trained_dir} is not a directory")
    try:
        path = defaults.export(trained_dir, out, model_id=model_id, version=version)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        fail(str(exc))
    console.print(f"exported {path}")


@app.command("import-tf")
def import_tf(
    source: Annotated[
        Path,
        typer.Argument(
            help="A Hugging Face TF checkpoint directory (tf_model.h5, config.json, tokenizer) or a Keras model "
            "file (.keras, .h5) with inputs input_ids and attention_mask."
        ),
    ],
    model_id: Annotated[str, typer.Option("--id", help="Model id in the registry, e.g. bert-tf.")],
    out: Annotated[Path, typer.Option(help="Registry root: <out>/<id>/<version>/ is written.")] = Path(
        "build/registry"
    ),
    version: Annotated[str | None, typer.Option(help="Version name (default: YYYYMMDD-N).")] = None,
    labels: Annotated[
        str | None,
        typer.Option(
            help="The six emotions in the order of the model's outputs, comma-separated (default: "
            "the checkpoint's id2label, else the emotion dataset's order)."
        ),
    ] = None,
    tokenizer: Annotated[
        Path | None,
        typer.Option(
            help="tokenizer.json or a tokenizer directory (needed for a Keras model; default: the checkpoint's)."
        ),
    ] = None,
    max_length: Annotated[int, typer.Option(help="Tokens the served model reads.")] = 128,
    data: Annotated[
        str | None, typer.Option(help="What the model was trained on, for the manifest's provenance.")
    ] = None,
    untrained: Annotated[
        bool, typer.Option("--untrained", help="Mark it untrained (e.g. a random test model).")
    ] = False,
) -> None:
    """Convert a TensorFlow/Keras emotion classifier into a registry version (int8 ONNX), checked against TensorFlow.

    Runs in the TensorFlow environment .venv-tf (install it with `make tf-setup`); from .venv it hands over to it.
    Publish the result like any other version: `machbot publish <out>/<id>/<version>`.
    """
    from machbot.tf_env import INSTALL_COMMAND, run_in_tf_env, tensorflow_here, tf_python
    from machbot_fn.models.manifest import MODEL_ID, VERSION
    from machbot_train.tf_source import KERAS_MODEL, SourceError, detect_kind, parse_labels

    try:
        kind = detect_kind(source)
        parsed_labels = parse_labels(labels)
    except SourceError as exc:
        fail(str(exc))
    if kind == KERAS_MODEL and tokenizer is None:
        fail("a Keras model needs --tokenizer: its tokenizer.json, or a Hugging Face tokenizer directory")
    if not MODEL_ID.match(model_id):
        fail(f"--id {model_id!r}: lower-case letters, digits and '-', starting with a letter (at most 32)")
    if version is not None and not VERSION.match(version):
        fail(f"--version {version!r}: letters, digits, '.', '_' and '-' (at most 64)")
    if tokenizer is not None and not tokenizer.exists():
        fail(f"--tokenizer {tokenizer} does not exist")
    if not tensorflow_here():
        python = tf_python()
        if python is None:
            fail(f"TensorFlow is not installed: run `{INSTALL_COMMAND}` (the TensorFlow environment .venv-tf)")
        args = ["import-tf", str(source.resolve()), "--id", model_id, "--out", str(out.resolve())]
        options = {"--version": version, "--labels": labels, "--data": data, "--max-length": str(max_length)}
        options["--tokenizer"] = str(tokenizer.resolve()) if tokenizer is not None else None
        args += [part for flag, value in options.items() if value is not None for part in (flag, value)]
        raise typer.Exit(run_in_tf_env(python, args + (["--untrained"] if untrained else [])))
    _import_tf_here(source, model_id, out, version, parsed_labels, tokenizer, max_length, data, not untrained)


def _import_tf_here(
    source: Path,
    model_id: str,
    out: Path,
    version: str | None,
    labels: tuple[str, ...] | None,
    tokenizer: Path | None,
    max_length: int,
    data: str | None,
    trained: bool,
) -> None:
    """import-tf inside the TensorFlow environment: convert, check, report the parity numbers."""
    from machbot_train.defaults import next_version
    from machbot_train.tf_import import UNKNOWN_DATA, import_tf_classifier
    from machbot_train.tf_parity import ParityError
    from machbot_train.tf_source import SourceError
    from machbot_train.version_dir import ExportError

    try:
        with console.status("importing") as status:
            result = import_tf_classifier(
                source,
                out,
                model_id,
                version or next_version(out, model_id),
                labels=labels,
                tokenizer=tokenizer,
                max_length=max_length,
                trained=trained,
                data=data or UNKNOWN_DATA,
                step=status.update if console.is_terminal else lambda message: console.print(f"  {message}"),
            )
    except (SourceError, ParityError, ExportError) as exc:
        fail(str(exc))
    src = result.source
    lines = [
        f"{src.kind} {source} -> {result.version_dir}",
        f"  labels   {', '.join(src.labels)} (from {src.labels_from})",
        f"  outputs  {src.outputs}",
        f"  parity   {result.parity.summary()}",
        f"next: .venv/bin/machbot publish {result.version_dir}",
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


@app.command()
def rebuild(
    models: Annotated[str, typer.Option(help="'all' or a comma-separated subset.")] = "all",
    train_missing: Annotated[bool, typer.Option(help="Train models that have no finished run.")] = True,
    runs: Annotated[Path | None, typer.Option(help="Where the runs are (default: runs/ in the checkout).")] = None,
    pool: Annotated[
        Path | None,
        typer.Option(help="t5: ship this reply_pool.npz (e.g. the installed one's) instead of building it again."),
    ] = None,
) -> None:
    """Rebuild the shipped default models end to end: train (resuming), export, evaluate, install."""
    from machbot_train import defaults

    if pool is not None and not pool.is_file():
        fail(f"--pool {pool} does not exist")
    try:
        built = defaults.rebuild_all(
            models=models, train_missing=train_missing, runs_dir=runs or defaults.RUNS, pool=pool
        )
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        fail(str(exc))
    for model_id, path in built.items():
        console.print(f"{model_id:11} {path}")


@app.command("load")
def load_cmd(
    messages: Annotated[int, typer.Option(help="Messages to send in all.")] = 1000,
    users: Annotated[int, typer.Option(help="Simulated users chatting at once (each its own account).")] = 50,
    model: Annotated[str, typer.Option(help="The classifier every message asks for.")] = "bert",
    drain: Annotated[float, typer.Option(help="Seconds to wait for the last answers after the last write.")] = 600.0,
    out: Annotated[Path, typer.Option(help="Where to write the JSON result (and .md beside it).")] = Path(
        "bench-results/load.json"
    ),
) -> None:
    """Load through the running emulators (start `machbot run` first): lost, stuck, duplicated, latency."""
    from machbot.load import LoadError, run_load

    use_emulators()
    try:
        report = run_load(messages=messages, users=users, model=model, drain_seconds=drain, out=out)
    except LoadError as exc:
        fail(str(exc))
    console.print(report.markdown(), highlight=False, soft_wrap=True)
    console.print(f"written to {out} and {out.with_suffix('.md')}")


@app.command("latency")
def latency_cmd(
    model: Annotated[str, typer.Option(help="The classifier to ask.")] = "bert",
    messages: Annotated[int, typer.Option(help="Warm messages after the first (cold) one.")] = 50,
    out: Annotated[Path, typer.Option(help="Where to write the JSON result.")] = Path("bench-results/latency.json"),
) -> None:
    """Write->reply latency through the running emulators (start `machbot run` first)."""
    from dataclasses import asdict

    from machbot.latency import measure

    use_emulators()
    try:
        report = measure(model=model, warm=messages, out=out)
    except Exception as exc:
        fail(f"could not measure (is `machbot run` up?): {exc}")
    for key, value in asdict(report).items():
        console.print(f"{key:28} {value}")
    console.print(f"written to {out}")


@app.command()
def bench(
    models_dir: Annotated[
        Path | None, typer.Option(help="A folder of <id>/<version>/ models (default: the default versions).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write results.json, report.md and the plots.")] = Path(
        "bench-results"
    ),
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run: few messages, a minute or two.")] = False,
    skip_e2e: Annotated[bool, typer.Option("--skip-e2e", help="No emulators: skip write->reply timing.")] = False,
) -> None:
    """Benchmark serving against its baselines, side by side in one run (ratios), and write a report."""
    from machbot.bench.common import BenchError
    from machbot.bench.runner import run_bench

    try:
        run_bench(models_dir, out, quick=quick, with_e2e=not skip_e2e, console=console)
    except BenchError as exc:
        fail(str(exc))


@app.command("bench-similar")
def bench_similar(
    embedder: Annotated[
        Path | None, typer.Option(help="An embedder version folder (default: MiniLM, exported if needed).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write similar.json and similar.md.")] = Path("bench-results"),
    quick: Annotated[bool, typer.Option("--quick", help="A smoke run: few messages and queries.")] = False,
) -> None:
    """Benchmark "Others felt this too": embedding per message, matching at 1k/10k/100k pooled thoughts."""
    from machbot.bench.common import BenchError
    from machbot.bench.similar import run_similar_bench

    try:
        run_similar_bench(embedder, out, quick=quick, console=console)
    except BenchError as exc:
        fail(str(exc))


@app.command()
def sweep(grace: Annotated[float, typer.Option(help="Only messages older than this many seconds.")] = 60.0) -> None:
    """Re-drive stuck messages now (the emulators run no schedules)."""
    from machbot.stack import call_sweeper

    try:
        console.print(call_sweeper(grace))
    except Exception as exc:
        fail(f"the sweeper could not be reached (is `machbot run` up?): {exc}")


@app.command()
def chat(
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Emotion model id from the catalog (default: the best on chat-like text)."),
    ] = None,
    conversation: Annotated[
        str | None, typer.Option(help="Conversation id to continue (default: a new one for this session).")
    ] = None,
    project: Annotated[
        str | None, typer.Option(envvar="MACHBOT_PROJECT", help="Firebase project id (default: the emulators').")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(envvar="MACHBOT_API_KEY", help="Web API key of a real project; without it, the local emulators."),
    ] = None,
    email: Annotated[
        str | None, typer.Option(envvar="MACHBOT_EMAIL", help="Sign in with email/password (default: anonymous).")
    ] = None,
    password: Annotated[str | None, typer.Option(envvar="MACHBOT_PASSWORD", help="Password for --email.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 120.0,
) -> None:
    """Chat in the terminal, writing to Firestore exactly like a mobile client (rules apply).

    Locally (with `machbot run` up) it signs in anonymously in the Auth emulator. For a deployed project pass --project and --api-key, plus --email for an email/password account (the password is asked for when not given).

    In the chat: /models lists the catalog, /model ID switches, /new starts a new conversation, /quit or Ctrl-D leaves.
    """
    from machbot.chat import ChatError, connect, run_chat

    if email and not password and sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True)
    try:
        session = connect(project if api_key else None, api_key, email, password)
        run_chat(console, session, model, conversation, timeout)
    except ChatError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        console.print("\nbye")


def main() -> None:
    try:
        app()
    except UserError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
