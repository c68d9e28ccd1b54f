"""The message state machine's decision: claim, stand back, or give up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from machbot_fn.serving.lifecycle import GiveUp, Skip, Take, decide

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def status(state: str, attempt: int, lease_in: float | None) -> dict:
    lease = None if lease_in is None else NOW + timedelta(seconds=lease_in)
    return {"status": {"state": state, "attempt": attempt, "leaseUntil": lease}}


def test_a_new_message_is_taken_as_attempt_one_with_a_lease() -> None:
    decision = decide({"text": "hi"}, NOW, lease_seconds=60, max_attempts=3)
    assert decision == Take(1, NOW + timedelta(seconds=60))


def test_finished_messages_are_never_processed_again() -> None:
    assert decide(status("done", 1, None), NOW, 60, 3) is Skip.FINISHED
    assert decide(status("error", 2, None), NOW, 60, 3) is Skip.FINISHED


def test_a_live_lease_makes_a_duplicate_stand_back() -> None:
    assert decide(status("processing", 1, +5), NOW, 60, 3) is Skip.LEASED


def test_an_expired_lease_is_taken_over_with_the_next_attempt() -> None:
    assert decide(status("processing", 1, -1), NOW, 60, 3) == Take(2, NOW + timedelta(seconds=60))


def test_a_lease_without_timezone_is_read_as_utc() -> None:
    naive = {
        "status": {"state": "processing", "attempt": 1, "leaseUntil": (NOW + timedelta(seconds=5)).replace(tzinfo=None)}
    }
    assert decide(naive, NOW, 60, 3) is Skip.LEASED


def test_after_the_last_attempt_the_message_gives_up() -> None:
    assert decide(status("processing", 3, -1), NOW, 60, 3) == GiveUp(3)
