"""Fine-tune an emotion classifier: dynamic padding, per-epoch checkpoints, resume, best-on-val.

Run directory layout (`runs/<arch>/`): `train.log`, `checkpoint.pt` (last epoch, for resume),
`best/` (save_pretrained + tokenizer.json + metrics.json of the best validation epoch).
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
from machbot_train.bases import ResolvedBase, resolve_base
from machbot_train.checkpoints import resume, save_checkpoint
from machbot_train.data import EmotionSplit, load_emotion_split
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
    max_length: int = 128
    warmup: float = 0.06
    weight_decay: float = 0.01
    class_weight_power: float = 0.5  # 0 = plain CE; 0.5 = sqrt inverse frequency (helps the rare 'surprise')
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
    return [e.ids for e in tokenizer.encode_batch(texts)]


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


def scores(labels: list[int], logits: np.ndarray) -> dict:
    pred = logits.argmax(-1)
    per_class = f1_score(labels, pred, average=None, labels=list(range(len(EMOTIONS))), zero_division=0)
    return {
        "accuracy": float(accuracy_score(labels, pred)),
        "macro_f1": float(f1_score(labels, pred, average="macro", zero_division=0)),
        "per_class_f1": {label: float(v) for label, v in zip(EMOTIONS, per_class, strict=True)},
    }


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

    train_split = load_emotion_split("train", cfg.data_dir)
    val_split = load_emotion_split("val", cfg.data_dir)
    if cfg.limit:
        train_split = EmotionSplit(train_split.texts[: cfg.limit], train_split.labels[: cfg.limit])
    train_ids = encode(tokenizer, train_split.texts, cfg.max_length)
    val_ids = encode(tokenizer, val_split.texts, cfg.max_length)

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
    class_w = _class_weights(train_split.labels, cfg.class_weight_power)
    teacher = _teacher_logits(cfg, train_ids, pad_id, log) if cfg.teacher else None

    ckpt_path = run_dir / "checkpoint.pt"
    start_epoch, best = resume(ckpt_path, model, optim, sched, {"macro_f1": -1.0})
    if start_epoch:
        log.info(f"resumed from {ckpt_path} after epoch {start_epoch}")
    log.info(
        f"training {cfg.arch} from {base.describe()} on {len(train_ids)} examples, {cfg.epochs} epochs, {asdict(cfg)}"
    )

    labels_t = torch.tensor(train_split.labels)
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        order = list(range(len(train_ids)))
        random.shuffle(order)
        t0, running = time.time(), 0.0
        with log.progress(f"{cfg.arch} epoch {epoch + 1}/{cfg.epochs}", steps_per_epoch) as advance:
            for step in range(steps_per_epoch):
                idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
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
        metrics = scores(val_split.labels, predict_logits(model, val_ids, pad_id))
        metrics.update(epoch=epoch + 1, train_loss=running / steps_per_epoch, epoch_seconds=round(time.time() - t0, 1))
        log.info(
            f"epoch {epoch + 1}: val acc {metrics['accuracy']:.4f} macro-F1 {metrics['macro_f1']:.4f} "
            f"surprise F1 {metrics['per_class_f1']['surprise']:.3f} ({metrics['epoch_seconds']} s)"
        )
        if metrics["macro_f1"] > best["macro_f1"]:
            best = metrics
            save_trained(model, base, cfg, run_dir / "best", metrics)
            log.info(f"new best saved to {run_dir / 'best'}")
        save_checkpoint(ckpt_path, model, optim, sched, epoch + 1, best)
    log.info(f"done: best val acc {best.get('accuracy', 0):.4f} macro-F1 {best['macro_f1']:.4f}")
    return best


def save_trained(model: PreTrainedModel, base: ResolvedBase, cfg: TrainConfig, out: Path, metrics: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    base.tokenizer().save(str(out / "tokenizer.json"))
    provenance = {
        "arch": cfg.arch,
        "base": cfg.base,
        "init": base.describe() + (f"; {_embedding_note(cfg.embedding_init)}" if cfg.embedding_init else ""),
        "teacher": str(cfg.teacher) if cfg.teacher else None,
        "hyperparameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
    }
    (out / "training.json").write_text(json.dumps({"val": metrics, "provenance": provenance}, indent=2))


def _embedding_note(how: str) -> str:
    from machbot_train.embedding_init import describe

    return describe(how)
