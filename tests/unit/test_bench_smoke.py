"""`machbot bench --quick --skip-e2e` on tiny models: every measurement runs and reports sane numbers.

A smoke test only: it checks the report's shape and that timings are positive, never how fast anything is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(120)


def _timings(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every p50 / p95 / p99 / mean in the results, with where it sits."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("p50", "p95", "p99", "mean"):
                yield f"{path}.{key}", value
            else:
                yield from _timings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _timings(value, f"{path}[{i}]")


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    from machbot.bench.runner import run_bench
    from machbot.default_models import DEFAULT_IDS, tiny_version

    root = tmp_path_factory.mktemp("bench")
    for model_id in DEFAULT_IDS:
        tiny_version(model_id, root / "models")
    out = root / "out"
    run_bench(root / "models", out, quick=True, with_e2e=False, cache_dir=root / "cache")
    return json.loads((out / "results.json").read_text()), out


def test_every_measurement_reports(bench_run: tuple[dict[str, Any], Path]) -> None:
    results, _ = bench_run
    for key in ("meta", "classifier_latency", "reply_latency", "cold_start", "memory", "length", "e2e", "targets"):
        assert key in results, key
        assert "error" not in results[key], results[key]
    assert results["e2e"] == {"skipped": "--skip-e2e"}
    models = results["classifier_latency"]["models"]
    assert set(models) == {"bert", "distilbert", "roberta", "electra", "mobilebert"}
    for m in models.values():
        assert set(m["latency_ms"]) == {"int8", "fp32", "torch"}
        assert m["speedup_vs_torch"]["int8"]["p50"] > 0
        assert m["argmax_agreement_with_int8"]["torch"] > 0.5  # the baseline really is the same model
    replies = results["reply_latency"]
    assert {"onnx_plain", "onnx_kv_cache", "torch_generate"} <= set(replies["latency_ms"])
    assert replies["speedup_vs_generate"][replies["served_path"]]["p50"] > 0
    cold = results["cold_start"]
    assert cold["cold_first_reply_ms"] > 0
    assert set(cold["per_message_ms"]) == {"per_call_download", "registry_warm", "registry_warm_recheck_every_call"}
    memory = results["memory"]
    assert memory["rss_after_mib"] > memory["rss_before_mib"] > 0
    assert [s["resident"] for s in memory["resident_steps"]] == [1, 2, 3, 4, 5, 6]
    assert len(results["length"]["rows"]) >= 2
    timings = list(_timings({k: v for k, v in results.items() if k != "meta"}))
    assert len(timings) > 50
    assert all(isinstance(v, float | int) and v > 0 for _, v in timings), [t for t in timings if not t[1] > 0]
    assert {t["what"].split(",")[0] for t in results["targets"]} >= {
        "classify one message",
        "cold start: fetch + load + first reply",
    }


def test_report_files(bench_run: tuple[dict[str, Any], Path]) -> None:
    _, out = bench_run
    report = (out / "report.md").read_text()
    for heading in ("## DESIGN.md targets", "## 1. Classifier latency", "## 2. Reply latency", "## 3. Cold start"):
        assert heading in report
    for png in ("classifiers.png", "replies.png", "cold_start.png", "resident.png", "length.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
