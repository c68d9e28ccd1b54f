"""6a. How cost grows with message length, 8 -> 512 tokens.

The served classifier truncates at its manifest's max_length (128 by default), so past that its
cost stops growing; the same int8 graph run without truncation, and PyTorch eager (also without
truncation) show what the cut saves. The replier truncates its prompt at its own max_length.
Each backend's baseline is its own cost at 8 tokens, in CPU time of the calling thread (one
inference thread), which other jobs on the machine barely move; wall times are in the JSON. Texts are made of test-split words, cut to
the nearest word boundary at or above the target length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from machbot.bench.classifiers import torch_classifier, torch_runner
from machbot.bench.common import BUILTIN_MESSAGES, Context, interleaved, ratio, stats
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.replier import Replier, build_prompt
from machbot_fn.models.runtime import load_tokenizer

LENGTHS = (8, 16, 32, 64, 128, 256, 512)
QUICK_LENGTHS = (8, 64, 512)
MAX_POSITIONS = 512


def text_of_length(words: list[str], count: Callable[[str], int], target: int, start: int) -> tuple[str, int]:
    """The shortest run of words from `start` whose token count (specials included) reaches `target`."""
    lo, hi = 1, len(words) - start
    while lo < hi:
        mid = (lo + hi) // 2
        if count(" ".join(words[start : start + mid])) >= target:
            hi = mid
        else:
            lo = mid + 1
    text = " ".join(words[start : start + lo])
    return text, count(text)


def run(ctx: Context) -> dict[str, Any]:
    if not ctx.classifier_ids:
        return {"skipped": "no classifier among the models"}
    model_id = "bert" if "bert" in ctx.classifier_ids else ctx.classifier_ids[0]
    manifest, version_dir = ctx.manifests[model_id], ctx.versions[model_id]
    served = EmotionClassifier(manifest, version_dir, threads=1)
    full = EmotionClassifier(manifest, version_dir, threads=1)
    full.tokenizer.enable_truncation(MAX_POSITIONS)
    counter = load_tokenizer(version_dir / "tokenizer.json", 100_000)
    runners: dict[str, Any] = {
        "int8_served": lambda t: served.predict_logits([t]),
        "int8_untruncated": lambda t: full.predict_logits([t]),
    }
    model, _ = torch_classifier(model_id, manifest, served.tokenizer.get_vocab_size())
    if model is not None:
        runners["torch_untruncated"] = torch_runner(model, version_dir, MAX_POSITIONS)
    replier = (
        Replier(ctx.manifests[ctx.replier_id], ctx.versions[ctx.replier_id], threads=1) if ctx.replier_id else None
    )
    if replier is not None:
        runners["reply_served"] = lambda t: replier.generate_ids(build_prompt("joy", [], t))

    words = " ".join([*ctx.messages.texts, *(t for t, _ in BUILTIN_MESSAGES)] * 20).split()
    reps = ctx.n(12, 2)
    rows: list[dict[str, Any]] = []
    for target in QUICK_LENGTHS if ctx.quick else LENGTHS:
        made = [text_of_length(words, lambda s: len(counter.encode(s).ids), target, 11 * r) for r in range(reps)]
        timings = interleaved(runners, [t for t, _ in made], warmup=0, block=max(1, reps // 3))
        rows.append(
            {
                "target_tokens": target,
                "tokens": round(sum(n for _, n in made) / len(made), 1),
                "served_tokens": min(target, manifest.max_length),
                "latency_ms": {k: stats(v) for k, v in timings.wall.items()},
                "cpu_ms": {k: stats(v) for k, v in timings.cpu.items()},
            }
        )
    first = rows[0]["cpu_ms"]  # CPU time: the growth curve of the work itself, not of the machine's load
    for row in rows:
        lat = row["cpu_ms"]
        row["growth_vs_8_tokens"] = {k: ratio(lat[k]["p50"], first[k]["p50"]) for k in lat}
        if "torch_untruncated" in lat:
            row["int8_served_speedup_vs_torch"] = ratio(lat["torch_untruncated"]["p50"], lat["int8_served"]["p50"])
    return {
        "description": f"classifier {model_id} (batch 1, one thread) and the replier, by message length",
        "classifier": model_id,
        "classifier_max_length": manifest.max_length,
        "replier_max_length": replier.manifest.max_length if replier else None,
        "baseline": "each backend's own CPU time at 8 tokens (growth); PyTorch eager untruncated (speed-up)",
        "rows": rows,
    }
