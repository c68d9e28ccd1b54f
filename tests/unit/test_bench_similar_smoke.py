"""`machbot bench-similar --quick` on the tiny embedder: every part runs and reports sane numbers.

A smoke test only: it checks the report's shape and that the index finds what brute force finds,
never how fast anything is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)


def test_the_similar_bench_reports_every_part(tmp_path: Path) -> None:
    from machbot.bench.similar import run_similar_bench
    from machbot.default_models import tiny_version
    from machbot_fn.labels import EMBEDDER_ID

    embedder = tiny_version(EMBEDDER_ID, tmp_path / "models")
    out = tmp_path / "out"
    run_similar_bench(embedder, out, quick=True, sizes=(500, 2_000))
    results = json.loads((out / "similar.json").read_text())
    assert results["meta"]["embedder"]["id"] == EMBEDDER_ID and results["meta"]["embedder"]["trained"] is False
    assert results["embedding"]["cpu_ms"]["int8"]["p50"] > 0
    assert [m["pool"] for m in results["matching"]] == [500, 2_000]
    for m in results["matching"]:
        assert sum(m["shelves"].values()) == m["pool"]
        assert {"index", "one_matrix", "decode_per_query"} <= set(m["queries"])
        assert m["queries"]["index"]["cpu_ms"]["p50"] > 0
        agree, checked = map(int, m["same_results_as_one_matrix"].split("/"))
        assert agree == checked > 0  # exact search: the same thoughts as brute force
        assert m["memory"]["vectors_mib_allocated"] >= m["memory"]["vectors_mib_used"] > 0
    assert results["quality"]["queries"] > 0 and results["quality"]["examples"]
    report = (out / "similar.md").read_text()
    assert "Matching" in report and "2,000" in report
