"""`machbot bench`: every measurement in one run, on the same messages, then the report.

Order: classifier latency, reply latency, memory and models resident (a child process), cost by
length; then, with the emulators (unless skipped), cold start against the Storage emulator and
write -> reply latency; without them, cold start against a local directory bucket.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from machbot.bench import classifiers, cold_start, e2e, length, memory, replies, report
from machbot.bench.common import BenchError, Context, load_messages
from machbot.bench.targets import targets
from machbot.paths import BUCKET, ROOT, TOOLING

E2E_SERVICES = ("auth", "firestore", "storage", "functions")


def resolve_versions(models_dir: Path | None) -> dict[str, Path]:
    """model id -> version directory: the default versions, or `<models_dir>/<id>/<CURRENT or latest>`."""
    from machbot.default_models import DEFAULT_IDS, default_versions, shipped_version

    if models_dir is None:
        return default_versions()
    if not Path(models_dir).is_dir():
        raise BenchError(f"{models_dir} is not a directory")
    shipped = {m: shipped_version(m, Path(models_dir)) for m in DEFAULT_IDS}
    found = {m: d for m, d in shipped.items() if d is not None}
    if not found:
        raise BenchError(f"no model versions under {models_dir} (expected <id>/<version>/manifest.json)")
    return found


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "gpu": "none",
        "python": platform.python_version(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }


def start_suite(say: Callable[[str], None], cache: Path, wait_s: float) -> tuple[Any, float]:
    """An emulator suite of our own, waiting (never killing) while another one holds the machine's lock.

    Returns the running suite and the seconds spent waiting for the other one."""
    from machbot.stack import EmulatorSuite, StackError

    t0 = time.monotonic()
    deadline = t0 + wait_s
    announced, waited = False, 0.0
    while True:
        suite = EmulatorSuite(
            only=E2E_SERVICES,
            persist=False,
            log_path=TOOLING / "bench-emulators.log",
            extra_env={"MACHBOT_CACHE_DIR": str(cache), "MACHBOT_ONNX_THREADS": "1"},
        )
        try:
            suite.start()
            return suite, round(waited, 1)
        except StackError as exc:
            lock = getattr(suite, "_lock_file", None)
            if lock is not None:
                lock.close()  # releases the lock if we got it (the ports were busy instead)
            busy = "another machbot emulator suite" in str(exc) or "ports already in use" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
            if not announced:
                say(f"waiting for the emulators: {exc}")
                announced = True
            time.sleep(10.0)
            waited = time.monotonic() - t0


def run_bench(
    models_dir: Path | None,
    out: Path,
    *,
    quick: bool = False,
    with_e2e: bool = True,
    cache_dir: Path | None = None,
    console: Any = None,
    lock_wait_s: float = 1800.0,
) -> dict[str, Any]:
    from machbot_fn.admin.publish import read_local_version

    say = console.print if console is not None else (lambda *a, **k: None)
    t_start = time.monotonic()
    versions = resolve_versions(models_dir)
    manifests = {m: read_local_version(d) for m, d in versions.items()}
    ctx = Context(
        versions=versions,
        manifests=manifests,
        messages=load_messages(40 if quick else 200),
        quick=quick,
        cache_dir=Path(cache_dir or ROOT / "build" / "bench-cache"),
    )
    results: dict[str, Any] = {
        "meta": {
            "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "quick": quick,
            "machine": machine(),
            "messages": ctx.messages.source,
            "models": {
                m: {
                    "version": mf.version,
                    "trained": mf.trained,
                    "arch": mf.arch,
                    "dir": str(versions[m].relative_to(ROOT) if versions[m].is_relative_to(ROOT) else versions[m]),
                    "metrics": {k: v for k, v in mf.metrics.items() if not isinstance(v, dict | list)},
                }
                for m, mf in manifests.items()
            },
            "notes": ctx.notes,
            "step_seconds": {},
        }
    }
    untrained = [m for m, mf in manifests.items() if not mf.trained]
    if untrained:
        ctx.notes.append(
            f"untrained placeholders (tiny, 2 layers x 32): {', '.join(untrained)}; their latencies say nothing "
            "about the trained models"
        )

    def step(key: str, label: str, call: Callable[[], dict[str, Any]]) -> None:
        t0 = time.monotonic()
        status = console.status(label) if console is not None else None
        if status:
            status.start()
        try:
            results[key] = call()
        except Exception as exc:  # one failed measurement must not lose the others
            results[key] = {"error": f"{type(exc).__name__}: {exc}"}
            say(f"[red]{label} failed:[/] {exc}")
        finally:
            if status:
                status.stop()
        results["meta"]["step_seconds"][key] = round(time.monotonic() - t0, 1)
        say(f"  {label}: {results['meta']['step_seconds'][key]:.0f} s")

    step(
        "classifier_latency", "1. classifier latency: int8 vs fp32 ONNX vs PyTorch eager", lambda: classifiers.run(ctx)
    )
    step("reply_latency", "2. reply latency: ONNX greedy loops vs generate()", lambda: replies.run(ctx))
    step("memory", "4/6b. memory with the models resident (child process)", lambda: memory.run(ctx))
    step("length", "6a. cost by message length", lambda: length.run(ctx))
    if with_e2e:
        _emulator_steps(ctx, results, step, say, lock_wait_s)
    else:
        results["e2e"] = {"skipped": "--skip-e2e"}
    if "cold_start" not in results:
        with tempfile.TemporaryDirectory(prefix="machbot-bench-bucket-") as tmp:
            bucket = cold_start.DirBucket(Path(tmp))
            cold_start.publish_all(bucket, ctx)
            step(
                "cold_start",
                "3. cold start (local directory bucket)",
                lambda: cold_start.run(ctx, bucket, "local directory"),
            )
    results["meta"]["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    results["meta"]["duration_s"] = round(
        time.monotonic() - t_start - results["meta"].get("waited_for_other_suite_s", 0), 1
    )
    results["targets"] = targets(results)
    written = report.write(results, Path(out))
    if console is not None:
        report.print_summary(console, results)
        say(f"written: {', '.join(str(p) for p in written)}")
    return results


def _emulator_steps(ctx: Context, results: dict[str, Any], step: Callable, say: Callable, wait_s: float) -> None:
    from machbot.stack import StackError, client_env

    cache = Path(tempfile.mkdtemp(prefix="machbot-bench-fn-cache-"))
    try:
        t0 = time.monotonic()
        suite, waited = start_suite(say, cache, wait_s)
    except StackError as exc:
        shutil.rmtree(cache, ignore_errors=True)
        ctx.notes.append(f"end-to-end skipped: the emulators could not start ({exc})")
        results["e2e"] = {"skipped": f"emulators unavailable: {exc}"}
        return
    results["meta"]["waited_for_other_suite_s"] = waited
    results["meta"]["step_seconds"]["emulators_start"] = round(time.monotonic() - t0 - waited, 1)
    try:
        for key, value in client_env().items():
            os.environ[key] = value
        from machbot_fn import clients

        with_status = results["meta"]["step_seconds"]
        t0 = time.monotonic()
        e2e.publish(ctx)
        if not e2e.wait_for_upload_checks(ctx):
            ctx.notes.append("the Storage-triggered upload checks did not all finish before timing started")
        with_status["publish"] = round(time.monotonic() - t0, 1)
        bucket = clients.bucket(BUCKET)
        step("cold_start", "3. cold start (Storage emulator)", lambda: cold_start.run(ctx, bucket, "Storage emulator"))
        warm = (results["cold_start"].get("per_message_ms") or {}).get("registry_warm", {}).get("p50")
        pid = suite.process.pid if suite.process else None
        step("e2e", "5. write -> reply through the emulators", lambda: e2e.run(ctx, warm, pid))
    finally:
        t0 = time.monotonic()
        suite.stop()
        results["meta"]["step_seconds"]["emulators_stop"] = round(time.monotonic() - t0, 1)
        shutil.rmtree(cache, ignore_errors=True)
