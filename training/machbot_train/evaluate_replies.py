"""Replies a person would accept: the human references, today's T5 and the retrieval replier, side by side.

Three sets of messages:

- **held-out conversations**: the last (message, reply) pair of `HELD_OUT` test conversations of
  `reply_pairs` (a seeded sample; never in the pool), with up to three earlier turns as context;
- **chat test messages**: `CHAT_SAMPLE` messages of the classifier suite's four chat-like test sets
  (GoEmotions, DailyDialog, EmpatheticDialogues, MELD; an equal seeded share of each), annotated
  with an emotion but with no reply;
- **our own**: `OWN_MESSAGES`, forty ordinary chat messages, T5's reply beside the retrieval reply.

Every system answers as it is served: the message's emotion is what the best classifier reads
(`neutral` when it is not sure); the T5 decodes greedily with the version's own settings; the
retrieval replier is `ReplyPool.candidates` + `choose` with a seed from the conversation id.

Per system: distinct-1/2 over the replies; the share of the single most common reply and of the
ten most common (by normalised text); the share of replies of the opposite polarity to the
message (joy/love against sadness/anger/fear; the reply's emotion read by the best classifier,
also by the second best; the message's emotion as annotated, and as read); MiniLM cosine between
message and reply, and between reply and the human reference; latency.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from machbot_fn.models.classifier import Emotion, EmotionClassifier
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.replier import Replier
from machbot_fn.models.reply_pool import (
    AVOID_MASS,
    POOL_FILE,
    REPLY_WEIGHT,
    SHORTLIST,
    ReplyPool,
    choose,
    conflicting,
    seed_for,
)
from machbot_fn.serving.reply import fits, reply_emotion
from machbot_train.batching import read_emotions
from machbot_train.evaluate import REPORT_DIR, write_json
from machbot_train.metrics import distinct_n
from machbot_train.overlap import text_key
from machbot_train.progress import RunLog
from machbot_train.reply_pairs import ReplyPair, last_pairs, load_reply_splits
from machbot_train.reply_pool import clean_reply, embed_texts, pool_provenance
from machbot_train.version_dir import current_version, read_manifest

HELD_OUT = 500
CHAT_SAMPLE = 500
K = 10  # candidates retrieved per message (choose() picks among the best few of them)
SAMPLES = 25  # held-out rows shown in the report
OWN_MESSAGES: tuple[str, ...] = (
    "I got the job!!! I start on Monday.",
    "We're having a baby! I still can't believe it.",
    "My sister is getting married next month and I'm the maid of honour.",
    "I passed my driving test on the first try.",
    "Just finished my first marathon, my legs are jelly but I'm so proud.",
    "My grandmother passed away last night.",
    "My dog died this morning. He was 14.",
    "I miss my dad so much, it's been two years today.",
    "I didn't get into the university I wanted.",
    "I feel so lonely since I moved to this city.",
    "My landlord kept my whole deposit for no reason. I'm furious.",
    "My coworker took credit for my work in front of the boss again.",
    "Someone keyed my car in the parking lot.",
    "The airline lost my luggage and nobody will tell me anything.",
    "I can't believe my best friend lied to me.",
    "There's a weird noise downstairs and I'm home alone.",
    "I have to walk home alone tonight and the street is really dark.",
    "I have a job interview tomorrow and I'm terrified.",
    "The doctor wants to run more tests on me.",
    "I think someone is following me on the way home.",
    "Wait, you're moving to Japan?? Since when?",
    "I just found out my neighbour is a famous actor!",
    "My parents showed up at my door unannounced after five years.",
    "I won a raffle I didn't even know I entered.",
    "I love my husband so much, he makes every day better.",
    "My best friend drove three hours just to bring me soup.",
    "How was your weekend?",
    "What are you doing tonight?",
    "I'm making pasta for dinner.",
    "It's raining again here.",
    "Do you like coffee or tea?",
    "I'm bored.",
    "I just started learning the guitar.",
    "Thanks for listening, you always know what to say.",
    "ok",
    "lol",
    "hi",
    "😭😭😭",
    "🎉🎉",
    "😡",
)


@dataclass(frozen=True)
class Message:
    key: str  # the seed for choose(): the conversation id, or the message's position
    text: str
    history: tuple[str, ...]
    annotated: str  # the message's annotated emotion (EMOTIONS or NEUTRAL), "" when there is none
    corpus: str
    reference: str | None = None  # what a person replied


def top_shares(replies: Sequence[str]) -> tuple[float, float, list[tuple[str, int]]]:
    """The share of the most common reply and of the ten most common (by normalised text), and those ten."""
    counts = Counter(text_key(r) for r in replies)
    shown: dict[str, str] = {}
    for r in replies:
        shown.setdefault(text_key(r), r)
    common = counts.most_common(10)
    n = max(len(replies), 1)
    return common[0][1] / n if common else 0.0, sum(c for _, c in common) / n, [(shown[k], c) for k, c in common]


def conflict_share(message_emotions: Sequence[str], reply_emotions: Sequence[str]) -> float:
    pairs = list(zip(message_emotions, reply_emotions, strict=True))
    return sum(conflicting(m, r) for m, r in pairs) / max(len(pairs), 1)


def mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.sum(a * b, axis=1)))


def percentiles(times_ms: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(times_ms)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)), "n": len(arr)}


@dataclass
class Judges:
    """What reads emotions and meaning in the evaluation: the best classifier, the second, MiniLM."""

    best: EmotionClassifier
    second: EmotionClassifier | None
    embedder: SentenceEmbedder


def score_replies(
    messages: Sequence[Message],
    replies: Sequence[str],
    read: Sequence[Emotion],
    message_vectors: np.ndarray,
    judges: Judges,
    reference_vectors: np.ndarray | None,
) -> dict[str, Any]:
    """Every figure of one system on one message set."""
    top1, top10, common = top_shares(replies)
    reply_best = [e.label for e in read_emotions(judges.best, list(replies))]
    served = [reply_emotion(e) for e in read]
    out: dict[str, Any] = {
        "n": len(replies),
        "distinct_1": distinct_n(replies, 1),
        "distinct_2": distinct_n(replies, 2),
        "top1_share": top1,
        "top10_share": top10,
        "most_common": common,
        "mean_words": float(np.mean([len(r.split()) for r in replies])),
        "conflict_vs_read": conflict_share(served, reply_best),
        "reply_emotions": dict(Counter(reply_best).most_common()),
    }
    if all(m.annotated for m in messages):
        out["conflict_vs_annotated"] = conflict_share([m.annotated for m in messages], reply_best)
    if judges.second is not None:
        reply_second = [e.label for e in read_emotions(judges.second, list(replies))]
        out["conflict_vs_read_second"] = conflict_share(served, reply_second)
        if "conflict_vs_annotated" in out:
            out["conflict_vs_annotated_second"] = conflict_share([m.annotated for m in messages], reply_second)
    vectors = embed_texts(judges.embedder, list(replies))
    out["cosine_message_reply"] = mean_cosine(message_vectors, vectors)
    if reference_vectors is not None:
        out["cosine_reply_reference"] = mean_cosine(vectors, reference_vectors)
    return out


def retrieve(
    pool: ReplyPool, messages: Sequence[Message], vectors: np.ndarray, read: Sequence[Emotion]
) -> tuple[list[str], list[float], list[float]]:
    """The retrieval replier's answers, the cosine of each message with the pooled message its reply
    answered, and the time of candidates + choose (ms)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it into the training environment
        threadpool_limits = None
    replies, scores, times = [], [], []
    limit = threadpool_limits(limits=1) if threadpool_limits else None
    try:
        for m, vector, emotion in zip(messages, vectors, read, strict=True):
            t0 = time.perf_counter()
            picked = choose(pool.candidates(vector, reply_emotion(emotion), K, emotion.scores), seed_for(m.key))
            times.append((time.perf_counter() - t0) * 1000)
            replies.append(picked.text if picked else "")
            scores.append(picked.message_score if picked else float("nan"))
    finally:
        if limit is not None:
            limit.unregister()
    return replies, scores, times


def generate(
    replier: Replier,
    messages: Sequence[Message],
    read: Sequence[Emotion],
    log: RunLog,
    retrieved: Sequence[str] | None = None,
) -> tuple[list[str], list[float]]:
    """The T5's replies as served: on its own, or (`retrieved`, for a T5 that refines) rewriting the
    retrieved reply of each message ("" = none: the T5 alone)."""
    replies, times = [], []
    refs = list(retrieved) if retrieved is not None else [None] * len(messages)
    with log.progress(f"{replier.manifest.versioned_id} replies", len(messages)) as advance:
        for m, emotion, found in zip(messages, read, refs, strict=True):
            t0 = time.perf_counter()
            replies.append(replier.generate(m.text, reply_emotion(emotion), m.history, retrieved=found).text)
            times.append((time.perf_counter() - t0) * 1000)
            advance("")
    return replies, times


def guard_rewrites(
    rewrites: Sequence[str], retrieved: Sequence[str], read: Sequence[Emotion], classifier: EmotionClassifier
) -> tuple[list[str], float]:
    """What `serving.reply.draft` serves of each rewrite: it, or the retrieved reply when the rewrite
    does not `fit` the message (read by `classifier`, the served default); and the share of rewrites kept."""
    rewrite_read = read_emotions(classifier, list(rewrites))
    served = [
        w if not r or fits(e, m) else r for w, r, e, m in zip(rewrites, retrieved, rewrite_read, read, strict=True)
    ]
    return served, sum(a == w for a, w in zip(served, rewrites, strict=True)) / max(len(rewrites), 1)


def held_out_messages(data_dir: Path | None, n: int, seed: int) -> list[Message]:
    splits = load_reply_splits(data_dir)
    last = last_pairs(splits.test)
    picked = sorted(random.Random(seed).sample(range(len(last)), min(n, len(last))))
    return [_message(last[i]) for i in picked]


def _message(pair: ReplyPair) -> Message:
    return Message(pair.conversation, pair.message, pair.history, pair.emotion, pair.corpus, clean_reply(pair.reply))


def chat_messages(data_dir: Path | None, n: int, seed: int) -> list[Message]:
    from machbot_train.chat_corpora import CHAT_CORPORA
    from machbot_train.emotion_mix import test_sets

    sets = test_sets(data_dir, CHAT_CORPORA)
    rng = random.Random(seed)
    out = []
    for name, rows in sets.items():
        for i in sorted(rng.sample(range(len(rows)), min(n // len(sets), len(rows)))):
            out.append(Message(f"{name}-{i}", rows[i].text, (), rows[i].label, name))
    return out


def t5_exposure(t5_dir: Path, messages: Sequence[Message], data_dir: Path | None) -> int:
    """How many held-out (message, reply) pairs were among the T5's own training pairs (it was trained
    on an earlier split of EmpatheticDialogues, which did not hold these conversations out)."""
    from machbot_train.replier_data import load_pairs, split_pairs

    hp = read_manifest(t5_dir).provenance.get("hyperparameters") or {}
    if hp.get("refine"):  # trained on reply_pairs' training split
        seen = {(text_key(p.message), text_key(p.reply)) for p in load_reply_splits(data_dir).train}
        return sum((text_key(m.text), text_key(m.reference or "")) in seen for m in messages)
    train, _ = split_pairs(
        load_pairs(data_dir, bool(hp.get("include_meld", False))),
        float(hp.get("val_fraction", 0.05)),
        int(hp.get("seed", 13)),
    )
    seen = {(text_key(p.message), text_key(p.target)) for p in train}
    return sum((text_key(m.text), text_key(m.reference or "")) in seen for m in messages)


def evaluate_replies(
    t5_dir: Path,
    pool_path: Path,
    classifier_dir: Path,
    embedder_dir: Path,
    *,
    second_classifier_dir: Path | None = None,
    baseline_t5_dir: Path | None = None,
    pool_built: dict[str, Any] | None = None,
    data_dir: Path | None = None,
    report_dir: Path = REPORT_DIR,
    held_out: int = HELD_OUT,
    chat_sample: int = CHAT_SAMPLE,
    seed: int = 13,
    log: RunLog | None = None,
) -> dict[str, Any]:
    """Run the comparison, write `replier.json` and `replier.md` into `report_dir`, return the results.
    `baseline_t5_dir`: an earlier T5 to show beside (on its own, as it served without a pool);
    `pool_built`: how the pool was built (default: its version directory's `provenance.reply_pool`)."""
    log = log or RunLog()
    judges = Judges(
        EmotionClassifier(read_manifest(classifier_dir), classifier_dir, threads=1),
        EmotionClassifier(read_manifest(second_classifier_dir), second_classifier_dir, threads=1)
        if second_classifier_dir
        else None,
        SentenceEmbedder(read_manifest(embedder_dir), embedder_dir, threads=1),
    )
    t0 = time.perf_counter()
    pool = ReplyPool.load(pool_path)
    load_ms = (time.perf_counter() - t0) * 1000
    if pool.embedder != judges.embedder.manifest.versioned_id:
        raise ValueError(f"{pool_path} was built with {pool.embedder}, not {judges.embedder.manifest.versioned_id}")
    replier = Replier(read_manifest(t5_dir), t5_dir, threads=1)
    baseline = Replier(read_manifest(baseline_t5_dir), baseline_t5_dir, threads=1) if baseline_t5_dir else None
    result: dict[str, Any] = {
        "t5": replier.manifest.versioned_id
        + (f", the weights of {copied}" if (copied := replier.manifest.provenance.get("copied_from")) else ""),
        "refines": replier.refines,
        "t5_before": baseline.manifest.versioned_id if baseline else None,
        "pool": {
            "path": str(pool_path),
            "rows": len(pool),
            "bytes": Path(pool_path).stat().st_size,
            "load_ms": load_ms,
            "memory_mb": pool.nbytes / 1e6,
            "by_message_emotion": pool.counts(),
            "embedder": pool.embedder,
            "classifier": pool.classifier,
            "built": pool_built if pool_built is not None else pool_provenance(Path(pool_path)),
        },
        "judges": {
            "best": judges.best.manifest.versioned_id,
            "second": judges.second.manifest.versioned_id if judges.second else None,
            "embedder": judges.embedder.manifest.versioned_id,
        },
        "k": K,
        "retrieval": {"shortlist": SHORTLIST, "reply_weight": REPLY_WEIGHT, "avoid_mass": AVOID_MASS},
        "seed": seed,
        "sets": {},
    }
    log.info("held-out conversations")
    held = held_out_messages(data_dir, held_out, seed)
    result["sets"]["held_out"] = _run_set(held, pool, replier, judges, log, baseline)
    result["sets"]["held_out"]["corpora"] = dict(Counter(m.corpus for m in held).most_common())
    result["sets"]["held_out"]["t5_training_overlap"] = t5_exposure(t5_dir, held, data_dir)
    log.info("chat test messages")
    chat = chat_messages(data_dir, chat_sample, seed)
    result["sets"]["chat"] = _run_set(chat, pool, replier, judges, log, baseline)
    result["sets"]["chat"]["corpora"] = dict(Counter(m.corpus for m in chat).most_common())
    log.info("our own messages")
    own = [Message(f"own-{i}", text, (), "", "own") for i, text in enumerate(OWN_MESSAGES)]
    own_read = read_emotions(judges.best, [m.text for m in own])
    own_t5, _ = generate(replier, own, own_read, log)
    own_retrieved, own_scores, _ = retrieve(pool, own, embed_texts(judges.embedder, [m.text for m in own]), own_read)
    own_refined: list[str | None] = [None] * len(own)
    if replier.refines:
        rewrites = generate(replier, own, own_read, log, own_retrieved)[0]
        own_refined = list(guard_rewrites(rewrites, own_retrieved, own_read, judges.best)[0])
    own_before = generate(baseline, own, own_read, log)[0] if baseline else [None] * len(own)
    result["own"] = [
        {
            "message": m.text,
            "emotion": reply_emotion(e),
            "score": round(e.score, 3),
            "t5": t,
            "retrieval": r,
            "retrieval_score": round(s, 3),
            "refined": f,
            "t5_before": b,
        }
        for m, e, t, r, s, f, b in zip(
            own, own_read, own_t5, own_retrieved, own_scores, own_refined, own_before, strict=True
        )
    ]
    report_dir = Path(report_dir)
    write_json(report_dir / "replier.json", result)
    write_report(result, report_dir / "replier.md")
    return result


def _run_set(
    messages: list[Message],
    pool: ReplyPool,
    replier: Replier,
    judges: Judges,
    log: RunLog,
    baseline: Replier | None = None,
) -> dict[str, Any]:
    texts = [m.text for m in messages]
    read = read_emotions(judges.best, texts)
    vectors = embed_texts(judges.embedder, texts, log)
    retrieved, scores, retrieval_ms = retrieve(pool, messages, vectors, read)
    t5, t5_ms = generate(replier, messages, read, log)
    refined: list[str] = []
    refined_ms: list[float] = []
    rewrites_kept = 0.0
    if replier.refines:
        refined, refined_ms = generate(replier, messages, read, log, retrieved)
        refined, rewrites_kept = guard_rewrites(refined, retrieved, read, judges.best)
    before, before_ms = generate(baseline, messages, read, log) if baseline else ([], [])
    references = [m.reference for m in messages]
    reference_vectors = None
    systems: dict[str, Any] = {}
    if all(r is not None for r in references):
        refs = [r or "" for r in references]
        reference_vectors = embed_texts(judges.embedder, refs)
        systems["human"] = score_replies(messages, refs, read, vectors, judges, None)
        systems["human"]["cosine_reply_reference"] = 1.0
    systems["t5"] = score_replies(messages, t5, read, vectors, judges, reference_vectors)
    systems["t5"]["latency_ms"] = percentiles(t5_ms)
    systems["retrieval"] = score_replies(messages, retrieved, read, vectors, judges, reference_vectors)
    systems["retrieval"]["latency_ms"] = percentiles(retrieval_ms)
    systems["retrieval"]["mean_retrieval_cosine"] = float(np.nanmean(scores))
    systems["retrieval"]["no_candidate"] = sum(not r for r in retrieved)
    if refined:
        systems["refined"] = score_replies(messages, refined, read, vectors, judges, reference_vectors)
        systems["refined"]["latency_ms"] = percentiles(refined_ms)
        systems["refined"]["rewrites_served"] = rewrites_kept
        systems["refined"]["kept_retrieved"] = sum(
            text_key(f) == text_key(r) for f, r in zip(refined, retrieved, strict=True)
        ) / len(refined)
    if before:
        systems["t5_before"] = score_replies(messages, before, read, vectors, judges, reference_vectors)
        systems["t5_before"]["latency_ms"] = percentiles(before_ms)
    read_counts = Counter(reply_emotion(e) for e in read)
    samples = [
        {
            "message": m.text,
            "history": list(m.history),
            "annotated": m.annotated,
            "read": reply_emotion(e),
            "reference": m.reference,
            "t5": t,
            "retrieval": r,
            "retrieval_score": round(s, 3),
            "refined": f or None,
            "t5_before": b or None,
        }
        for m, e, t, r, s, f, b in zip(
            messages,
            read,
            t5,
            retrieved,
            scores,
            refined or [""] * len(messages),
            before or [""] * len(messages),
            strict=True,
        )
    ]
    return {
        "n": len(messages),
        "message_emotions_read": dict(read_counts.most_common()),
        "systems": systems,
        "samples": samples[: SAMPLES * 4],
    }


# ---- the report ----------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _esc(text: str | None) -> str:
    return "–" if text is None else text.replace("|", "\\|").replace("\n", " ")


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def served_system(systems: dict[str, Any]) -> str:
    """What the function serves: the T5's rewrite of the retrieved reply when it refines, else the retrieval."""
    return "refined" if "refined" in systems else "retrieval"


def _served_latency(systems: dict[str, Any]) -> float:
    """p50 of what serving a reply costs besides the embedding: candidates + choose, plus the rewrite."""
    p50 = systems["retrieval"]["latency_ms"]["p50"]
    return p50 + systems["refined"]["latency_ms"]["p50"] if "refined" in systems else p50


def _target_rows(s: dict[str, Any], names: Sequence[str]) -> list[str]:
    human = s.get("human")
    ratio_base = human["cosine_message_reply"] if human else None
    served = served_system(s)

    def row(
        label: str,
        cell: Callable[[dict[str, Any]], str],
        target: str = "",
        met: Callable[[dict[str, Any]], bool] | None = None,
    ) -> str:
        cells = [cell(s[n]) if n in s else "–" for n in names]
        verdict = _met(met(s[served])) if met else ""
        return f"| {label} | {target} | " + " | ".join(cells) + f" | {verdict} |"

    rows = [
        row("distinct-1", lambda m: _f(m["distinct_1"])),
        row("distinct-2", lambda m: _f(m["distinct_2"]), "≥ 0.40", lambda m: m["distinct_2"] >= 0.40),
        row("most common reply", lambda m: _pct(m["top1_share"]), "≤ 2 %", lambda m: m["top1_share"] <= 0.02),
        row("ten most common replies", lambda m: _pct(m["top10_share"]), "≤ 10 %", lambda m: m["top10_share"] <= 0.10),
    ]
    if "conflict_vs_annotated" in s["retrieval"]:
        rows.append(
            row(
                "opposite polarity to the message's annotated emotion (reply read by the best classifier)",
                lambda m: _pct(m.get("conflict_vs_annotated")),
                "≤ 5 %",
                lambda m: m["conflict_vs_annotated"] <= 0.05,
            )
        )
        rows.append(
            row(
                "the same, reply read by the second classifier",
                lambda m: _pct(m.get("conflict_vs_annotated_second")),
            )
        )
    rows.append(
        row(
            "opposite polarity to the message's emotion as read (as served; not sure = neutral)",
            lambda m: _pct(m["conflict_vs_read"]),
            "≤ 5 %",
            lambda m: m["conflict_vs_read"] <= 0.05,
        )
    )
    rows.append(row("the same, reply read by the second classifier", lambda m: _pct(m.get("conflict_vs_read_second"))))
    if ratio_base:
        rows.append(
            row(
                "MiniLM cosine message ↔ reply (ratio to the references')",
                lambda m: f"{m['cosine_message_reply']:.3f} ({m['cosine_message_reply'] / ratio_base:.2f})",
                "≥ 0.90 of the references'",
                lambda m: m["cosine_message_reply"] >= 0.9 * ratio_base,
            )
        )
        rows.append(row("MiniLM cosine reply ↔ human reference", lambda m: _f(m.get("cosine_reply_reference"))))
    else:
        rows.append(row("MiniLM cosine message ↔ reply", lambda m: _f(m["cosine_message_reply"])))
    rows.append(
        row(
            "latency p50 / p95 (ms, one thread): T5 generation; retrieval = candidates + choose",
            lambda m: f"{m['latency_ms']['p50']:.2f} / {m['latency_ms']['p95']:.2f}" if "latency_ms" in m else "–",
            "retrieval + generation ≤ 60 ms p50",
            lambda _: _served_latency(s) <= 60,
        )
    )
    if "refined" in s:
        rows.append(row("the retrieved reply kept word for word", lambda m: _pct(m.get("kept_retrieved"))))
        rows.append(
            row(
                "rewrites served (the rest did not fit the message's emotion: the retrieved reply served)",
                lambda m: _pct(m.get("rewrites_served")),
            )
        )
    rows.append(row("mean words per reply", lambda m: f"{m['mean_words']:.1f}"))
    return rows


def _pool_lines(pool: dict[str, Any]) -> list[str]:
    built = pool.get("built") or {}
    if not built:
        return []

    def counts(d: dict[str, int]) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in d.items())

    lines = [
        "",
        "## The reply pool",
        "",
        f"From {built['training_pairs']:,} training pairs ({built.get('data', '')}):",
        "",
        "| step | replies |",
        "|---|---|",
    ]
    for why, n in built["rejected"].items():
        lines.append(f"| dropped: {why} | {n:,} |")
    lines += [
        f"| dropped: the same reply again (normalised text) | {built['duplicate_replies']:,} |",
        f"| kept | {built['kept']:,} |",
    ]
    if built.get("emotion_cap"):
        lines.append(
            f"| in the file: message-emotion groups capped at {built['emotion_cap']:,} to stay under 20 MB "
            f"| {built['rows']:,} |"
        )
    lines += [
        "",
        f"By corpus: {counts(built['by_corpus'])}. By the message's annotated emotion: "
        f"{counts(built['by_message_emotion'])}. By the reply's emotion (read): {counts(built['by_reply_emotion'])}.",
    ]
    return lines


def _columns(r: dict[str, Any]) -> dict[str, str]:
    """The systems the report shows, in order, with their column titles."""
    cols = {"human": "human references"}
    if r.get("t5_before"):
        cols["t5_before"] = f"T5 `{r['t5_before']}` (before)"
    cols["t5"] = f"T5 `{r['t5']}`" + (" alone (no retrieved reply)" if r.get("refines") else "")
    cols["retrieval"] = "retrieval"
    if r.get("refines"):
        cols["refined"] = "T5 refining the retrieval"
    return cols


def write_report(r: dict[str, Any], path: Path) -> None:
    held, chat = r["sets"]["held_out"], r["sets"]["chat"]
    pool = r["pool"]
    cols = _columns(r)
    names = tuple(cols)
    served = "T5 refining the retrieval" if r.get("refines") else "retrieval"
    header = "| | target | " + " | ".join(cols.values()) + f" | served ({served}) meets the target |"
    rule = "|---|---|" + "---|" * len(cols) + "---|"
    chat_header = "| | target | – | " + " | ".join(list(cols.values())[1:]) + f" | served ({served}) meets the target |"
    lines = [
        "# Replies a person would accept: people, the T5, retrieval"
        + (", retrieve-and-refine" if r.get("refines") else ""),
        "",
        "Produced by `machbot evaluate --replier` (`training/machbot_train/evaluate_replies.py`).",
        "Every system answers as served: the message's emotion is the best classifier's reading",
        "(`not sure` = neutral), and the T5 decodes greedily with its manifest's settings. The retrieval",
        "replier (`ReplyPool.candidates` + `choose`, `functions/machbot_fn/models/reply_pool.py`) keeps the",
        "pooled messages with the same emotion (all when neutral), drops the replies of a polarity the",
        "message may have the opposite of (a side holding at least"
        f" {r['retrieval']['avoid_mass']} of the classifier's probability counts),",
        f"shortlists the {r['retrieval']['shortlist']} most similar messages, ranks their replies by message"
        f" and reply similarity (reply weight {r['retrieval']['reply_weight']}),",
        f"keeps the {r['k']} best, and `choose` picks one of the best few with a seed from the conversation id.",
    ]
    if r.get("refines"):
        lines += [
            "The T5 refining the retrieval is what the function serves (`serving/reply.py`): the T5 reads the",
            "message, its emotion, the last turns and the retrieved reply (retrieve-and-refine,",
            "`training/machbot_train/refine_data.py`) and writes the reply; alone, it reads `retrieved: none`",
            "(what it writes when the pool cannot answer).",
        ]
    lines += [
        "",
        f"- Reply pool: {pool['rows']:,} human replies, {pool['bytes'] / 1e6:.1f} MB (`reply_pool.npz`), from the",
        f"  training conversations only; vectors {pool['embedder']}, reply emotions {pool['classifier']};",
        f"  loaded in {pool['load_ms']:.0f} ms into {pool['memory_mb']:.0f} MB of float32 vectors.",
        f"- Emotions read by the best classifier, {r['judges']['best']}; a second reading of the replies by",
        f"  {r['judges']['second']}. Cosines by {r['judges']['embedder']} (the served int8 MiniLM).",
        "- Opposite polarity: joy or love against sadness, anger or fear (surprise and neutral conflict",
        "  with nothing). The message's emotion is the annotated one (the conversation's in",
        "  EmpatheticDialogues, the turn's in DailyDialog and MELD; no emotion = neutral), and, as served,",
        "  the classifier's reading. Latency: candidates + choose, one thread (numpy BLAS limited to one),",
        "  on a shared 2-core machine; the T5 columns are their whole generation.",
        "",
        f"## {held['n']} held-out conversations (last pair of each)",
        "",
        "Test conversations of `reply_pairs`"
        f" ({', '.join(f'{c} {n}' for c, n in held['corpora'].items())}), seed {r['seed']}.",
        "The T5 was trained on an earlier split of EmpatheticDialogues that did not hold these out:"
        if not r.get("refines")
        else "Pairs of these conversations among the T5's training pairs (its split is reply_pairs', so none):",
        f"{held['t5_training_overlap']} of the {held['n']}.",
        "",
        header,
        rule,
        *_target_rows(held["systems"], names),
        "",
        f"## {chat['n']} chat test messages of the classifier suite",
        "",
        f"{', '.join(f'{c} {n}' for c, n in chat['corpora'].items())}: annotated with an emotion, no reply to compare"
        " with; no history.",
        "",
        chat_header,
        rule,
        *_target_rows(chat["systems"], names),
        "",
        "## Most common replies (held-out conversations)",
        "",
    ]
    shown = [n for n in names if n != "human"]
    lines += ["| " + " | ".join(cols[n] for n in shown) + " |", "|" + "---|" * len(shown)]
    common = [held["systems"][n]["most_common"] for n in shown]
    for i in range(max(len(c) for c in common)):
        lines.append("| " + " | ".join(f"{_esc(c[i][0])} ({c[i][1]})" if i < len(c) else "" for c in common) + " |")
    own_cols = [n for n in shown if n != "retrieval"]
    lines += [
        "",
        "## Forty messages of our own",
        "",
        "| message | emotion read | "
        + " | ".join(cols[n] for n in own_cols)
        + " | retrieval (cosine to the pooled message) |",
        "|---|---|" + "---|" * (len(own_cols) + 1),
    ]
    for o in r["own"]:
        cells = " | ".join(_esc(o.get(n)) for n in own_cols)
        lines.append(
            f"| {_esc(o['message'])} | {o['emotion']} ({o['score']:.2f}) | {cells} | "
            f"{_esc(o['retrieval'])} ({o['retrieval_score']:.2f}) |"
        )
    lines += [
        "",
        f"## Held-out samples (the first {SAMPLES})",
        "",
        "| annotated / read | message | " + " | ".join(cols[n] for n in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for smp in held["samples"][:SAMPLES]:
        cells = " | ".join(_esc(smp["reference"] if n == "human" else smp.get(n)) for n in names)
        lines.append(f"| {smp['annotated']} / {smp['read']} | {_esc(smp['message'])} | {cells} |")
    lines += _pool_lines(pool)
    lines += ["", "The T5's own evaluation (validation loss, perplexity, samples): [replier/t5.md](replier/t5.md).", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def evaluate_default_replies(
    t5_dir: Path | None = None,
    pool_path: Path | None = None,
    classifier_dir: Path | None = None,
    embedder_dir: Path | None = None,
    data_dir: Path | None = None,
    report_dir: Path = REPORT_DIR,
    log: RunLog | None = None,
    baseline_t5_dir: Path | None = None,
) -> dict[str, Any]:
    """`evaluate_replies` with the shipped models wherever one is not given: the default T5, the two
    classifiers best on chat-like text, MiniLM (exported into build/embedder once), and the T5
    version's own pool, else a pool built now from the training conversations into build/reply-pool."""
    from machbot_train.locations import DEFAULT_ROOT, REPO
    from machbot_train.reply_pool import build_reply_pool, default_embedder_dir, ranked_classifiers

    log = log or RunLog()
    t5_dir = Path(t5_dir) if t5_dir else current_version(DEFAULT_ROOT, "t5")
    ranked = ranked_classifiers(DEFAULT_ROOT)
    best = Path(classifier_dir) if classifier_dir else ranked[0]
    second = next((c for c in ranked if c.resolve() != best.resolve()), None)
    embedder_dir = Path(embedder_dir) if embedder_dir else default_embedder_dir(REPO / "build" / "embedder")
    built = None
    if pool_path is None and (t5_dir / POOL_FILE).is_file():
        pool_path = t5_dir / POOL_FILE
    elif pool_path is None:
        pool_path = REPO / "build" / "reply-pool" / POOL_FILE
        log.info(f"{t5_dir} ships no reply pool: building one into {pool_path}")
        stats = build_reply_pool(pool_path, classifier_dir=best, embedder_dir=embedder_dir, data_dir=data_dir, log=log)
        built = stats.to_dict()
    return evaluate_replies(
        t5_dir,
        Path(pool_path),
        best,
        embedder_dir,
        second_classifier_dir=second,
        baseline_t5_dir=Path(baseline_t5_dir) if baseline_t5_dir else None,
        pool_built=built,
        data_dir=data_dir,
        report_dir=report_dir,
        log=log,
    )
