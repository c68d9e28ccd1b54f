"""Train the T5 replier from random initialisation: AdamW, length-bucketed batches, checkpoints, resume.

With `refine` (the default of `machbot train t5`) it learns to retrieve and refine (machbot_train.refine_data): the reply pairs of
`reply_pairs` (three corpora, split by conversation), each source carrying a human reply retrieved
from the reply pool; `refine=False` trains the earlier plain prompt on EmpatheticDialogues alone.

Run directory layout (`runs/t5/`): `tokenizer.json` (trained once, reused on resume), `train.log`,
`checkpoint.pt` (last epoch), `best/` (save_pretrained + tokenizer.json + training.json of the epoch
with the lowest validation loss).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tokenizers import Tokenizer
from transformers import T5ForConditionalGeneration, get_linear_schedule_with_warmup

from machbot_train.checkpoints import resume, save_checkpoint
from machbot_train.progress import RunLog
from machbot_train.random_configs import t5_config
from machbot_train.replier_data import ED_SOURCE, MELD_SOURCE, Pair, corpus_texts, load_pairs, split_pairs
from machbot_train.replier_tokenizer import PAD_ID, train_unigram

IGNORE = -100  # label value cross-entropy skips (padding in the targets)
REFINE_SOURCE_MAX_LENGTH = 128  # room for the retrieved reply (the plain prompt's 96 cut a fifth of them)


@dataclass
class ReplierConfig:
    out_dir: Path = Path("runs")
    name: str = "t5"
    epochs: int = 8
    lr: float = 7e-4
    batch_size: int = 32
    warmup_steps: int = 300
    weight_decay: float = 0.01
    label_smoothing: float = 0.0
    source_max_length: int = 96
    target_max_length: int = 48
    vocab_size: int = 8000
    val_fraction: float = 0.05
    include_meld: bool = False
    refine: bool = False  # `machbot train t5` turns it on
    pool: Path | None = None  # the reply_pool.npz to retrieve from (refine); its embedder must be embedder_dir
    embedder_dir: Path | None = None  # the embedder version directory that made the pool's vectors
    seed: int = 13
    threads: int = 1
    data_dir: Path | None = None
    limit: int | None = None  # only the first N training pairs (smoke runs)
    size: str = "small"
    model_overrides: dict = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name


def data_description(cfg: ReplierConfig) -> str:
    if cfg.refine:
        from machbot_train.reply_pairs import SOURCES

        return (
            "; ".join(SOURCES.values())
            + " (training conversations of machbot_train.reply_pairs), each source with a reply retrieved "
            f"from {cfg.pool.name if cfg.pool else 'the reply pool'} (machbot_train.refine_data)"
        )
    return ED_SOURCE + (f"; plus {MELD_SOURCE}" if cfg.include_meld else "")


def load_training_pairs(cfg: ReplierConfig, log: RunLog) -> tuple[list[Pair], list[Pair]]:
    """(train, validation) pairs: retrieve-and-refine sources (`refine`) or the plain ED prompts."""
    if not cfg.refine:
        train, val = split_pairs(load_pairs(cfg.data_dir, cfg.include_meld), cfg.val_fraction, cfg.seed)
        return (train[: cfg.limit] if cfg.limit else train), val
    built = refine_splits(cfg, log)
    return built["train"], built["validation"]


def refine_splits(
    cfg: ReplierConfig, log: RunLog, names: tuple[str, ...] = ("train", "validation")
) -> dict[str, list[Pair]]:
    """The retrieve-and-refine pairs of the named splits (machbot_train.refine_data), cached in the run
    directory: retrieving for 70k messages takes minutes, and a resumed run or an evaluation reads them."""
    from machbot_fn.models.embedder import SentenceEmbedder
    from machbot_fn.models.reply_pool import ReplyPool
    from machbot_train.refine_data import RefineStats, acceptable, message_vectors, refine_pairs, reply_owners
    from machbot_train.reply_pairs import load_reply_splits
    from machbot_train.version_dir import read_manifest

    if cfg.pool is None or cfg.embedder_dir is None:
        raise ValueError("retrieve-and-refine training needs the reply pool and its embedder (pool, embedder_dir)")
    log.info("reading the dialogue corpora and splitting them by conversation")
    splits = load_reply_splits(cfg.data_dir)
    pool_sha = hashlib.sha256(Path(cfg.pool).read_bytes()).hexdigest()[:16]
    sources = {"train": (splits.train, cfg.seed), "validation": (splits.val, cfg.seed + 1)}
    pool, embedder, owners = None, None, reply_owners(splits.train)
    out = {}
    for name in names:
        pairs, seed = sources[name]
        stats = RefineStats()
        kept = acceptable(pairs, stats)
        if cfg.limit and name == "train":
            kept = kept[: cfg.limit]
        cache = cfg.run_dir / f"refine-{name}-{pool_sha}-{seed}-{len(kept)}.json"
        if cache.is_file():
            out[name] = [Pair(**{**row, "history": tuple(row["history"])}) for row in json.loads(cache.read_text())]
            continue
        if pool is None or embedder is None:
            pool = ReplyPool.load(Path(cfg.pool))
            embedder = SentenceEmbedder(read_manifest(cfg.embedder_dir), cfg.embedder_dir, threads=cfg.threads)
            if pool.embedder != embedder.manifest.versioned_id:
                raise ValueError(
                    f"the pool holds {pool.embedder} vectors, the embedder is {embedder.manifest.versioned_id}"
                )
        vectors = message_vectors(embedder, kept, cfg.run_dir, log)
        log.info(f"retrieving a reply for {len(kept)} {name} messages")
        out[name] = refine_pairs(kept, vectors, pool, owners, seed=seed, stats=stats)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps([asdict(p) for p in out[name]]))
        log.info(f"{name}: {stats.to_dict()}")
    return out


def load_or_train_tokenizer(cfg: ReplierConfig, train_pairs: list[Pair], log: RunLog) -> Tokenizer:
    """The run's tokenizer: trained on the training split only, then frozen for resumes and export."""
    path = cfg.run_dir / "tokenizer.json"
    if path.is_file():
        return Tokenizer.from_file(str(path))
    log.info(f"training a Unigram tokenizer (vocab {cfg.vocab_size}) on {len(train_pairs)} pairs")
    tok = train_unigram(corpus_texts(train_pairs), cfg.vocab_size)
    tok.save(str(path))
    return tok


def encode_pairs(tok: Tokenizer, pairs: list[Pair], cfg: ReplierConfig) -> list[tuple[list[int], list[int]]]:
    tok.no_padding()
    tok.enable_truncation(cfg.source_max_length)
    sources = [e.ids for e in tok.encode_batch([p.source for p in pairs])]
    tok.enable_truncation(cfg.target_max_length)
    targets = [e.ids for e in tok.encode_batch([p.target for p in pairs])]
    return list(zip(sources, targets, strict=True))


def collate(batch: list[tuple[list[int], list[int]]]) -> dict[str, torch.Tensor]:
    """Pad sources with <pad> (masked) and targets with -100 (ignored by the loss)."""
    src_w = max(len(s) for s, _ in batch)
    tgt_w = max(len(t) for _, t in batch)
    input_ids = torch.full((len(batch), src_w), PAD_ID, dtype=torch.long)
    mask = torch.zeros((len(batch), src_w), dtype=torch.long)
    labels = torch.full((len(batch), tgt_w), IGNORE, dtype=torch.long)
    for i, (s, t) in enumerate(batch):
        input_ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
        labels[i, : len(t)] = torch.tensor(t)
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


def bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random, window: int = 50) -> list[list[int]]:
    """Shuffle, sort within windows of `window` batches by length, shuffle the batches: little padding, still random."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    span = batch_size * window
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


@torch.no_grad()
def validation_loss(
    model: T5ForConditionalGeneration, data: list[tuple[list[int], list[int]]], batch_size: int = 64
) -> float:
    """Mean cross-entropy per target token (so exp() of it is the perplexity)."""
    model.eval()
    total, tokens = 0.0, 0
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    for start in range(0, len(order), batch_size):
        batch = collate([data[i] for i in order[start : start + batch_size]])
        logits = model(**batch).logits
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1), ignore_index=IGNORE, reduction="sum"
        )
        total += loss.item()
        tokens += int((batch["labels"] != IGNORE).sum())
    return total / max(tokens, 1)


def train_replier(cfg: ReplierConfig) -> dict:
    """Train (or resume) the T5 replier; returns the best validation metrics."""
    torch.set_num_threads(cfg.threads)
    run_dir = cfg.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    log = RunLog(run_dir / "train.log")
    train_pairs, val_pairs = load_training_pairs(cfg, log)
    tok = load_or_train_tokenizer(cfg, train_pairs, log)
    train_data = encode_pairs(tok, train_pairs, cfg)
    val_data = encode_pairs(tok, val_pairs, cfg)

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model = T5ForConditionalGeneration(t5_config(tok.get_vocab_size(), cfg.size, **cfg.model_overrides))
    steps_per_epoch = math.ceil(len(train_data) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    no_decay = ("bias", "layer_norm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
            "weight_decay": cfg.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(groups, lr=cfg.lr)
    sched = get_linear_schedule_with_warmup(optim, min(cfg.warmup_steps, total // 4), total)

    ckpt_path = run_dir / "checkpoint.pt"
    state = resume(ckpt_path, model, optim, sched, {"val_loss": math.inf})
    start_epoch, best = state.epoch, state.best
    if start_epoch:
        log.info(f"resumed from {ckpt_path} after epoch {start_epoch}")
    params = sum(p.numel() for p in model.parameters())
    log.info(
        f"training T5 ({params / 1e6:.1f} M parameters, random init) on {len(train_data)} pairs, "
        f"{len(val_data)} validation pairs, {cfg.epochs} epochs, {asdict(cfg)}"
    )

    lengths = [len(s) + len(t) for s, t in train_data]
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        batches = bucketed_batches(lengths, cfg.batch_size, random.Random(cfg.seed * 1000 + epoch))
        t0, running = time.time(), 0.0
        with log.progress(f"t5 epoch {epoch + 1}/{cfg.epochs}", len(batches)) as advance:
            for step, idx in enumerate(batches):
                batch = collate([train_data[i] for i in idx])
                logits = model(**batch).logits
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]),
                    batch["labels"].reshape(-1),
                    ignore_index=IGNORE,
                    label_smoothing=cfg.label_smoothing,
                )
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optim.step()
                sched.step()
                optim.zero_grad(set_to_none=True)
                running += loss.item()
                advance(f"loss {running / (step + 1):.4f}")
        val_loss = validation_loss(model, val_data)
        metrics = {
            "epoch": epoch + 1,
            "train_loss": running / len(batches),
            "val_loss": val_loss,
            "val_perplexity": math.exp(val_loss),
            "epoch_seconds": round(time.time() - t0, 1),
        }
        log.info(
            f"epoch {epoch + 1}: val loss {val_loss:.4f} perplexity {metrics['val_perplexity']:.2f} "
            f"({metrics['epoch_seconds']} s)"
        )
        if val_loss < best["val_loss"]:
            best = metrics
            save_replier(model, tok, cfg, run_dir / "best", metrics)
            log.info(f"new best saved to {run_dir / 'best'}")
        save_checkpoint(ckpt_path, model, optim, sched, epoch + 1, best)
    log.info(f"done: best val loss {best['val_loss']:.4f} perplexity {math.exp(best['val_loss']):.2f}")
    return best


def save_replier(
    model: T5ForConditionalGeneration, tok: Tokenizer, cfg: ReplierConfig, out: Path, metrics: dict
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save(str(out / "tokenizer.json"))
    provenance = {
        "arch": "t5",
        "base": "random",
        "init": f"random initialisation (T5, {cfg.size} configuration); Unigram tokenizer trained on the dialogue data",
        "data": data_description(cfg),
        "hyperparameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
    }
    (out / "training.json").write_text(json.dumps({"val": metrics, "provenance": provenance}, indent=2))
