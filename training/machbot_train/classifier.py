"""Fine-tune an emotion classifier: dynamic padding, checkpoints within epochs, resume, best-on-val.

Data: the multi-domain mix (`emotion_mix`, the default) or the tweets alone (`data="tweets"`, the
first release's recipe). Model selection: the mean macro-F1 over the validation splits, each corpus
weighing the same. Every text goes through `emoji_to_words`, as it does when served.

Run directory layout (`runs/<arch>/`): `train.log`, `checkpoint.pt` (every `checkpoint_every`
steps and at each epoch's end, for resume), `best/` (save_pretrained + tokenizer.json +
training.json of the best validation epoch).
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification, PreTrainedModel, get_linear_schedule_with_warmup

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.emoji_words import emoji_to_words
from machbot_train.bases import ResolvedBase, resolve_base
from machbot_train.bundle import training_record
from machbot_train.chat_corpora import LabelledText
from machbot_train.checkpoints import resume, save_checkpoint
from machbot_train.emotion_mix import build_mix
from machbot_train.label_mapping import FIVE_LABELS
from machbot_train.progress import RunLog
from machbot_train.weight_mapping import MAPPED_ARCHS, load_mapped, target_config


@dataclass
class TrainConfig:
    arch: str
    base: str = "minilm"
    out_dir: Path = Path("runs")
    epochs: int = 3
    lr: float = 1e-4
    batch_size: int = 32
    max_length: int = 64  # chat messages are short; 64 WordPieces cover 98 % of the mix
    data: str = "mix"  # "mix" (emotion_mix) or "tweets"
    checkpoint_every: int = 200  # steps between mid-epoch checkpoints
    warmup: float = 0.06
    weight_decay: float = 0.01
    class_weight_power: float = 0.5  # 0 = plain CE; 0.5 = sqrt inverse frequency (helps the rare 'surprise')
    corpus_repeat: dict[str, int] = field(default_factory=dict)  # e.g. {"dailydialog": 2}: shown twice per epoch
    seed: int = 13
    threads: int = 2
    data_dir: Path | None = None
    limit: int | None = None  # use only the first N training examples (smoke runs)
    teacher: Path | None = None  # a trained classifier dir: distil from its logits
    distill_alpha: float = 0.5
    distill_temperature: float = 2.0
    model_overrides: dict = field(default_factory=dict)
    embedding_init: str | None = None  # e.g. "minilm-pca" (machbot_train.embedding_init) for random bases

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.arch


def build_model(arch: str, base: ResolvedBase, overrides: dict | None = None) -> PreTrainedModel:
    """A sequence classifier of `arch` initialised from `base` (mapped MiniLM, a checkpoint, or random)."""
    labels: dict[str, Any] = {
        "num_labels": len(EMOTIONS),
        "id2label": dict(enumerate(EMOTIONS)),
        "label2id": {label: i for i, label in enumerate(EMOTIONS)},
    }
    if base.kind == "minilm" and arch in MAPPED_ARCHS:
        config = target_config(arch, base.bert_config(), **labels)
        model = AutoModelForSequenceClassification.from_config(config)
        load_mapped(model, arch, base.bert_state_dict(), pad_idx=config.pad_token_id)
        return model
    if base.kind == "random":
        from machbot_train.random_configs import random_config

        return AutoModelForSequenceClassification.from_config(random_config(arch, base, **labels, **(overrides or {})))
    return AutoModelForSequenceClassification.from_pretrained(base.path_or_id, **labels, ignore_mismatched_sizes=True)


def encode(tokenizer: Tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    return [e.ids for e in tokenizer.encode_batch([emoji_to_words(t) for t in texts])]


def collate(ids: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad a batch to its own longest sequence (dynamic padding)."""
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    return input_ids, mask


@torch.no_grad()
def predict_logits(model: torch.nn.Module, ids: list[list[int]], pad_id: int, batch_size: int = 128) -> np.ndarray:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), len(EMOTIONS)), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        input_ids, mask = collate([ids[i] for i in chunk], pad_id)
        out[chunk] = model(input_ids=input_ids, attention_mask=mask).logits.float().numpy()
    return out


def scores(labels: list[int], logits: np.ndarray, macro_over: tuple[str, ...] = EMOTIONS) -> dict:
    pred = logits.argmax(-1)
    per_class = f1_score(labels, pred, average=None, labels=list(range(len(EMOTIONS))), zero_division=0)
    macro_ids = [EMOTIONS.index(label) for label in macro_over]
    return {
        "accuracy": float(accuracy_score(labels, pred)),
        "macro_f1": float(f1_score(labels, pred, average="macro", labels=macro_ids, zero_division=0)),
        "per_class_f1": {label: float(v) for label, v in zip(EMOTIONS, per_class, strict=True)},
    }


def macro_labels(rows: list[LabelledText]) -> tuple[str, ...]:
    """The labels a set's macro-F1 averages: all six, or the five where a set has no love."""
    return EMOTIONS if any(row.label == "love" for row in rows) else FIVE_LABELS


@dataclass(frozen=True)
class TrainingData:
    train: list[LabelledText]
    val: dict[str, list[LabelledText]]
    summary: dict


def load_training_data(cfg: TrainConfig) -> TrainingData:
    if cfg.data == "mix":
        mix = build_mix(cfg.data_dir, seed=cfg.seed, corpus_repeat=cfg.corpus_repeat)
        train_rows, val, summary = mix.train, mix.val, mix.summary()
    elif cfg.data == "tweets":
        from machbot_train.chat_corpora import load_corpus

        train_rows = load_corpus("tweets", "train", cfg.data_dir)
        val = {"tweets": load_corpus("tweets", "val", cfg.data_dir)}
        summary = {"train": {"tweets": len(train_rows)}}
    else:
        raise ValueError(f"unknown training data {cfg.data!r}; expected 'mix' or 'tweets'")
    if cfg.limit:
        train_rows = train_rows[: cfg.limit]
        val = {name: rows[: max(cfg.limit // 4, 1)] for name, rows in val.items()}
    return TrainingData(train_rows, val, summary)


def validate(model: torch.nn.Module, val_ids: dict[str, list[list[int]]], data: TrainingData, pad_id: int) -> dict:
    """Per-corpus validation scores and their mean macro-F1 (the selection metric)."""
    per_corpus = {}
    for name, ids in val_ids.items():
        rows = data.val[name]
        labels = [EMOTIONS.index(row.label) for row in rows]
        per_corpus[name] = scores(labels, predict_logits(model, ids, pad_id), macro_labels(rows))
    mean = float(np.mean([m["macro_f1"] for m in per_corpus.values()]))
    return {"macro_f1": mean, "per_corpus": per_corpus, "accuracy": per_corpus[next(iter(per_corpus))]["accuracy"]}


def length_bucketed_batches(
    ids: list[list[int]], batch_size: int, rng: random.Random, window: int = 50
) -> list[list[int]]:
    """Shuffled batches, each of texts of similar length (less padding, about half
    the compute on chat-length texts): shuffle, sort within windows of `window` batches, shuffle the
    batches. Seeded, so a resumed run replays the same order."""
    order = list(range(len(ids)))
    rng.shuffle(order)
    span = batch_size * window
    batches = []
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span], key=lambda i: len(ids[i]))
        batches += [chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _class_weights(labels: list[int], power: float) -> torch.Tensor:
    counts = np.bincount(labels, minlength=len(EMOTIONS)).astype(np.float64)
    w = (counts.sum() / np.maximum(counts, 1)) ** power
    return torch.tensor(w / (w * counts / counts.sum()).sum(), dtype=torch.float32)


def _teacher_logits(cfg: TrainConfig, train_ids: list[list[int]], pad_id: int, log: RunLog) -> torch.Tensor:
    cache = cfg.run_dir / "teacher_logits.npy"
    if cache.exists():
        return torch.from_numpy(np.load(cache))
    log.info(f"computing teacher logits from {cfg.teacher}")
    if cfg.teacher is None:
        raise ValueError("no teacher to distil from")
    teacher = AutoModelForSequenceClassification.from_pretrained(cfg.teacher)
    logits = predict_logits(teacher, train_ids, pad_id)
    np.save(cache, logits)
    return torch.from_numpy(logits)


def train(cfg: TrainConfig) -> dict:
    """Train (or resume) and return the best validation metrics."""
    torch.set_num_threads(cfg.threads)
    run_dir = cfg.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    log = RunLog(run_dir / "train.log")
    base = resolve_base(cfg.base, cfg.arch)
    tokenizer = base.tokenizer()
    pad_id = base.pad_token_id

    data = load_training_data(cfg)
    train_ids = encode(tokenizer, [row.text for row in data.train], cfg.max_length)
    train_labels = [EMOTIONS.index(row.label) for row in data.train]
    val_ids = {name: encode(tokenizer, [row.text for row in rows], cfg.max_length) for name, rows in data.val.items()}

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.arch, base, cfg.model_overrides)
    if cfg.embedding_init:
        from machbot_train.embedding_init import init_embeddings

        init_embeddings(model, cfg.embedding_init)
    steps_per_epoch = math.ceil(len(train_ids) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
            "weight_decay": cfg.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(groups, lr=cfg.lr)
    sched = get_linear_schedule_with_warmup(optim, int(cfg.warmup * total), total)
    class_w = _class_weights(train_labels, cfg.class_weight_power)
    teacher = _teacher_logits(cfg, train_ids, pad_id, log) if cfg.teacher else None

    ckpt_path = run_dir / "checkpoint.pt"
    state = resume(ckpt_path, model, optim, sched, {"macro_f1": -1.0})
    best = state.best
    if state.epoch or state.step:
        log.info(f"resumed from {ckpt_path} at epoch {state.epoch + 1}, step {state.step}")
    log.info(
        f"training {cfg.arch} from {base.describe()} on {len(train_ids)} examples, {cfg.epochs} epochs, {asdict(cfg)}"
    )
    log.info(f"data: {json.dumps(data.summary)}")

    labels_t = torch.tensor(train_labels)
    for epoch in range(state.epoch, cfg.epochs):
        model.train()
        batches = length_bucketed_batches(train_ids, cfg.batch_size, random.Random(cfg.seed * 1000 + epoch))
        first = state.step if epoch == state.epoch else 0
        t0, running = time.time(), state.running_loss if first else 0.0
        with log.progress(f"{cfg.arch} epoch {epoch + 1}/{cfg.epochs}", steps_per_epoch - first) as advance:
            for step in range(first, steps_per_epoch):
                idx = batches[step]
                input_ids, mask = collate([train_ids[i] for i in idx], pad_id)
                logits = model(input_ids=input_ids, attention_mask=mask).logits
                loss = torch.nn.functional.cross_entropy(logits, labels_t[idx], weight=class_w)
                if teacher is not None:
                    t = cfg.distill_temperature
                    kd = torch.nn.functional.kl_div(
                        torch.log_softmax(logits / t, -1), torch.softmax(teacher[idx] / t, -1), reduction="batchmean"
                    ) * (t * t)
                    loss = cfg.distill_alpha * loss + (1 - cfg.distill_alpha) * kd
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optim.step()
                sched.step()
                optim.zero_grad(set_to_none=True)
                running += loss.item()
                advance(f"loss {running / (step + 1):.4f}")
                if (step + 1) % cfg.checkpoint_every == 0 and step + 1 < steps_per_epoch:
                    save_checkpoint(ckpt_path, model, optim, sched, epoch, best, step=step + 1, running_loss=running)
        metrics = validate(model, val_ids, data, pad_id)
        metrics.update(epoch=epoch + 1, train_loss=running / steps_per_epoch, epoch_seconds=round(time.time() - t0, 1))
        per_corpus = ", ".join(
            f"{name} {m['accuracy']:.3f}/{m['macro_f1']:.3f}" for name, m in metrics["per_corpus"].items()
        )
        log.info(f"epoch {epoch + 1}: val mean macro-F1 {metrics['macro_f1']:.4f} (acc/macro-F1: {per_corpus})")
        if metrics["macro_f1"] > best["macro_f1"]:
            best = metrics
            save_trained(model, base, cfg, run_dir / "best", metrics, data.summary)
            log.info(f"new best saved to {run_dir / 'best'}")
        save_checkpoint(ckpt_path, model, optim, sched, epoch + 1, best)
    log.info(f"done: best val acc {best.get('accuracy', 0):.4f} macro-F1 {best['macro_f1']:.4f}")
    return best


def save_trained(
    model: PreTrainedModel, base: ResolvedBase, cfg: TrainConfig, out: Path, metrics: dict, data: dict | None = None
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    base.tokenizer().save(str(out / "tokenizer.json"))
    provenance = {
        "arch": cfg.arch,
        "base": cfg.base,
        "init": base.describe() + (f"; {_embedding_note(cfg.embedding_init)}" if cfg.embedding_init else ""),
        "teacher": describe_teacher(cfg.teacher) if cfg.teacher else None,
        "training_data": data or {},
        "hyperparameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
    }
    (out / "training.json").write_text(json.dumps({"val": metrics, "provenance": provenance}, indent=2))


def describe_teacher(teacher: Path) -> dict:
    """Which model taught this one: its architecture, the epoch it was saved at and its validation
    score, read from its training.json (a run path alone says nothing once the run is gone)."""
    note: dict[str, Any] = {"path": str(teacher)}
    if trained := training_record(Path(teacher)):
        note |= {
            "arch": trained.get("provenance", {}).get("arch"),
            "epoch": trained.get("val", {}).get("epoch"),
            "val_macro_f1": trained.get("val", {}).get("macro_f1"),
        }
    return note


def _embedding_note(how: str) -> str:
    from machbot_train.embedding_init import describe

    return describe(how)
