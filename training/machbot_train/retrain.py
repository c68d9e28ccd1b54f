"""Retrain from users' reports: fine-tune the current model with them, compare, publish a candidate.

`retrain` takes the exported reports (`machbot feedback export`: text + the label the user gave),
fine-tunes the PyTorch model behind the current version on those reports mixed with a replay sample
of the original training split (so it learns the corrections without forgetting the rest), exports
it like any classifier, and evaluates candidate and current version, both int8 ONNX as served, on
the test split and on the reports. The candidate is published (uploaded, not promoted) only if it is
not worse: test accuracy at least the current one's minus `tolerance`, and report accuracy at least
the current one's. The reports are part of the fine-tuning data, so their accuracy shows that the
corrections were learned, not how the model generalises; the test split is the held-out judge.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.manifest import Manifest
from machbot_train.batching import onnx_logits
from machbot_train.bundle import package_classifier
from machbot_train.classifier import collate, encode
from machbot_train.data import EmotionSplit, load_emotion_split
from machbot_train.progress import RunLog
from machbot_train.version_dir import created_timestamp, read_manifest, update_metrics


class RetrainError(ValueError):
    """The reports, the checkpoint or the arguments cannot be used (one clear line for the CLI)."""


@dataclass(frozen=True)
class RetrainConfig:
    model_id: str
    feedback: Path  # JSON lines: {"text": ..., "label": ...} as `machbot feedback export` writes them
    checkpoint: Path  # the PyTorch model (save_pretrained + tokenizer.json) behind the current version
    out_dir: Path  # the candidate version directory goes to out_dir/<id>/<version>/
    version: str = ""  # default: <current version>-fb<timestamp>
    epochs: int = 1
    lr: float = 2e-5
    batch_size: int = 32
    replay: int = 2000  # examples of the original training split mixed in
    feedback_weight: int = 4  # each report appears this many times per epoch
    tolerance: float = 0.0  # how much test accuracy the candidate may lose and still count as not worse
    test_limit: int | None = None  # evaluate on the first N test examples only (quick runs)
    data_dir: Path | None = None
    seed: int = 13
    threads: int = 2


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str
    current: dict[str, float]
    candidate: dict[str, float]


def load_reports(path: Path) -> EmotionSplit:
    """Read exported reports; refuse the file with the line number of the first bad row."""
    if not Path(path).is_file():
        raise RetrainError(f"no feedback file at {path} (create one with `machbot feedback export`)")
    texts, labels = [], []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RetrainError(f"{path}:{lineno}: not a JSON line ({exc.msg})") from exc
        text, label = (
            row.get("text") if isinstance(row, dict) else None,
            row.get("label") if isinstance(row, dict) else None,
        )
        if not isinstance(text, str) or not text.strip() or label not in EMOTIONS:
            raise RetrainError(f"{path}:{lineno}: needs a non-empty 'text' and a 'label' from {', '.join(EMOTIONS)}")
        texts.append(text)
        labels.append(EMOTIONS.index(label))
    if not texts:
        raise RetrainError(f"{path} has no reports: nothing to learn from")
    return EmotionSplit(texts, labels)


def judge(current: dict[str, float], candidate: dict[str, float], tolerance: float) -> Verdict:
    """Not worse = test accuracy within `tolerance` of the current one and report accuracy at least as high."""
    drop = current["test_accuracy"] - candidate["test_accuracy"]
    if drop > tolerance + 1e-12:
        reason = f"test accuracy {candidate['test_accuracy']:.4f} is below the current {current['test_accuracy']:.4f}"
        return Verdict(False, reason, current, candidate)
    if candidate["report_accuracy"] < current["report_accuracy"]:
        reason = (
            f"accuracy on the reports {candidate['report_accuracy']:.4f} is below "
            f"the current {current['report_accuracy']:.4f}"
        )
        return Verdict(False, reason, current, candidate)
    return Verdict(True, "not worse on the test split, at least as good on the reports", current, candidate)


def _accuracy(clf: EmotionClassifier, split: EmotionSplit) -> float:
    return float((onnx_logits(clf, split.texts).argmax(-1) == np.asarray(split.labels)).mean())


def score(version_dir: Path, manifest: Manifest, test: EmotionSplit, reports: EmotionSplit) -> dict[str, float]:
    clf = EmotionClassifier(manifest, Path(version_dir), threads=1)
    return {"test_accuracy": _accuracy(clf, test), "report_accuracy": _accuracy(clf, reports)}


def _training_set(cfg: RetrainConfig, reports: EmotionSplit) -> EmotionSplit:
    train = load_emotion_split("train", cfg.data_dir)
    rng = random.Random(cfg.seed)
    picked = rng.sample(range(len(train)), min(cfg.replay, len(train)))
    texts = [train.texts[i] for i in picked] + reports.texts * cfg.feedback_weight
    labels = [train.labels[i] for i in picked] + reports.labels * cfg.feedback_weight
    return EmotionSplit(texts, labels)


def fine_tune(cfg: RetrainConfig, reports: EmotionSplit, log: RunLog) -> tuple[PreTrainedModel, Tokenizer]:
    if not (Path(cfg.checkpoint) / "config.json").is_file() or not (Path(cfg.checkpoint) / "tokenizer.json").is_file():
        raise RetrainError(f"{cfg.checkpoint} is not a trained model directory (config.json + tokenizer.json)")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    model = AutoModelForSequenceClassification.from_pretrained(cfg.checkpoint)
    tokenizer = Tokenizer.from_file(str(Path(cfg.checkpoint) / "tokenizer.json"))
    pad_id = model.config.pad_token_id or 0
    data = _training_set(cfg, reports)
    ids = encode(tokenizer, data.texts, 128)
    labels = torch.tensor(data.labels)
    optim = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    steps = math.ceil(len(ids) / cfg.batch_size)
    rng = random.Random(cfg.seed)
    log.info(f"fine-tuning {cfg.checkpoint} on {len(reports)} reports x{cfg.feedback_weight} + {cfg.replay} replayed")
    for epoch in range(cfg.epochs):
        model.train()
        order = list(range(len(ids)))
        rng.shuffle(order)
        running = 0.0
        with log.progress(f"retrain epoch {epoch + 1}/{cfg.epochs}", steps) as advance:
            for step in range(steps):
                batch = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
                input_ids, mask = collate([ids[i] for i in batch], pad_id)
                loss = torch.nn.functional.cross_entropy(
                    model(input_ids=input_ids, attention_mask=mask).logits, labels[batch]
                )
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optim.step()
                optim.zero_grad(set_to_none=True)
                running += loss.item()
                advance(f"loss {running / (step + 1):.4f}")
    return model.eval(), tokenizer


def retrain(
    cfg: RetrainConfig, current_dir: Path, current: Manifest, log: RunLog | None = None
) -> tuple[Path, Verdict]:
    """Fine-tune, export the candidate into cfg.out_dir and judge it against `current` (its version dir)."""
    log = log or RunLog()
    reports = load_reports(cfg.feedback)
    test = load_emotion_split("test", cfg.data_dir)
    if cfg.test_limit:
        test = EmotionSplit(test.texts[: cfg.test_limit], test.labels[: cfg.test_limit])
    model, tokenizer = fine_tune(cfg, reports, log)
    version = cfg.version or f"{current.version}-fb{time.strftime('%Y%m%d%H%M%S')}"
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    provenance = {
        "init": f"{current.id} {current.version}, fine-tuned on {len(reports)} user reports "
        f"(x{cfg.feedback_weight}) + {cfg.replay} replayed training examples",
        "base": current.provenance.get("base"),
        "parent": {"id": current.id, "version": current.version},
        "data": f"{current.provenance.get('data', 'emotion train split')}; user reports ({len(reports)})",
        "hyperparameters": settings,
        "created": created_timestamp(),
    }
    candidate_dir = package_classifier(
        model, tokenizer, cfg.out_dir, cfg.model_id, version, trained=True, provenance=provenance
    )
    candidate = read_manifest(candidate_dir)
    current_scores = score(current_dir, current, test, reports)
    candidate_scores = score(candidate_dir, candidate, test, reports)
    verdict = judge(current_scores, candidate_scores, cfg.tolerance)
    update_metrics(
        candidate_dir,
        {
            "split": "test" if not cfg.test_limit else f"test[:{cfg.test_limit}]",
            "accuracy": round(candidate_scores["test_accuracy"], 4),
            "report_accuracy": round(candidate_scores["report_accuracy"], 4),
            "compared_with": {"version": current.version, **{k: round(v, 4) for k, v in current_scores.items()}},
        },
    )
    log.info(
        f"current {current.version}: test {current_scores['test_accuracy']:.4f}, reports "
        f"{current_scores['report_accuracy']:.4f}; candidate {version}: test {candidate_scores['test_accuracy']:.4f}, "
        f"reports {candidate_scores['report_accuracy']:.4f} -> {'accepted' if verdict.accepted else 'refused'}"
    )
    return candidate_dir, verdict


def report(verdict: Verdict, candidate_dir: Path) -> dict[str, Any]:
    return {"candidate": str(candidate_dir), **asdict(verdict)}
