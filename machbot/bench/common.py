"""What every measurement shares: the models under test, the messages, timing statistics, ratios.

Each measurement runs its baseline beside the thing measured, in the same process and on the same
messages, interleaving the two call by call where it can, so load from other jobs on the machine
falls on both sides alike; the reported figure of merit is the ratio.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from machbot.paths import ROOT
from machbot_fn.labels import CLASSIFIER_IDS, EMOTIONS, REPLIER_ID
from machbot_fn.models.manifest import Manifest

# Used when the emotion data is not beside the checkout: one line per emotion, several of each.
BUILTIN_MESSAGES: tuple[tuple[str, str], ...] = (
    ("i feel so alone since everyone left town", "sadness"),
    ("i am really happy with how the day went", "joy"),
    ("i love the little notes you leave for me", "love"),
    ("i am furious that they cancelled without telling anyone", "anger"),
    ("i feel nervous about the interview tomorrow morning", "fear"),
    ("i was amazed that the whole class remembered my name", "surprise"),
    ("i feel like nothing i do is ever good enough", "sadness"),
    ("we finally finished the project and i feel great", "joy"),
    ("i feel so tender watching my grandmother bake", "love"),
    ("i feel irritated by the constant noise next door", "anger"),
    ("i am scared to walk home alone after dark", "fear"),
    ("i feel shocked that the old shop closed overnight", "surprise"),
    ("i miss my dog every single morning", "sadness"),
    ("i feel proud of my sister for running the marathon", "joy"),
    ("i feel passionate about the people i work with", "love"),
    ("i feel so annoyed when people cut in line", "anger"),
    ("i feel anxious whenever my phone rings late at night", "fear"),
    ("i was stunned by how quiet the city was today", "surprise"),
)


class BenchError(RuntimeError):
    """The benchmark cannot run as asked (no models found, bad options): one line for the user."""


@dataclass
class Messages:
    texts: list[str]
    labels: list[int] | None  # indices into EMOTIONS, when the source has them
    source: str


def load_messages(n: int, seed: int = 0) -> Messages:
    """`n` test-split texts of the emotion data (a fixed sample), else the built-in list, cycled."""
    try:
        from machbot_train.data import load_emotion_split

        split = load_emotion_split("test")
        picked = random.Random(seed).sample(range(len(split)), min(n, len(split)))
        return Messages(
            [split.texts[i] for i in picked],
            [split.labels[i] for i in picked],
            f"CARER emotion test split, {len(picked)} texts sampled with seed {seed}",
        )
    except Exception as exc:  # no training extra or no data: still benchmark, on a fixed list
        rows = [BUILTIN_MESSAGES[i % len(BUILTIN_MESSAGES)] for i in range(n)]
        return Messages(
            [t for t, _ in rows],
            [EMOTIONS.index(label) for _, label in rows],
            f"built-in list of {len(BUILTIN_MESSAGES)} messages (emotion data unavailable: {exc})",
        )


@dataclass
class Context:
    """The models and messages of one bench run, and where it may keep files."""

    versions: dict[str, Path]
    manifests: dict[str, Manifest]
    messages: Messages
    quick: bool
    cache_dir: Path  # fp32 exports and other regenerable files
    notes: list[str] = field(default_factory=list)

    @property
    def classifier_ids(self) -> list[str]:
        return [m for m in CLASSIFIER_IDS if m in self.versions]

    @property
    def replier_id(self) -> str | None:
        return REPLIER_ID if REPLIER_ID in self.versions else None

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def stats(ms: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / mean of millisecond timings."""
    arr = np.asarray(ms, dtype=np.float64)
    if arr.size == 0:
        return {"n": 0}
    return {
        "n": int(arr.size),
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
        "p99": round(float(np.percentile(arr, 99)), 3),
        "mean": round(float(arr.mean()), 3),
    }


def ratio(value: float | None, baseline: float | None) -> float | None:
    """value / baseline, rounded; None when either is missing."""
    if value is None or baseline is None or baseline <= 0:
        return None
    return round(value / baseline, 3)


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """(result, wall milliseconds) of one call."""
    t0 = time.perf_counter()
    out = call()
    return out, (time.perf_counter() - t0) * 1000


@dataclass
class Timings:
    """Per-runner wall and CPU milliseconds and outputs, in item order.

    CPU time is the calling thread's (time.thread_time): with one inference thread it is the work
    itself, without the time the thread waited for a core, so it barely moves when other jobs load
    the machine; wall time is what a caller sees.
    """

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    outputs: dict[str, list[Any]]


def interleaved(
    runners: dict[str, Callable[[Any], Any]], items: list[Any], warmup: int = 3, block: int = 10
) -> Timings:
    """Time every runner on every item, alternating runners block by block (rotating who goes first).

    Each runner takes a block of `block` items in turn, so noise from other jobs spreads over all
    runners alike, while a runner's weights stay in the CPU caches within its block (as in serving,
    where one model answers a message). Each block starts with one untimed call; a few untimed
    warm-up calls come first.
    """
    names = list(runners)
    for item in items[:warmup]:
        for name in names:
            runners[name](item)
    out = Timings({n: [] for n in names}, {n: [] for n in names}, {n: [] for n in names})
    for b, start in enumerate(range(0, len(items), block)):
        chunk = items[start : start + block]
        for name in names[b % len(names) :] + names[: b % len(names)]:
            runners[name](chunk[0])
            for item in chunk:
                c0, t0 = time.thread_time(), time.perf_counter()
                result = runners[name](item)
                out.wall[name].append((time.perf_counter() - t0) * 1000)
                out.cpu[name].append((time.thread_time() - c0) * 1000)
                out.outputs[name].append(result)
    return out


def quiet_transformers() -> None:
    """No weight-loading progress bars or advice in the bench's console output."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def resolve_dir(recorded: str | None) -> Path | None:
    """A directory recorded in a manifest's provenance (absolute, or relative to the checkout)."""
    if not recorded:
        return None
    path = Path(recorded)
    path = path if path.is_absolute() else ROOT / path
    return path if (path / "config.json").is_file() else None


def torch_source(model_id: str, manifest: Manifest) -> tuple[Path | None, str]:
    """The PyTorch weights behind an export: its recorded source, else runs/<id>/best for a trained model."""
    recorded = resolve_dir(manifest.provenance.get("source_dir"))
    if recorded is not None:
        return (
            recorded,
            f"PyTorch weights from {recorded.relative_to(ROOT) if recorded.is_relative_to(ROOT) else recorded}",
        )
    if manifest.trained:
        run = ROOT / "runs" / model_id / "best"
        if (run / "config.json").is_file():
            return run, f"PyTorch weights from runs/{model_id}/best (may be a later epoch than the export)"
    return None, ""


def fmt_ratio(value: float | None, word: str = "") -> str:
    """A ratio for a table: 2.35x, 14.1x; a dash when missing."""
    if value is None:
        return "–"
    text = f"{value:.2f}x" if value < 10 else f"{value:.1f}x"
    return f"{text} {word}" if word else text


# How the report and the plots name each reply path.
REPLY_NAMES = {
    "onnx_kv_cache": "ONNX greedy, key/value cache",
    "onnx_plain": "ONNX greedy, whole prefix",
    "torch_generate": "transformers generate()",
    "pool_embed_and_choose": "reply pool: embed the message, choose a human reply",
    "pool_and_t5_rewrite": "reply pool, then the T5 rewriting the chosen reply",
}
