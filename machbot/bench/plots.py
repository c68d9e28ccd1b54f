"""The bench's PNG plots (matplotlib, Agg backend): small files, one per measurement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from machbot.bench.common import REPLY_NAMES

DPI = 90
COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3")


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _bars(ax: Any, groups: list[str], series: dict[str, list[float | None]], ylabel: str) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [g + i * width - 0.4 + width / 2 for g in range(len(groups))]
        ax.bar(xs, [v or 0 for v in values], width, label=name, color=COLORS[i % len(COLORS)])
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def classifiers(r: dict[str, Any], out: Path) -> Path | None:
    models = (r.get("classifier_latency") or {}).get("models")
    if not models:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.6))
    names = {"int8": "int8 ONNX (served)", "fp32": "fp32 ONNX", "torch": "PyTorch eager"}
    series = {
        label: [m["latency_ms"].get(k, {}).get("p50") for m in models.values()]
        for k, label in names.items()
        if any(k in m["latency_ms"] for m in models.values())
    }
    _bars(ax, list(models), series, "ms per message, p50 (log)")
    ax.set_yscale("log")
    ax.set_title("Classifier latency, batch 1, one thread")
    return _save(fig, out / "classifiers.png")


def replies(r: dict[str, Any], out: Path) -> Path | None:
    c = r.get("reply_latency") or {}
    if "latency_ms" not in c:
        return None
    keys = list(c["latency_ms"])
    fig, ax = plt.subplots(figsize=(7, 3))
    p50 = [c["latency_ms"][k]["p50"] for k in keys]
    p95 = [c["latency_ms"][k]["p95"] for k in keys]
    ax.barh(range(len(keys)), p95, color="#cccccc", label="p95")
    ax.barh(range(len(keys)), p50, color=COLORS[0], label="p50")
    ax.set_yticks(range(len(keys)), [REPLY_NAMES.get(k, k) for k in keys])
    ax.set_xlabel("ms per reply")
    ax.set_title(f"Reply latency (T5, greedy, up to {c['max_new_tokens']} new tokens, one thread)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, out / "replies.png")


def cold_start(r: dict[str, Any], out: Path) -> Path | None:
    c = r.get("cold_start") or {}
    if "per_message_ms" not in c:
        return None
    pm = c["per_message_ms"]
    labels = [
        "registry: cold\n(first message)",
        "download + load\nper message",
        "registry: warm",
        "registry: warm,\nre-check each call",
    ]
    values = [
        c["cold_first_reply_ms"],
        pm["per_call_download"]["p50"],
        pm["registry_warm"]["p50"],
        pm["registry_warm_recheck_every_call"]["p50"],
    ]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.bar(range(4), values, color=[COLORS[3], COLORS[1], COLORS[0], COLORS[2]])
    ax.set_xticks(range(4), labels, fontsize=8)
    ax.set_ylabel("ms per message, p50")
    ax.set_title(f"Cold start vs per-message download ({c['bucket']})")
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.0f}", ha="center", va="bottom", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, out / "cold_start.png")


def resident(r: dict[str, Any], out: Path) -> Path | None:
    c = r.get("memory") or {}
    steps = c.get("resident_steps")
    if not steps:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.4))
    xs = [s["resident"] for s in steps]
    top = max(s["rss_mib"] for s in steps) * 1.4  # room for the legends above the bars
    ax.bar(xs, [s["rss_mib"] for s in steps], color=COLORS[0], label="RSS MiB")
    ax.set_ylim(0, top)
    ax.axhline(c["rss_before_mib"], color="grey", ls="--", lw=1, label="before loading")
    ax.set_xticks(xs, [f"{s['resident']}\n+{s['model']}" for s in steps], fontsize=8)
    ax.set_ylabel("RSS MiB")
    ax.set_xlabel("models resident")
    probe = [s.get("probe_classify_cpu_ms", {}).get("p50") for s in steps]
    if any(probe):
        ax2 = ax.twinx()
        ax2.plot(xs, probe, "o-", color=COLORS[1], label="classify CPU ms p50")
        ax2.set_ylabel("classify CPU ms p50")
        ax2.set_ylim(0, max(p or 0 for p in probe) * 1.4)
        ax2.legend(loc="upper right", fontsize=8)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Memory and classify latency as models become resident")
    return _save(fig, out / "resident.png")


def length(r: dict[str, Any], out: Path) -> Path | None:
    c = r.get("length") or {}
    rows = c.get("rows")
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.6))
    xs = [row["target_tokens"] for row in rows]
    for i, k in enumerate(rows[0]["latency_ms"]):
        ax.plot(xs, [row["cpu_ms"][k]["p50"] for row in rows], "o-", label=k.replace("_", " "), color=COLORS[i])
    ax.axvline(c["classifier_max_length"], color="grey", ls="--", lw=1, label="classifier max_length")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("message tokens")
    ax.set_ylabel("CPU ms p50 (log)")
    ax.set_title("Cost by message length (CPU time, one thread)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, out / "length.png")


def e2e(r: dict[str, Any], out: Path) -> Path | None:
    c = r.get("e2e") or {}
    levels = c.get("concurrency")
    if not levels:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2))
    xs = [lvl["writers"] for lvl in levels]
    for q, color in (("p50", COLORS[0]), ("p95", COLORS[1]), ("p99", COLORS[3])):
        ax1.plot(xs, [lvl["latency_ms"].get(q, 0) / 1000 for lvl in levels], "o-", color=color, label=q)
    ax1.axhline(0.5, color="grey", ls=":", lw=1, label="p50 target")
    ax1.set_xlabel("concurrent writers")
    ax1.set_ylabel("write -> reply, s")
    ax1.set_xticks(xs)
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.bar(xs, [lvl["throughput_msg_per_s"] or 0 for lvl in levels], color=COLORS[2])
    ax2.set_xlabel("concurrent writers")
    ax2.set_ylabel("replies per second")
    ax2.set_xticks(xs)
    ax2.grid(axis="y", alpha=0.3)
    fig.suptitle("End to end through the emulators", fontsize=10)
    return _save(fig, out / "e2e.png")


def write_plots(results: dict[str, Any], out: Path) -> list[Path]:
    made = [plot(results, out) for plot in (classifiers, replies, cold_start, resident, length, e2e)]
    return [p for p in made if p is not None]
