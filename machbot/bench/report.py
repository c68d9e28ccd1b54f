"""The bench's outputs: results.json, report.md (one table per measurement, ratios beside the values),
PNG plots (matplotlib, Agg) and a rich summary on the console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from machbot.bench.common import REPLY_NAMES
from machbot.bench.common import fmt_ratio as fx

BACKEND_NAMES = {"int8": "int8 ONNX (served)", "fp32": "fp32 ONNX", "torch": "PyTorch eager"}


def ms(s: dict[str, Any] | None, q: str = "p50") -> str:
    return f"{s[q]:.2f}" if s and s.get(q) is not None else "–"


def pp(s: dict[str, Any] | None) -> str:
    """p50 / p95 ms."""
    return f"{ms(s)} / {ms(s, 'p95')}" if s and s.get("n") else "–"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _section_targets(r: dict[str, Any]) -> list[str]:
    mark = {True: "yes", False: "**no**", None: "–"}
    rows = [[t["what"], t["target"], t["value"], mark[t["meets"]], t["baseline"], t["ratio"]] for t in r["targets"]]
    return [
        "## DESIGN.md targets",
        "",
        *table(["what", "target", "measured", "met", "baseline (same run)", "ratio"], rows),
    ]


def _section_classifiers(r: dict[str, Any]) -> list[str]:
    c = r.get("classifier_latency") or {}
    if "models" not in c:
        return [f"## 1. Classifier latency\n\n{c.get('skipped') or c.get('error')}\n"]
    rows = []
    for model_id, m in c["models"].items():
        lat, sp = m["latency_ms"], m.get("speedup_vs_torch") or {}
        acc = m.get("accuracy_on_sample") or {}
        rows.append(
            [
                f"{model_id} ({'trained' if m['trained'] else 'untrained'})",
                pp(lat.get("int8")),
                pp(lat.get("fp32")),
                pp(lat.get("torch")),
                fx(sp.get("int8", {}).get("p50")),
                fx(sp.get("fp32", {}).get("p50")),
                fx((m.get("int8_speedup_vs_fp32") or {}).get("p50")),
                " / ".join(ms(m["cpu_ms"].get(k)) for k in ("int8", "fp32", "torch") if k in m["cpu_ms"]),
                fx((m.get("cpu_speedup_vs_torch") or {}).get("int8")),
                " / ".join(f"{acc[k]:.3f}" for k in ("int8", "fp32", "torch") if k in acc) or "–",
            ]
        )
    head = ["model", "int8 ms p50/p95", "fp32 ms p50/p95", "eager ms p50/p95", "int8 vs eager", "fp32 vs eager"]
    return [
        "## 1. Classifier latency (batch 1, one thread)",
        "",
        f"{c['messages']} test messages, tokenization included; the backends take turns in blocks of 10 messages. "
        "Ratios are speed-ups: baseline time / time (PyTorch eager is the baseline; above 1 is faster). "
        "Wall times are what a caller sees on this loaded machine; CPU times (the calling thread's, one "
        "inference thread) are the work itself. Accuracy is on the same sample of the test split.",
        "",
        *table(
            [*head, "int8 vs fp32", "CPU ms p50 int8/fp32/eager", "int8 vs eager (CPU)", "accuracy int8/fp32/eager"],
            rows,
        ),
        "![classifier latency](classifiers.png)",
        "",
    ]


def _section_replies(r: dict[str, Any]) -> list[str]:
    c = r.get("reply_latency") or {}
    if "latency_ms" not in c:
        return [f"## 2. Reply latency\n\n{c.get('skipped') or c.get('error')}\n"]
    sp, same = c.get("speedup_vs_generate") or {}, c.get("same_tokens_as_generate") or {}
    rows = [
        [
            REPLY_NAMES.get(k, k) + (" (served)" if k == c["served_path"] else ""),
            pp(v),
            ms(c["cpu_ms"][k]),
            c["mean_new_tokens"].get(k, "–"),
            f"{c['ms_per_token'][k]:.2f}" if k in c["ms_per_token"] else "–",
            fx((sp.get(k) or {}).get("p50")) if k != "torch_generate" else "1.0x (baseline)",
            f"{same[k]:.0%}" if k in same else "–",
        ]
        for k, v in c["latency_ms"].items()
    ]
    kv = c.get("kv_cache_speedup_vs_plain")
    return [
        "## 2. Reply latency (T5, greedy, one thread)",
        "",
        f"{c['prompts']} prompts as the function builds them, max_new_tokens {c['max_new_tokens']}, "
        f"no_repeat_ngram_size {c.get('no_repeat_ngram_size', 0)} for all three "
        f"({'trained' if c['trained'] else 'untrained'} replier {c['version']})."
        + (f" The key/value cache is {fx(kv['p50'])} faster than the whole-prefix loop at p50." if kv else "")
        + " generate() runs the fp32 PyTorch weights, the served loops int8 weights, so greedy choices between"
        " near-tied tokens can differ; with fp32 ONNX graphs the loops match generate() token for token"
        " (tests/training/test_replier_parity.py).",
        "",
        *table(
            ["path", "ms p50/p95", "CPU ms p50", "new tokens", "ms/token", "vs generate() p50", "same tokens"], rows
        ),
        "![reply latency](replies.png)",
        "",
    ]


def _section_cold(r: dict[str, Any]) -> list[str]:
    c = r.get("cold_start") or {}
    if "per_message_ms" not in c:
        return [f"## 3. Cold start\n\n{c.get('skipped') or c.get('error')}\n"]
    sp = c["speedup_vs_per_call_download"]
    names = {
        "per_call_download": "download + load per message (baseline)",
        "registry_warm": "registry, cached by version (served)",
        "registry_warm_recheck_every_call": "registry, CURRENT re-read on every call",
    }
    rows = [[names[k], pp(v), fx(sp.get(k))] for k, v in c["per_message_ms"].items()]
    rows.insert(0, ["registry, cold: first message", f"{c['cold_first_reply_ms']:.0f}", fx(sp.get("registry_cold"))])
    parts = ", ".join(f"{k} {v:.0f} ms" for k, v in c["cold_parts_ms"].items())
    return [
        "## 3. Cold start and the registry cache",
        "",
        f"{c['description']}; bucket: {c['bucket']}. Cold start parts: {parts}.",
        "",
        *table(["per message", "ms p50/p95", "vs per-call download"], rows),
        "![cold start](cold_start.png)",
        "",
    ]


def _section_memory(r: dict[str, Any]) -> list[str]:
    c = r.get("memory") or {}
    if "resident_steps" not in c:
        return [f"## 4. Memory\n\n{c.get('skipped') or c.get('error')}\n"]
    rows = [
        [
            s["resident"],
            s["model"],
            f"{s['load_ms']:.0f}",
            f"{s['rss_mib']:.0f}",
            fx(s["rss_ratio_vs_before"]),
            pp(s.get("probe_classify_ms")),
            ms(s.get("probe_classify_cpu_ms")),
            fx(s.get("probe_cpu_p50_ratio_vs_one_resident")),
        ]
        for s in c["resident_steps"]
    ]
    return [
        "## 4. Resident memory, and 6b. cost with 1..6 models resident",
        "",
        f"{c['description']}. Before loading: {c['rss_before_mib']:.0f} MiB; with all {len(c['models'])} models: "
        f"{c['rss_after_mib']:.0f} MiB (+{c['rss_models_mib']:.0f} MiB, {fx(c['rss_ratio_vs_before'])} the empty process). "
        "After each load the first classifier classifies the bench messages again (latency with k models resident).",
        "",
        *table(
            [
                "resident",
                "loaded",
                "load ms",
                "RSS MiB",
                "vs before",
                "classify ms p50/p95",
                "CPU ms p50",
                "CPU vs 1 resident",
            ],
            rows,
        ),
        "![resident models](resident.png)",
        "",
    ]


def _section_length(r: dict[str, Any]) -> list[str]:
    c = r.get("length") or {}
    if "rows" not in c:
        return [f"## 6a. Message length\n\n{c.get('skipped') or c.get('error')}\n"]
    keys = list(c["rows"][0]["latency_ms"])
    names = {
        "int8_served": f"int8 served (cut at {c['classifier_max_length']})",
        "int8_untruncated": "int8 untruncated",
        "torch_untruncated": "eager untruncated",
        "reply_served": f"reply (prompt cut at {c['replier_max_length']})",
    }
    rows = []
    for row in c["rows"]:
        cells = [row["target_tokens"], row["tokens"]]
        for k in keys:
            cells.append(f"{ms(row['cpu_ms'][k])} ({fx(row['growth_vs_8_tokens'][k])})")
        if "int8_served_speedup_vs_torch" in row:
            cells.append(fx(row["int8_served_speedup_vs_torch"]))
        rows.append(cells)
    head = ["target tokens", "tokens", *(f"{names.get(k, k)}: CPU ms p50 (vs 8 tokens)" for k in keys)]
    if "int8_served_speedup_vs_torch" in c["rows"][0]:
        head.append("served vs eager")
    return [
        "## 6a. Cost by message length",
        "",
        f"{c['description']}. The served classifier truncates at its manifest's max_length "
        f"({c['classifier_max_length']} tokens), so its cost stops growing there; the untruncated columns show what "
        "the cut saves. Times are CPU time of the calling thread (one inference thread: the work itself, which "
        "other jobs on the machine barely move; wall times are in results.json). Growth is each column's p50 "
        "over its own p50 at 8 tokens.",
        "",
        *table(head, rows),
        "![cost by length](length.png)",
        "",
    ]


def _section_e2e(r: dict[str, Any]) -> list[str]:
    c = r.get("e2e") or {}
    if "warm_ms" not in c:
        return [f"## 5. Write -> reply through the emulators\n\n{c.get('skipped') or c.get('error')}\n"]
    w = c["warm_ms"]
    cold_models = ", ".join(f"{k} {v['ms']:.0f} ms" for k, v in c["cold_model_in_warm_worker"].items() if v["ms"])
    rows = [
        ["cold: first message (worker start + fetch + load)", f"{c['cold_first_message_ms']:.0f}", "–", "–"],
        [
            f"warm ({w['n']} messages, one writer)",
            f"{w['p50']:.0f} / {w['p95']:.0f} / {w['p99']:.0f}",
            fx(c.get("warm_p50_ratio_vs_in_process"), "the in-process answer"),
            f"{c['warm_server_total_ms'].get('p50', 0):.0f}",
        ],
    ]
    conc = [
        [
            lvl["writers"],
            lvl["messages"],
            f"{lvl['throughput_msg_per_s']:.2f}",
            fx(lvl["throughput_ratio_vs_1_writer"]),
            f"{ms(lvl['latency_ms'])} / {ms(lvl['latency_ms'], 'p95')} / {ms(lvl['latency_ms'], 'p99')}",
            fx(lvl["p50_ratio_vs_1_writer"]),
            lvl["errors"],
        ]
        for lvl in c["concurrency"]
    ]
    rss = c.get("function_workers_rss_mib") or {}
    return [
        "## 5. Write -> reply through the emulators",
        "",
        f"{c['description']}; classifier {c['model']}. Baseline for latency: the same answer computed in-process "
        "(registry, warm); for throughput: one writer.",
        "",
        *table(["", "ms (p50 / p95 / p99)", "vs in-process", "server totalMs p50"], rows),
        f"First message to each other classifier in a warm worker (its fetch + load): {cold_models or '–'}. "
        f"The largest function worker (the one serving messages) held {rss.get('largest', 0):.0f} MiB RSS; the "
        f"Functions emulator ran {rss.get('workers', 0)} Python workers at the end (one per event in flight, up to "
        f"FUNCTIONS_EMULATOR_PARALLEL={c.get('emulator_parallel') or 'unset'}); a deployed "
        "instance serves up to 8 messages at once in one process.",
        "",
        *table(
            ["writers", "messages", "msg/s", "vs 1 writer", "ms p50 / p95 / p99", "p50 vs 1 writer", "errors"], conc
        ),
        "![end to end](e2e.png)",
        "",
    ]


def markdown(r: dict[str, Any]) -> str:
    meta = r["meta"]
    m = meta["machine"]
    lines = [
        "# machbot bench",
        "",
        f"Run {meta['started']} in {meta['duration_s']:.0f} s{' (--quick)' if meta['quick'] else ''}"
        + (
            f" (after {meta['waited_for_other_suite_s']:.0f} s waiting for another emulator suite)"
            if meta.get("waited_for_other_suite_s")
            else ""
        )
        + ". "
        f"Machine: {m['cpus']} vCPU ({m['cpu_model']}), {m['memory_gib']:.0f} GiB RAM, no GPU; "
        f"load average {m['load_start'][0]:.1f} at the start and {m['load_end'][0]:.1f} at the end "
        "(shared with other jobs: absolute times are noisy, ratios are measured side by side in the same run). "
        f"Messages: {meta['messages']}.",
        "",
        "Models: "
        + ", ".join(
            f"{k} {v['version']} ({'trained' if v['trained'] else 'untrained placeholder'})"
            for k, v in meta["models"].items()
        )
        + ".",
        "",
    ]
    lines += [f"- {note}" for note in meta["notes"]] + ([""] if meta["notes"] else [])
    for section in (
        _section_targets,
        _section_classifiers,
        _section_replies,
        _section_cold,
        _section_memory,
        _section_length,
        _section_e2e,
    ):
        lines += section(r)
    return "\n".join(lines)


def write(results: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "report.md").write_text(markdown(results))
    from machbot.bench.plots import write_plots

    return [out / "results.json", out / "report.md", *write_plots(results, out)]


def print_summary(console: Any, results: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table("what", "target", "measured", "met", "baseline (same run)", "ratio", title="machbot bench")
    mark = {True: "[green]yes[/]", False: "[red]no[/]", None: "–"}
    for row in results["targets"]:
        t.add_row(row["what"], row["target"], row["value"], mark[row["meets"]], row["baseline"], row["ratio"])
    console.print(t)
