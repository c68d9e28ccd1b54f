"""`machbot load`'s account of a run: each kind of problem is counted where it belongs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from machbot.load import LoadError, Tracked, _account, percentiles, run_load

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def message(path: str, sent_at: float, seen: float | None, done_writes: int = 1) -> Tracked:
    m = Tracked(user=0, path=path, sent_at=sent_at, created=True, final_seen_at=seen)
    m.done_writes = {f"write-{i}" for i in range(done_writes)}
    return m


def doc(state: str | None, seconds: float = 0.5, attempt: int = 1, code: str | None = None) -> dict:
    d: dict = {"createdAt": T0}
    if state:
        d["status"] = {"state": state, "attempt": attempt, "updatedAt": T0 + timedelta(seconds=seconds)}
    if state == "done":
        d["timings"] = {"totalMs": 80.0}
    if code:
        d["error"] = {"code": code, "message": "x"}
    return d


def test_each_outcome_is_counted_once_where_it_belongs() -> None:
    tracked = {
        "ok": message("ok", 0.0, 0.6),
        "retried": message("retried", 1.0, 3.0),
        "twice": message("twice", 2.0, 2.5, done_writes=2),
        "bad": message("bad", 3.0, 3.2, done_writes=0),
        "stuck": message("stuck", 4.0, None, done_writes=0),
        "lost": message("lost", 5.0, None, done_writes=0),
        "unsent": Tracked(user=0, path="unsent", send_error="HTTP 403: denied"),
    }
    docs = {
        "ok": doc("done"),
        "retried": doc("done", seconds=2.0, attempt=2),
        "twice": doc("done"),
        "bad": doc("error", code="unknown_model"),
        "stuck": doc("processing"),
    }
    report = _account(
        tracked, docs, 7, 1, "bert", 0.0, 5.0, 6.0, 0, {}, {"count": 1, "rss_total_mb": 100.0, "rss_largest_mb": 100.0}
    )

    assert (report.created, report.send_failures) == (6, 1)
    assert (report.done, report.errored, report.errors_by_code) == (3, 1, {"unknown_model": 1})
    assert (report.lost, report.stuck) == (1, 1)
    assert report.duplicated_replies == 1 and report.examples["duplicated"] == ["twice"]
    assert report.answered_on_a_later_attempt == 1
    assert report.client_latency_s["max"] == pytest.approx(2.0)
    assert report.server_latency_s["max"] == pytest.approx(2.0)
    assert report.processing_ms["p50"] == 80.0
    assert report.throughput_msgs_per_s == pytest.approx(4 / 3.2, abs=1e-3)
    assert "| duplicated replies | 1 |" in report.markdown()


def test_percentiles() -> None:
    p = percentiles([float(i) for i in range(1, 101)])
    assert (p["p50"], p["p95"], p["p99"], p["max"]) == (51.0, 95.0, 99.0, 100.0)


def test_only_loopback_emulators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MACHBOT_PROJECT", raising=False)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "firestore.example.com:8080")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    with pytest.raises(LoadError, match="not a loopback"):
        run_load(messages=10, users=2, out=None)
    with pytest.raises(LoadError, match="messages must be"):
        run_load(messages=0, users=2, out=None)
