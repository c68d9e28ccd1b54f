"""Load through the running emulators: many users chatting at once, then an account of every message.

`machbot load` (with `machbot run` up) signs up U anonymous Auth-emulator users and has them send
N messages in all, each user like a person chatting: write a message through Firestore REST (rules
apply), wait for its answer, write the next. A snapshot listener per user (admin client, on the
user's `messages` collection) records every state each message passes through. Meanwhile the
sweeper is called every 30 s as the deployed scheduler would. After the last send the run waits,
bounded, for every message to end, then reports:

- lost: the write succeeded but the document is gone;
- stuck: not `done` or `error` at the end (the "thinking" forever the design forbids);
- duplicated: a message seen `done` with two different `status.updatedAt` (a reply written twice);
  a message answered on a later attempt (`status.attempt > 1`, re-driven by the sweeper) is fine
  and counted separately;
- errors by `error.code`;
- write->reply latency p50/p95/p99 as the client sees it (write sent -> final state seen by the
  listener) and as the server records it (`createdAt` -> `status.updatedAt`), and throughput.

Results go to bench-results/load.json and load.md. Loopback emulators only; counts and time bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from machbot.firestore_rest import Endpoints, Session
from machbot.latency import TEXTS as LATENCY_TEXTS

MAX_MESSAGES = 20_000
MAX_USERS = 500
FINAL = ("done", "error")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TEXTS = (
    *LATENCY_TEXTS,
    "my best friend moved away and i miss her",
    "we finally won the championship",
)


class LoadError(RuntimeError):
    """The load run could not start (emulators down, not loopback, bad arguments)."""


@dataclass
class Tracked:
    """One message: when it was written, and every state the listener saw it in."""

    user: int
    path: str
    sent_at: float = 0.0  # time.monotonic() just before the write
    created: bool = False
    send_error: str = ""
    final_seen_at: float | None = None
    done_writes: set[str] = field(default_factory=set)  # distinct status.updatedAt of `done` states
    final: dict[str, Any] | None = None
    answered: threading.Event = field(default_factory=threading.Event)


@dataclass
class LoadReport:
    messages: int
    users: int
    model: str
    created: int
    send_failures: int
    lost: int
    stuck: int
    done: int
    errored: int
    errors_by_code: dict[str, int]
    duplicated_replies: int
    answered_on_a_later_attempt: int
    client_latency_s: dict[str, float]  # write sent -> final state seen by a listener
    server_latency_s: dict[str, float]  # createdAt -> status.updatedAt
    processing_ms: dict[str, float]  # timings.totalMs: the handler's own work, without queueing
    throughput_msgs_per_s: float
    send_phase_s: float
    total_s: float
    sweeps: int
    swept: dict[str, int]
    function_workers: dict[str, float]  # Python worker processes at the end: count, total and largest RSS (MB)
    examples: dict[str, list[str]]  # a few paths per problem, to look at

    def markdown(self) -> str:
        def row(name: str, value: Any) -> str:
            return f"| {name} | {value} |"

        lat = ("p50", "p95", "p99", "max", "mean")
        lines = [
            f"# Load: {self.messages} messages from {self.users} users (model {self.model})",
            "",
            "| measure | value |",
            "|---|---|",
            row("messages written", f"{self.created} ({self.send_failures} writes refused or failed)"),
            row("done", self.done),
            row("error", f"{self.errored} {dict(self.errors_by_code) or ''}".strip()),
            row("lost (written, no document)", self.lost),
            row("stuck (not done/error at the end)", self.stuck),
            row("duplicated replies", self.duplicated_replies),
            row("answered on a later attempt (re-driven)", self.answered_on_a_later_attempt),
            row(
                "write->reply, client (s) " + "/".join(lat), " / ".join(f"{self.client_latency_s[k]:.3f}" for k in lat)
            ),
            row(
                "write->reply, server (s) " + "/".join(lat), " / ".join(f"{self.server_latency_s[k]:.3f}" for k in lat)
            ),
            row(
                "handler work, timings.totalMs (ms) " + "/".join(lat),
                " / ".join(f"{self.processing_ms[k]:.1f}" for k in lat),
            ),
            row("throughput (messages/s)", f"{self.throughput_msgs_per_s:.2f}"),
            row("send phase / whole run (s)", f"{self.send_phase_s:.1f} / {self.total_s:.1f}"),
            row("sweeper calls (re-driven)", f"{self.sweeps} {dict(self.swept) or ''}".strip()),
            row(
                "function workers at the end: count, RSS total / largest (MB)",
                f"{self.function_workers['count']:.0f}, {self.function_workers['rss_total_mb']:.0f}"
                f" / {self.function_workers['rss_largest_mb']:.0f}",
            ),
        ]
        return "\n".join(lines) + "\n"


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {k: float("nan") for k in ("p50", "p95", "p99", "max", "mean")}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))], 4)

    return {
        "p50": q(0.50),
        "p95": q(0.95),
        "p99": q(0.99),
        "max": round(ordered[-1], 4),
        "mean": round(statistics.fmean(ordered), 4),
    }


def _check_loopback() -> None:
    if os.environ.get("MACHBOT_PROJECT"):
        raise LoadError("machbot load runs against the local emulators only (unset MACHBOT_PROJECT)")
    for var in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"):
        host = urlparse("//" + os.environ.get(var, "")).hostname
        if host not in LOOPBACK:
            raise LoadError(f"{var}={os.environ.get(var)!r} is not a loopback emulator")


def _status(data: dict[str, Any]) -> dict[str, Any]:
    status = data.get("status")
    return status if isinstance(status, dict) else {}


class Listener:
    """Snapshot listeners on each user's messages: records states of the tracked messages."""

    def __init__(self, db: Any, tracked: dict[str, Tracked]) -> None:
        self.db, self.tracked = db, tracked
        self.lock = threading.Lock()
        self.watches: list[Any] = []

    def listen(self, uid: str) -> None:
        self.watches.append(self.db.collection(f"users/{uid}/messages").on_snapshot(self._on))

    def _on(self, docs: list, changes: list, read_time: Any) -> None:
        now = time.monotonic()
        for change in changes:
            doc = change.document
            message = self.tracked.get(doc.reference.path)
            if message is None:
                continue
            data = doc.to_dict() or {}
            status = _status(data)
            with self.lock:
                if status.get("state") == "done":
                    message.done_writes.add(str(status.get("updatedAt")))
                if status.get("state") in FINAL and message.final_seen_at is None:
                    message.final_seen_at, message.final = now, data
                    message.answered.set()

    def close(self) -> None:
        for watch in self.watches:
            with contextlib.suppress(Exception):  # a watch already closed by its own error
                watch.unsubscribe()


def run_load(
    messages: int = 1000,
    users: int = 50,
    model: str = "bert",
    reply_timeout: float = 120.0,
    send_deadline: float = 900.0,
    drain_seconds: float = 600.0,
    sweep_every: float = 30.0,
    out: Path | None = Path("bench-results/load.json"),
    progress: Callable[[str], None] = print,
) -> LoadReport:
    """Run the load (see the module docstring) and return the report; writes out (.json and .md)."""
    if not (1 <= messages <= MAX_MESSAGES) or not (1 <= users <= min(MAX_USERS, messages)):
        raise LoadError(f"messages must be 1..{MAX_MESSAGES} and users 1..min({MAX_USERS}, messages)")
    _check_loopback()
    from machbot.stack import call_sweeper
    from machbot_fn import clients

    endpoints = Endpoints.emulators()
    db = clients.firestore_client()
    try:
        call_sweeper(timeout=60)
    except Exception as exc:
        raise LoadError(f"the function's sweeper does not answer (is `machbot run` up?): {exc}") from exc

    progress(f"signing up {users} users")
    with ThreadPoolExecutor(min(users, 16)) as pool:
        sessions = list(pool.map(lambda _: Session.sign_up_anonymously(endpoints), range(users)))
    # Each user's share of the messages, paths chosen up front so listeners know what to track.
    tracked: dict[str, Tracked] = {}
    plan: list[list[Tracked]] = [[] for _ in range(users)]
    for i in range(messages):
        u = i % users
        message = Tracked(u, f"users/{sessions[u].uid}/messages/{uuid.uuid4().hex}")
        tracked[message.path] = message
        plan[u].append(message)
    listener = Listener(db, tracked)
    for session in sessions:
        listener.listen(session.uid)
    time.sleep(1.0)  # let the listeners attach before the first write

    stop = threading.Event()
    swept: Counter[str] = Counter()
    sweeps = 0

    def sweeper() -> None:
        nonlocal sweeps
        while not stop.wait(sweep_every):
            try:
                text = call_sweeper(timeout=120)
                sweeps += 1
                for key, value in json.loads(text.replace("'", '"') or "{}").items():
                    swept[key] += int(value)
            except Exception as exc:
                progress(f"sweeper: {exc}")

    started = time.monotonic()
    deadline = started + send_deadline

    def chat(u: int) -> None:
        session = sessions[u]
        for k, message in enumerate(plan[u]):
            if time.monotonic() > deadline:
                message.send_error = "not sent: the send phase deadline passed"
                continue
            text = f"{TEXTS[(u + k) % len(TEXTS)]} ({k})"
            message.sent_at = time.monotonic()
            try:
                r = session.create_message(message.path.rsplit("/", 1)[-1], text, model)
            except Exception as exc:
                message.send_error = f"{type(exc).__name__}: {exc}"[:200]
                continue
            if r.status_code != 200:
                message.send_error = f"HTTP {r.status_code}: {r.text[:150]}"
                continue
            message.created = True
            message.answered.wait(reply_timeout)  # as a person would: wait for the answer, then write again

    sweep_thread = threading.Thread(target=sweeper, name="sweeper", daemon=True)
    sweep_thread.start()
    reporter_stop = threading.Event()

    def reporter() -> None:
        while not reporter_stop.wait(10.0):
            created = sum(m.created for m in tracked.values())
            final = sum(m.final_seen_at is not None for m in tracked.values())
            progress(f"{time.monotonic() - started:6.0f} s  written {created}/{messages}  answered {final}")

    threading.Thread(target=reporter, name="progress", daemon=True).start()
    progress(f"sending {messages} messages from {users} users (model {model})")
    try:
        with ThreadPoolExecutor(users) as pool:
            list(pool.map(chat, range(users)))
        send_done = time.monotonic()
        progress(f"all writes made in {send_done - started:.1f} s; waiting for the last answers")
        drain_until = send_done + drain_seconds
        while time.monotonic() < drain_until:
            if all(m.final_seen_at is not None for m in tracked.values() if m.created):
                break
            time.sleep(1.0)
        time.sleep(2.0)  # let a late duplicate write show up before counting
    finally:
        stop.set()
        reporter_stop.set()
        listener.close()
    total = time.monotonic() - started

    # The ground truth at the end: each user's messages, read with admin credentials.
    docs: dict[str, dict[str, Any]] = {}
    for session in sessions:
        for snap in db.collection(f"users/{session.uid}/messages").stream():
            docs[snap.reference.path] = snap.to_dict() or {}
    report = _account(
        tracked, docs, messages, users, model, started, send_done, total, sweeps, dict(swept), function_workers()
    )
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(asdict(report), indent=2) + "\n")
        out.with_suffix(".md").write_text(report.markdown())
    return report


def function_workers() -> dict[str, float]:
    """The Functions emulator's Python workers (one per concurrent invocation): how many, how much memory."""
    import psutil

    rss = []
    for proc in psutil.process_iter(["cmdline", "memory_info"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "functions-framework" in cmd and "python" in cmd and proc.info["memory_info"]:
            rss.append(proc.info["memory_info"].rss / 2**20)
    return {"count": len(rss), "rss_total_mb": round(sum(rss), 1), "rss_largest_mb": round(max(rss, default=0), 1)}


def _seconds(value: Any) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def _account(
    tracked: dict[str, Tracked],
    docs: dict[str, dict[str, Any]],
    messages: int,
    users: int,
    model: str,
    started: float,
    send_done: float,
    total: float,
    sweeps: int,
    swept: dict[str, int],
    workers: dict[str, float],
) -> LoadReport:
    created = [m for m in tracked.values() if m.created]
    lost, stuck, duplicated, later, done, errored = [], [], [], [], [], []
    errors: Counter[str] = Counter()
    client, server, work, finished_at = [], [], [], []
    for m in created:
        doc = docs.get(m.path)
        if doc is None:
            lost.append(m.path)
            continue
        status = _status(doc)
        state = status.get("state")
        if state not in FINAL:
            stuck.append(m.path)
            continue
        if len(m.done_writes) > 1:
            duplicated.append(m.path)
        if int(status.get("attempt") or 0) > 1:
            later.append(m.path)
        if state == "done":
            done.append(m.path)
        else:
            errored.append(m.path)
            errors[str((doc.get("error") or {}).get("code"))] += 1
        if m.final_seen_at is not None:
            client.append(m.final_seen_at - m.sent_at)
            finished_at.append(m.final_seen_at)
        total_ms = (doc.get("timings") or {}).get("totalMs")
        if isinstance(total_ms, int | float):
            work.append(float(total_ms))
        created_s, updated_s = _seconds(doc.get("createdAt")), _seconds(status.get("updatedAt"))
        if created_s is not None and updated_s is not None:
            server.append(updated_s - created_s)
    span = (max(finished_at) - started) if finished_at else float("nan")
    return LoadReport(
        messages=messages,
        users=users,
        model=model,
        created=len(created),
        send_failures=sum(bool(m.send_error) for m in tracked.values()),
        lost=len(lost),
        stuck=len(stuck),
        done=len(done),
        errored=len(errored),
        errors_by_code=dict(errors),
        duplicated_replies=len(duplicated),
        answered_on_a_later_attempt=len(later),
        client_latency_s=percentiles(client),
        server_latency_s=percentiles(server),
        processing_ms=percentiles(work),
        throughput_msgs_per_s=round(len(finished_at) / span, 3) if finished_at else 0.0,
        send_phase_s=round(send_done - started, 2),
        total_s=round(total, 2),
        sweeps=sweeps,
        swept=swept,
        function_workers=workers,
        examples={
            "lost": lost[:5],
            "stuck": stuck[:5],
            "duplicated": duplicated[:5],
            "errored": errored[:5],
            "send_errors": [m.send_error for m in tracked.values() if m.send_error][:5],
        },
    )
