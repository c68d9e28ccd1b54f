"""Write->reply latency through the emulators: cold first reply, warm p50/p95/p99, function memory.

Each message is written through Firestore REST as a signed-in user (as a mobile client) and timed
until its `status.state` is final, watched with a snapshot listener (no polling delay).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from machbot.firestore_rest import Endpoints, Session
from machbot_fn import clients

TEXTS = (
    "i feel so happy and grateful today",
    "i am sad and lonely tonight",
    "i love the way you smile at me",
    "this traffic makes me absolutely furious",
    "i am terrified of tomorrow's exam",
    "wow i did not expect that at all",
)


@dataclass
class LatencyReport:
    model: str
    cold_first_reply_s: float
    warm_n: int
    warm_p50_s: float
    warm_p95_s: float
    warm_p99_s: float
    warm_mean_server_total_ms: float
    function_rss_mb: float
    errors: int


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_one(user: Session, text: str, model: str, timeout: float = 120.0) -> tuple[float, dict]:
    """Seconds from the write to the final state seen by a listener, and the final document."""
    db = clients.firestore_client()
    done = threading.Event()
    final: dict = {}
    message_id = uuid.uuid4().hex
    path = f"users/{user.uid}/messages/{message_id}"

    def on_snapshot(docs, changes, read_time) -> None:
        for doc in docs:
            data = doc.to_dict() or {}
            if (data.get("status") or {}).get("state") in ("done", "error"):
                final.update(data)
                done.set()

    watch = db.document(path).on_snapshot(on_snapshot)
    try:
        time.sleep(0.05)  # let the listener attach before the write
        t0 = time.perf_counter()
        user.create_message(message_id, text, model).raise_for_status()
        if not done.wait(timeout):
            raise TimeoutError(f"no reply to {path} after {timeout:.0f} s")
        return time.perf_counter() - t0, final
    finally:
        watch.unsubscribe()


def function_rss_mb() -> float:
    """Resident memory of the largest Python function worker: the one that loaded the models.

    The Functions emulator runs one process per trigger and more under bursts; the message
    handler is the one holding the ONNX sessions, so the largest is the figure of interest.
    """
    largest = 0
    for proc in psutil.process_iter(["cmdline", "memory_info"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "functions-framework" in cmd and "python" in cmd:
            largest = max(largest, proc.info["memory_info"].rss)
    return round(largest / 2**20, 1)


def measure(model: str = "bert", warm: int = 50, out: Path | None = None) -> LatencyReport:
    user = Session.sign_up_anonymously(Endpoints.emulators())
    cold, _ = time_one(user, "hello machbot, this is the first message", model)
    times, server_ms, errors = [], [], 0
    for i in range(warm):
        seconds, doc = time_one(user, TEXTS[i % len(TEXTS)], model)
        times.append(seconds)
        if doc.get("status", {}).get("state") != "done":
            errors += 1
        else:
            server_ms.append(doc["timings"]["totalMs"])
    report = LatencyReport(
        model=model,
        cold_first_reply_s=round(cold, 3),
        warm_n=warm,
        warm_p50_s=round(statistics.median(times), 3),
        warm_p95_s=round(_percentile(times, 0.95), 3),
        warm_p99_s=round(_percentile(times, 0.99), 3),
        warm_mean_server_total_ms=round(statistics.fmean(server_ms), 2) if server_ms else float("nan"),
        function_rss_mb=function_rss_mb(),
        errors=errors,
    )
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(asdict(report), indent=2))
    return report
