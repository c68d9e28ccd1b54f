"""2. Reply latency: the served ONNX greedy loop (with and without the key/value cache) vs transformers
`generate()` (greedy, the same max_new_tokens and n-gram ban) on the same prompts, one thread, interleaved;
and, when the version ships a reply pool, what the function serves first: the message embedded (MiniLM)
and the pool's reply chosen (`serving.reply.from_pool`), then for a T5 that refines its rewrite of that
reply, beside the T5 loop alone.

The prompts are what the function builds: the detected emotion, the message, no earlier turns. The
PyTorch T5 is the export's recorded source, runs/t5/best for a trained replier, or the seeded tiny
configuration rebuilt for an untrained placeholder.
"""

from __future__ import annotations

from typing import Any

from machbot.bench.common import Context, interleaved, quiet_transformers, ratio, stats, torch_source
from machbot_fn.labels import EMBEDDER_ID, EMOTIONS
from machbot_fn.models.classifier import Emotion
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.manifest import Manifest
from machbot_fn.models.replier import Replier, build_prompt
from machbot_fn.serving.reply import from_pool


def torch_replier(manifest: Manifest, vocab_size: int) -> tuple[Any | None, str]:
    from transformers import T5ForConditionalGeneration

    source, note = torch_source(manifest.id, manifest)
    if source is not None:
        return T5ForConditionalGeneration.from_pretrained(source).eval(), note
    if not manifest.trained:
        from machbot_train.tiny_models import tiny_replier_model

        return tiny_replier_model(
            vocab_size
        ), "tiny configuration rebuilt with the placeholder's seed (the same weights)"
    return None, "no PyTorch weights found for this trained export: generate() baseline skipped"


POOL_RUNNER = "pool_embed_and_choose"
REFINE_RUNNER = "pool_and_t5_rewrite"  # a T5 that refines: the pool's reply, then the T5 rewriting it


def generate_runner(model: Any, replier: Replier) -> Any:
    import torch

    eos = replier.eos_id
    # The same search as the served loop: greedy, and the manifest's n-gram ban when it sets one.
    extra = {"no_repeat_ngram_size": n} if (n := getattr(replier, "no_repeat_ngram_size", 0)) else {}

    def run(prompt: str) -> list[int]:
        input_ids, mask = replier.encode(prompt)
        with torch.inference_mode():
            out = model.generate(
                input_ids=torch.from_numpy(input_ids),
                attention_mask=torch.from_numpy(mask),
                do_sample=False,
                num_beams=1,
                max_new_tokens=replier.max_new_tokens,
                min_new_tokens=0,
                **extra,
            )[0].tolist()[1:]  # drop the decoder start token
        return out[: out.index(eos)] if eos in out else out

    return run


def pool_reply_runner(ctx: Context, replier: Replier, prompts: list[str], emotions: list[str]) -> Any | None:
    """Prompt -> the pool's reply for its message, as the function serves it; None without a usable pool."""
    if replier.pool is None or EMBEDDER_ID not in ctx.versions:
        return None
    embedder = SentenceEmbedder(ctx.manifests[EMBEDDER_ID], ctx.versions[EMBEDDER_ID], threads=1)
    name = embedder.manifest.versioned_id
    if replier.pool.embedder != name:
        ctx.notes.append(f"reply pool vectors are {replier.pool.embedder}'s, the bench's embedder is {name}: not timed")
        return None
    messages = dict(zip(prompts, zip(ctx.messages.texts, emotions, strict=False), strict=False))

    def run(prompt: str) -> str | None:
        text, label = messages[prompt]
        emotion = Emotion(label, 1.0, {label: 1.0})
        return from_pool(replier, emotion, embedder(text), name, prompt)

    return run


def refine_runner(replier: Replier, pool_runner: Any, prompts: list[str], texts: list[str], emotions: list[str]) -> Any:
    """Prompt -> what a refining T5 serves: the pool's reply, then the T5's rewrite of it."""
    messages = dict(zip(prompts, zip(texts, emotions, strict=False), strict=False))

    def run(prompt: str) -> str:
        text, label = messages[prompt]
        return replier.generate(text, label, (), retrieved=pool_runner(prompt)).text

    return run


def run(ctx: Context) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    quiet_transformers()
    model_id = ctx.replier_id
    if model_id is None:
        return {"skipped": "no replier among the models"}
    manifest = ctx.manifests[model_id]
    replier = Replier(manifest, ctx.versions[model_id], threads=1)
    n = ctx.n(30, 6)
    labels = ctx.messages.labels or [0] * n
    prompts = [build_prompt(EMOTIONS[labels[i]], [], t) for i, t in enumerate(ctx.messages.texts[:n])]
    runners: dict[str, Any] = {"onnx_plain": replier.generate_ids_plain}
    if replier.uses_cache:
        runners["onnx_kv_cache"] = replier.generate_ids_cached
    model, source = torch_replier(manifest, replier.tokenizer.get_vocab_size())
    if model is not None:
        runners["torch_generate"] = generate_runner(model, replier)
    pool_runner = pool_reply_runner(ctx, replier, prompts, [EMOTIONS[labels[i]] for i in range(len(prompts))])
    if pool_runner is not None:
        runners[POOL_RUNNER] = pool_runner
        if replier.refines:
            emotions = [EMOTIONS[labels[i]] for i in range(len(prompts))]
            runners[REFINE_RUNNER] = refine_runner(replier, pool_runner, prompts, ctx.messages.texts, emotions)
    t5_loop = "onnx_kv_cache" if replier.uses_cache else "onnx_plain"  # what serves without a pool
    timings = interleaved(runners, prompts, warmup=1, block=5)
    times, outputs = timings.wall, timings.outputs
    tokens = {k: sum(len(o) for o in v) for k, v in outputs.items() if k not in (POOL_RUNNER, REFINE_RUNNER)}
    result: dict[str, Any] = {
        "description": "one reply per call (encoder + greedy loop), one thread; prompt tokenization included",
        "version": manifest.version,
        "trained": manifest.trained,
        "max_new_tokens": replier.max_new_tokens,
        "no_repeat_ngram_size": getattr(replier, "no_repeat_ngram_size", 0),
        "prompts": len(prompts),
        "served_path": (REFINE_RUNNER if replier.refines else POOL_RUNNER) if pool_runner is not None else t5_loop,
        "baseline": "transformers generate() (greedy); speed-up = generate() time / time",
        "baseline_source": source,
        "latency_ms": {k: stats(v) for k, v in times.items()},
        "cpu_ms": {k: stats(v) for k, v in timings.cpu.items()},
        "mean_new_tokens": {k: round(t / len(prompts), 2) for k, t in tokens.items()},
        "ms_per_token": {k: round(sum(times[k]) / max(1, tokens[k]), 3) for k in tokens},
    }
    if pool_runner is not None:
        result["pool"] = {
            "rows": len(replier.pool or ()),
            "description": "the message embedded with the served MiniLM, then the pool's reply chosen; "
            "the function embeds once for matching and retrieval alike",
            "vs_t5_loop_p50": ratio(stats(times[POOL_RUNNER])["p50"], stats(times[t5_loop])["p50"]),
        }
    lat = result["latency_ms"]
    if "torch_generate" in lat:
        result["speedup_vs_generate"] = {
            k: {q: ratio(lat["torch_generate"][q], lat[k][q]) for q in ("p50", "p95")}
            for k in lat
            if k != "torch_generate"
        }
        result["same_tokens_as_generate"] = {
            k: round(sum(a == b for a, b in zip(v, outputs["torch_generate"], strict=True)) / len(prompts), 3)
            for k, v in outputs.items()
            if k not in ("torch_generate", POOL_RUNNER)
        }
    if "onnx_kv_cache" in lat:
        result["kv_cache_speedup_vs_plain"] = {
            q: ratio(lat["onnx_plain"][q], lat["onnx_kv_cache"][q]) for q in ("p50", "p95")
        }
    return result
