"""5. Write -> reply latency through the emulators, cold and warm, and throughput under concurrent writers.

Each message is written as a signed-in user over Firestore REST (as a mobile client) and timed until
a snapshot listener sees its final state (machbot.latency.time_one). Cold: the first message after
the emulators start (a new Python worker, then the bucket fetch and load of both models), and the
first message to each other classifier (its fetch and load in a warm worker). Concurrency: N writers
(one user each) send messages back to back; an untimed round first lets the Functions emulator start
its workers. Baselines: the same work done in-process (the registry, warm, from the cold-start
measurement: what the pipeline adds), and one writer (how throughput scales).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from machbot.bench.common import Context, ratio, stats
from machbot.default_models import ensemble_evaluation
from machbot.firestore_rest import Endpoints, Session
from machbot.latency import time_one
from machbot.paths import BUCKET
from machbot.stack import emulator_env
from machbot_fn import clients
from machbot_fn.admin.publish import ensure_published

WRITERS = (1, 2, 4, 8)
TIMEOUT_S = 90.0


def wait_for_upload_checks(ctx: Context, timeout: float = 180.0) -> bool:
    """The Storage-triggered upload checks load every model; let them finish before timing anything."""
    db = clients.firestore_client()
    deadline = time.monotonic() + timeout
    pending = dict(ctx.manifests)
    while pending and time.monotonic() < deadline:
        for model_id, manifest in list(pending.items()):
            entry = ((db.document(f"models/{model_id}").get().to_dict() or {}).get("versions") or {}).get(
                manifest.version
            ) or {}
            if "verified" in entry:
                del pending[model_id]
        time.sleep(1.0)
    time.sleep(2.0)  # let the checking worker go idle
    return not pending


def publish(ctx: Context) -> list[str]:
    return ensure_published(
        clients.bucket(BUCKET), clients.firestore_client(), list(ctx.versions.values()), ensemble_evaluation()
    )


def one(user: Session, text: str, model: str) -> tuple[float | None, dict]:
    """(seconds, final document), or (None, {}) when it timed out."""
    try:
        return time_one(user, text, model, timeout=TIMEOUT_S)
    except TimeoutError:
        return None, {}


def burst(users: list[Session], texts: list[str], per_writer: int, model: str) -> dict[str, Any]:
    """Every writer sends `per_writer` messages back to back; all writers at once."""

    def writer(i: int) -> list[tuple[float | None, dict]]:
        return [one(users[i], texts[(i * per_writer + j) % len(texts)], model) for j in range(per_writer)]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(users)) as pool:
        results = [r for rs in pool.map(writer, range(len(users))) for r in rs]
    wall = time.perf_counter() - t0
    ok = [s for s, doc in results if s is not None and (doc.get("status") or {}).get("state") == "done"]
    return {
        "writers": len(users),
        "messages": len(results),
        "wall_s": round(wall, 3),
        "throughput_msg_per_s": round(len(ok) / wall, 3) if wall > 0 else None,
        "latency_ms": stats([s * 1000 for s in ok]),
        "errors": len(results) - len(ok),
    }


class Sweeper:
    """Re-drive never-claimed messages every few seconds, as the deployed scheduler does (see tests/conftest.py)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.recovered: list[str] = []
        self.thread = threading.Thread(target=self.loop, name="bench-sweeper", daemon=True)

    def loop(self) -> None:
        from machbot.stack import call_sweeper

        while not self.stop.wait(5.0):
            try:
                counts = call_sweeper(grace_seconds=15, unclaimed_only=True).strip()
            except Exception:
                continue
            if counts not in ("{}", ""):
                self.recovered.append(counts)

    def __enter__(self) -> Sweeper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def workers_rss_mib(session_id: int | None) -> dict[str, float]:
    """RSS of this suite's Python function workers (same session as the emulators), largest first."""
    import os

    import psutil

    sizes = []
    for proc in psutil.process_iter(["pid", "cmdline", "memory_info"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        try:
            mine = session_id is None or os.getsid(proc.info["pid"]) == session_id
        except OSError:
            continue
        if mine and "functions-framework" in cmd and "python" in cmd:
            sizes.append(proc.info["memory_info"].rss / 2**20)
    sizes.sort(reverse=True)
    return {"workers": len(sizes), "largest": round(sizes[0], 1) if sizes else 0.0, "total": round(sum(sizes), 1)}


def run(ctx: Context, in_process_warm_ms: float | None, session_id: int | None = None) -> dict[str, Any]:
    if not ctx.classifier_ids or ctx.replier_id is None:
        return {"skipped": "needs a classifier and the replier"}
    model = "bert" if "bert" in ctx.classifier_ids else ctx.classifier_ids[0]
    texts = ctx.messages.texts
    endpoints = Endpoints.emulators()
    user = Session.sign_up_anonymously(endpoints)
    result: dict[str, Any] = {
        "description": "message written over Firestore REST -> final state seen by a snapshot listener",
        "model": model,
        "baseline": "in-process warm answer (registry, same models) for latency; 1 writer for throughput",
        "emulator_parallel": emulator_env().get("FUNCTIONS_EMULATOR_PARALLEL"),
    }
    # Cold first, before the sweeper's own worker starts and competes for the CPU.
    cold_s, cold_doc = one(user, texts[0], model)
    result["cold_first_message_ms"] = round(cold_s * 1000, 1) if cold_s else None
    result["cold_first_message_server"] = cold_doc.get("timings")
    model_cold = {}
    for other in [m for m in ctx.classifier_ids if m != model]:
        seconds, doc = one(user, texts[1], other)
        model_cold[other] = {"ms": round(seconds * 1000, 1) if seconds else None, "server": doc.get("timings")}
    result["cold_model_in_warm_worker"] = model_cold
    with Sweeper() as sweeper:
        warm, server, errors = [], [], 0
        for text in texts[2 : 2 + ctx.n(50, 8)]:
            seconds, doc = one(user, text, model)
            if seconds is None or (doc.get("status") or {}).get("state") != "done":
                errors += 1
                continue
            warm.append(seconds * 1000)
            server.append(doc["timings"]["totalMs"])
        result["warm_ms"] = stats(warm)
        result["warm_server_total_ms"] = stats(server)
        result["warm_errors"] = errors
        result["warm_p50_ratio_vs_in_process"] = ratio(result["warm_ms"].get("p50"), in_process_warm_ms)
        result["cold_ratio_vs_warm_p50"] = ratio(result["cold_first_message_ms"], result["warm_ms"].get("p50"))
        per_writer = ctx.n(6, 2)
        levels = []
        for writers in WRITERS:
            users = [user] + [Session.sign_up_anonymously(endpoints) for _ in range(writers - 1)]
            burst(users, texts[::-1], 1, model)  # untimed: lets the emulator start workers for this level
            levels.append(burst(users, texts, per_writer, model))
        base = levels[0]["throughput_msg_per_s"]
        for level in levels:
            level["throughput_ratio_vs_1_writer"] = ratio(level["throughput_msg_per_s"], base)
            level["p50_ratio_vs_1_writer"] = ratio(level["latency_ms"].get("p50"), levels[0]["latency_ms"].get("p50"))
        result["concurrency"] = levels
        result["function_workers_rss_mib"] = workers_rss_mib(session_id)
    result["sweeper_recovered"] = sweeper.recovered
    return result
