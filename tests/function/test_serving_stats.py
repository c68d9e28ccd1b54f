"""Per-version stats: shards summed into one row per version, joined with users' reports."""

from __future__ import annotations

import pytest

from machbot_fn.admin.feedback import Report, _report, agreement
from machbot_fn.admin.stats import summarise
from machbot_fn.serving.observe import SERVED, SHADOW


def test_shards_sum_into_means_per_version_and_mode() -> None:
    shards = [
        {"model": "bert", "version": "v1", "mode": SERVED, "count": 2, "latencyMsSum": 4.0, "confidenceSum": 1.5},
        {"model": "bert", "version": "v1", "mode": SERVED, "count": 1, "latencyMsSum": 5.0, "confidenceSum": 0.6},
        {"model": "bert", "version": "v2", "mode": SHADOW, "count": 4, "latencyMsSum": 8.0, "agreeWithServed": 3},
    ]
    rows = {(r.version, r.mode): r for r in summarise(shards, {("bert", "v1", SERVED): (4, 1)})}
    served, shadow = rows[("v1", SERVED)], rows[("v2", SHADOW)]
    assert (served.count, served.mean_latency_ms, served.mean_confidence) == (3, 3.0, pytest.approx(0.7))
    assert (served.feedback_count, served.feedback_agreement, served.agree_with_served) == (4, 0.25, None)
    assert (shadow.count, shadow.agree_with_served, shadow.feedback_agreement) == (4, 0.75, None)


def test_a_version_with_reports_but_no_counters_still_shows() -> None:
    (row,) = summarise([], {("bert", "v0", SERVED): (2, 0)})
    assert (row.version, row.count, row.mean_latency_ms, row.feedback_agreement) == ("v0", 0, None, 0.0)


def _message(label: str, reported: str | None) -> dict:
    doc = {
        "text": "i feel odd",
        "emotion": {"label": label},
        "servedBy": {"classifier": {"id": "bert", "version": "v1"}},
        "status": {"state": "done"},
    }
    if reported:
        doc["feedback"] = {"label": reported}
    return doc


def test_agreement_credits_the_served_version_and_the_shadow() -> None:
    shadow = {"version": "v2", "label": "fear"}
    reports = [
        _report(_message("joy", "fear"), shadow),  # served wrong, shadow right
        _report(_message("joy", "joy"), shadow),  # served right (a report confirming the label)
        _report(_message("sadness", "anger"), None),
    ]
    assert all(isinstance(r, Report) for r in reports)
    assert agreement(reports) == {("bert", "v1", SERVED): (3, 1), ("bert", "v2", SHADOW): (2, 1)}


def test_exported_rows_carry_no_user_or_document_ids() -> None:
    row = _report(_message("joy", "fear"), None).export_row()
    assert set(row) == {"text", "label", "predicted", "model", "version", "reportedAt"}
    assert (row["text"], row["label"], row["predicted"]) == ("i feel odd", "fear", "joy")


def test_messages_without_a_valid_report_are_not_reports() -> None:
    assert _report(_message("joy", None), None) is None
    assert _report(_message("joy", "bored"), None) is None
    assert _report({"feedback": {"label": "joy"}, "text": "x"}, None) is None
