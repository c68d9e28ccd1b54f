"""`machbot bench-similar`: the cost of "Others felt this too", with its baselines in the same run.

1. Embedding one message, one thread: the served int8 ONNX embedder against fp32 ONNX of the same
   weights and sentence-transformers (PyTorch eager), interleaved on the same test-split messages;
   plus how closely int8 keeps the fp32 embeddings and neighbours on more messages.
2. Matching at 1k, 10k and 100k pooled thoughts: the function's index (one matrix per emotion,
   resident) against two ways without it, on the same queries: one matrix for the whole pool
   (score everything, then keep the emotion), and decoding the stored float16 embeddings per query
   (a pool read from storage for every message, the reads themselves not counted). Also the time to
   build the index, to apply one change, and its memory.
3. What matching finds on real messages: the similarity of the best match for test-split messages
   against a pool of training-split messages, and a few examples.

The pool at 10k and 100k repeats the real embeddings with noise (each a real message's vector plus
Gaussian noise, renormalised, its emotion kept), so the sizes and the emotion mix are real while
nothing needs embedding 100k texts: exact search costs the same whatever the vectors say.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from machbot.bench.common import BenchError, interleaved, quiet_transformers, ratio, stats
from machbot_fn.admin.publish import read_local_version
from machbot_fn.labels import EMOTIONS
from machbot_fn.models.embedder import SentenceEmbedder, normalize_rows
from machbot_fn.sharing.pool import decode_vector, encode_vector
from machbot_fn.sharing.pool_index import Thought, ThoughtIndex

SIZES = (1_000, 10_000, 100_000)
NOISE = 0.35  # per-coordinate noise relative to a unit vector's coordinate scale: cosine ~0.9 to its source
K = 3
OWNERS = 5_000  # distinct authors in the synthetic pool


@dataclass
class Setup:
    embedder_dir: Path
    quick: bool
    seed: int = 0

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def _split(name: str) -> tuple[list[str], list[int]]:
    from machbot_train.data import load_emotion_split

    split = load_emotion_split(name)
    return split.texts, split.labels


def embedding_latency(setup: Setup, embedder: SentenceEmbedder, texts: list[str]) -> dict[str, Any]:
    """1: int8 (served) vs fp32 ONNX vs sentence-transformers, batch 1, one thread."""
    import torch

    from machbot_train.embedder import minilm_encoder
    from machbot_train.embedder_parity import compare, onnx_embeddings, torch_embeddings
    from machbot_train.onnx_export import export_embedder_onnx

    torch.set_num_threads(1)
    quiet_transformers()
    manifest = embedder.manifest
    runners: dict[str, Any] = {"int8": embedder}
    notes = []
    if manifest.trained:
        encoder, tokenizer = minilm_encoder()
        fp32_dir = setup.embedder_dir.parent / f".{manifest.version}-fp32"  # same weights, not quantised
        if not (fp32_dir / "model.onnx").is_file():
            export_embedder_onnx(encoder, fp32_dir / "model.onnx")
        shutil.copyfile(setup.embedder_dir / "tokenizer.json", fp32_dir / "tokenizer.json")
        runners["fp32"] = SentenceEmbedder(manifest, fp32_dir, threads=1)
        try:
            from sentence_transformers import SentenceTransformer

            from machbot_train.bases import minilm_dir

            st = SentenceTransformer(str(minilm_dir()), device="cpu")
            runners["sentence-transformers"] = lambda text: st.encode([text], convert_to_numpy=True)[0]
        except ImportError as exc:
            notes.append(f"sentence-transformers baseline skipped: {exc}")
    else:
        notes.append("untrained placeholder embedder: only the served graph is timed")
    n = setup.n(300, 40)
    timed = interleaved(runners, texts[:n])
    out: dict[str, Any] = {
        "messages": n,
        "wall_ms": {name: stats(v) for name, v in timed.wall.items()},
        "cpu_ms": {name: stats(v) for name, v in timed.cpu.items()},
        "notes": notes,
    }
    # How many times faster the served int8 graph is than each baseline (p50 CPU time).
    out["int8_faster_than"] = {
        name: ratio(out["cpu_ms"][name]["p50"], out["cpu_ms"]["int8"]["p50"]) for name in runners if name != "int8"
    }
    if manifest.trained:
        count = setup.n(2000, 200)
        reference = torch_embeddings(encoder, tokenizer, manifest.max_length, texts[:count])
        served = onnx_embeddings(setup.embedder_dir / "model.onnx", tokenizer, manifest.max_length, texts[:count])
        out["parity"] = {"texts": count, **compare(reference, served)}
    return out


def real_vectors(embedder: SentenceEmbedder, texts: list[str], batch: int = 32) -> np.ndarray:
    """Embeddings of many texts, batched (faster than serving's one at a time; close enough to build a pool)."""
    return np.concatenate([embedder.embed(texts[i : i + batch]) for i in range(0, len(texts), batch)])


def synthetic_pool(base: np.ndarray, labels: list[int], size: int, rng: np.random.Generator) -> list[Thought]:
    """`size` thoughts: the real vectors first, then noisy copies of randomly chosen ones (their emotion kept)."""
    picks = np.concatenate([np.arange(min(size, len(base))), rng.integers(0, len(base), max(0, size - len(base)))])
    vectors = base[picks].copy()
    extra = slice(min(size, len(base)), size)
    noise = rng.standard_normal(vectors[extra].shape).astype(np.float32) * (NOISE / np.sqrt(base.shape[1]))
    vectors[extra] = normalize_rows(vectors[extra] + noise)
    owners = rng.integers(0, OWNERS, size)
    return [
        Thought(f"t{i}", EMOTIONS[labels[p]], f"u{owners[i]}", f"thought {i}", vectors[i]) for i, p in enumerate(picks)
    ]


def _time(call: Any, queries: list[Any]) -> tuple[list[float], list[float]]:
    for q in queries[:3]:
        call(q)
    wall, cpu = [], []
    for q in queries:
        c0, t0 = time.thread_time(), time.perf_counter()
        call(q)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return wall, cpu


def matching_at(
    size: int, base: np.ndarray, labels: list[int], queries: np.ndarray, q_labels: list[int], setup: Setup
) -> dict[str, Any]:
    """2, at one pool size: the index against its two baselines, on the same queries."""
    rng = np.random.default_rng(setup.seed + size)
    pool = synthetic_pool(base, labels, size, rng)
    t0 = time.perf_counter()
    docs = [(t.id, t.emotion, t.owner, t.text, encode_vector(t.vector)) for t in pool]  # as stored
    index = ThoughtIndex()
    t1 = time.perf_counter()
    for thought_id, emotion, owner, text, raw in docs:
        index.upsert(Thought(thought_id, emotion, owner, text, decode_vector(raw)))
    build_s = time.perf_counter() - t1
    encode_s = t1 - t0

    emotions = np.array([EMOTIONS.index(t.emotion) for t in pool])
    owners = np.array([int(t.owner[1:]) for t in pool])
    stored = [d[4] for d in docs]
    flat = np.stack([decode_vector(raw) for raw in stored])  # the vectors the index holds
    items = [(queries[i], EMOTIONS[q_labels[i]], f"u{rng.integers(0, OWNERS)}") for i in range(len(queries))]

    def with_index(item: Any) -> list[float]:
        q, emotion, owner = item
        return [m.score for m in index.search(emotion, q, k=K, exclude_owner=owner)]

    def one_matrix(item: Any) -> list[float]:
        q, emotion, owner = item
        scores = flat @ q
        scores[(emotions != EMOTIONS.index(emotion)) | (owners == int(owner[1:]))] = -np.inf
        top = np.argpartition(-scores, K)[:K]
        return [float(scores[i]) for i in top[np.argsort(-scores[top])]]

    def decode_per_query(item: Any) -> Any:
        q, emotion, owner = item
        keep = [i for i in range(size) if docs[i][1] == emotion and docs[i][2] != owner]
        matrix = np.frombuffer(b"".join(stored[i] for i in keep), dtype="<f2").reshape(len(keep), -1).astype(np.float32)
        scores = normalize_rows(matrix) @ q
        top = np.argpartition(-scores, K)[:K]
        return [float(scores[i]) for i in top[np.argsort(-scores[top])]]

    n_queries = setup.n(200, 30)
    runners = {"index": with_index, "one_matrix": one_matrix}
    if size <= 10_000 or not setup.quick:
        runners["decode_per_query"] = decode_per_query
    result: dict[str, Any] = {"pool": size, "shelves": index.counts(), "queries": {}}
    checked = items[:50]
    # The same best scores as brute force (scores, not ids: equal vectors may tie in either order).
    agree = sum(np.allclose(with_index(it), one_matrix(it), atol=1e-5) for it in checked)
    for name, call in runners.items():
        count = n_queries if name != "decode_per_query" else max(10, n_queries // (10 if size >= 100_000 else 2))
        wall, cpu = _time(call, items[:count])
        result["queries"][name] = {"wall_ms": stats(wall), "cpu_ms": stats(cpu)}
    p50 = {name: q["cpu_ms"]["p50"] for name, q in result["queries"].items()}
    result["index_faster_than"] = {name: ratio(p50[name], p50["index"]) for name in p50 if name != "index"}
    result["same_results_as_one_matrix"] = f"{agree}/{len(checked)}"

    change_wall = []
    for t in (pool[i] for i in rng.integers(0, size, setup.n(200, 30))):
        c0 = time.perf_counter()
        index.remove(t.id)
        index.upsert(Thought(t.id, t.emotion, t.owner, t.text, t.vector))
        change_wall.append((time.perf_counter() - c0) * 1000)
    result["build"] = {
        "seconds": round(build_s, 3),
        "per_thought_us": round(build_s / size * 1e6, 2),
        "encode_seconds": round(encode_s, 3),
        "change_ms": stats(change_wall),
    }
    result["memory"] = {
        "vectors_mib_allocated": round(index.nbytes() / 2**20, 1),
        "vectors_mib_used": round(size * flat.shape[1] * 4 / 2**20, 1),
        "stored_embedding_bytes": len(stored[0]),
    }
    return result


def quality(embedder: SentenceEmbedder, setup: Setup, min_score: float) -> tuple[dict[str, Any], np.ndarray, list[int]]:
    """3: best-match similarity of test messages against a pool of real training messages."""
    texts, labels = _split("train")
    count = setup.n(3000, 300)
    pool_vectors = real_vectors(embedder, texts[:count])
    index = ThoughtIndex()
    for i in range(count):
        index.upsert(Thought(f"r{i}", EMOTIONS[labels[i]], f"u{i}", texts[i], pool_vectors[i]))
    q_texts, q_labels = _split("test")
    n = setup.n(500, 60)
    best, examples = [], []
    for i in range(n):
        found = index.search(EMOTIONS[q_labels[i]], embedder(q_texts[i]), k=K)
        if found:
            best.append(found[0].score)
        if i < 5:
            examples.append(
                {
                    "message": q_texts[i],
                    "emotion": EMOTIONS[q_labels[i]],
                    "similar": [(m.text, round(m.score, 3)) for m in found],
                }
            )
    arr = np.asarray(best)
    out = {
        "pool": count,
        "queries": n,
        "best_score": {p: round(float(np.percentile(arr, p)), 3) for p in (10, 50, 90)},
        "shown_at_min_score": {
            "min_score": min_score,
            "share_with_a_match": round(float(np.mean(arr >= min_score)), 3),
        },
        "examples": examples,
    }
    return out, pool_vectors, labels[:count]


def _measure(
    results: dict[str, Any], setup: Setup, embedder: SentenceEmbedder, sizes: tuple[int, ...], say: Any
) -> None:
    from machbot_fn.settings import SharingSettings

    q_texts, q_labels = _split("test")
    say("1. embedding latency")
    results["embedding"] = embedding_latency(setup, embedder, q_texts)
    say("3. what matching finds on real messages")
    results["quality"], base, base_labels = quality(embedder, setup, SharingSettings().min_score)
    n_q = setup.n(200, 30)
    queries = real_vectors(embedder, q_texts[-n_q:])
    results["matching"] = []
    for size in sizes:
        say(f"2. matching with {size:,} pooled thoughts")
        results["matching"].append(matching_at(size, base, base_labels, queries, q_labels[-n_q:], setup))


def run_similar_bench(
    embedder_dir: Path | None,
    out: Path,
    quick: bool = False,
    console: Any = None,
    sizes: tuple[int, ...] = SIZES,
) -> dict[str, Any]:
    from machbot.default_models import embedder_version

    say = console.print if console is not None else (lambda *a, **k: None)
    embedder_dir = Path(embedder_dir) if embedder_dir else embedder_version()
    try:
        manifest = read_local_version(embedder_dir)
    except Exception as exc:
        raise BenchError(f"{embedder_dir} is not an embedder version directory: {exc}") from exc
    embedder = SentenceEmbedder(manifest, embedder_dir, threads=1)
    setup = Setup(embedder_dir, quick)
    t_start = time.monotonic()
    results: dict[str, Any] = {
        "meta": {
            "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "quick": quick,
            "embedder": {
                "id": manifest.id,
                "version": manifest.version,
                "format": manifest.format,
                "trained": manifest.trained,
            },
            "cpus": os.cpu_count(),
            "threads": 1,
            "load_start": [round(x, 2) for x in os.getloadavg()],
        }
    }
    # One BLAS thread, as on the function's one-CPU instance; CPU time then is all the work.
    with threadpool_limits(limits=1):
        _measure(results, setup, embedder, sizes, say)
    results["meta"]["duration_s"] = round(time.monotonic() - t_start, 1)
    results["meta"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    out.mkdir(parents=True, exist_ok=True)
    (out / "similar.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / "similar.md").write_text(markdown(results), encoding="utf-8")
    if console is not None:
        console.print(markdown(results), highlight=False, soft_wrap=True)
    return results


def markdown(r: dict[str, Any]) -> str:
    meta, emb = r["meta"], r["embedding"]
    e = meta["embedder"]
    lines = [
        "# 'Others felt this too': embedding and matching",
        "",
        f"{meta['started']}, {meta['cpus']} CPUs, load {meta['load_start']} -> {meta.get('load_end')}, "
        f"{meta['duration_s']} s{' (quick)' if meta['quick'] else ''}. Embedder {e['id']} {e['version']} ({e['format']}"
        f"{'' if e['trained'] else ', untrained placeholder'}). Times in ms, one thread; CPU time is the thread's own work.",
        "",
        f"## Embedding one message ({emb['messages']} test-split messages, interleaved)",
        "",
        "| graph | p50 CPU | p95 CPU | p50 wall | p95 wall |",
        "|---|---|---|---|---|",
    ]
    for name in emb["cpu_ms"]:
        c, w = emb["cpu_ms"][name], emb["wall_ms"][name]
        lines.append(f"| {name} | {c['p50']:.2f} | {c['p95']:.2f} | {w['p50']:.2f} | {w['p95']:.2f} |")
    faster = [f"{value:.1f}x faster than {name}" for name, value in emb["int8_faster_than"].items() if value]
    if faster:
        lines += ["", f"The served int8 graph (p50 CPU): {', '.join(faster)}."]
    if "parity" in emb:
        p = emb["parity"]
        lines += [
            "",
            f"int8 against the PyTorch fp32 embeddings on {p['texts']} test messages: cosine mean {p['cosine_mean']:.4f}, "
            f"min {p['cosine_min']:.4f}; the nearest other message is the same for {p['neighbour_agreement']:.1%} "
            f"(top-3 overlap {p['top3_overlap']:.1%}), and where it differs, int8's pick is on average "
            f"{p['top1_similarity_loss']:.4f} less similar (fp32 cosine) than the true nearest.",
        ]
    lines += [
        "",
        "## Matching: up to 3 thoughts of the same emotion, another author, highest cosine",
        "",
        "| pooled thoughts | largest emotion | index p50 / p95 (CPU) | one matrix p50 | decode per query p50 | index faster | build | one change p50 | vectors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in r["matching"]:
        q = m["queries"]
        idx, one = q["index"]["cpu_ms"], q["one_matrix"]["cpu_ms"]
        dec = q.get("decode_per_query", {}).get("cpu_ms", {}).get("p50")
        speedups = ", ".join(f"{v:.1f}x vs {k.replace('_', ' ')}" for k, v in m["index_faster_than"].items() if v)
        lines.append(
            f"| {m['pool']:,} | {max(m['shelves'].values()):,} | {idx['p50']:.3f} / {idx['p95']:.3f} | {one['p50']:.3f} | "
            f"{'–' if dec is None else f'{dec:.1f}'} | {speedups} | {m['build']['seconds']:.2f} s "
            f"({m['build']['per_thought_us']:.1f} µs each) | {m['build']['change_ms']['p50']:.3f} | "
            f"{m['memory']['vectors_mib_allocated']} MiB |"
        )
    qual = r["quality"]
    lines += [
        "",
        f"Results agree with the one-matrix search: {', '.join(m['same_results_as_one_matrix'] for m in r['matching'])} queries.",
        "",
        f"## What it finds ({qual['queries']} test messages against {qual['pool']:,} training messages)",
        "",
        f"Best-match cosine p10 / p50 / p90: {qual['best_score'][10]} / {qual['best_score'][50]} / {qual['best_score'][90]}; "
        f"with the minimum score {qual['shown_at_min_score']['min_score']}, "
        f"{qual['shown_at_min_score']['share_with_a_match']:.0%} of messages are shown at least one thought.",
        "",
    ]
    for ex in qual["examples"]:
        lines.append(f"- *{ex['message']}* ({ex['emotion']})")
        lines += [f"  - {text} ({score})" for text, score in ex["similar"]]
    return "\n".join(lines) + "\n"
