"""Tiny random models, built in seconds: test fixtures and the untrained placeholders of the local stack.

Each is a real model of its architecture (2 layers, hidden 32) with a real tokenizer (a few hundred
pieces over the start of the emotion training set, from tiny_tokenizers.py), exported through the
same ONNX + int8 path as the trained models. Seeded, so a rebuild gives the same weights; the
manifest says `trained: false` and the display name "(untrained)". Their outputs mean nothing.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel, T5ForConditionalGeneration

from machbot_fn.labels import EMOTIONS, REPLIER_ID
from machbot_train.bundle import ExportOptions, package_classifier, package_replier
from machbot_train.random_configs import CLASSIFIER_ARCHS, random_config, t5_config
from machbot_train.tiny_tokenizers import tiny_unigram, tiny_wordpiece
from machbot_train.version_dir import created_timestamp, framework_versions

SEED = 1234
TINY_VERSION = "tiny-1"
TINY_MAX_NEW_TOKENS = 12


def _tiny_provenance(what: str) -> dict:
    return {
        "init": f"random initialisation, tiny {what} configuration (seed {SEED}); untrained placeholder",
        "data": "none (untrained); tokenizer trained on the first lines of the CARER emotion training set",
        "created": created_timestamp(),
        "frameworks": framework_versions(),
    }


def tiny_classifier_model(arch: str, vocab_size: int) -> PreTrainedModel:
    if arch not in CLASSIFIER_ARCHS:
        raise ValueError(f"unknown classifier architecture {arch!r}; expected one of {', '.join(CLASSIFIER_ARCHS)}")
    torch.manual_seed(SEED)
    config = random_config(
        arch,
        None,
        size="tiny",
        vocab_size=vocab_size,
        pad_token_id=0,
        num_labels=len(EMOTIONS),
        id2label=dict(enumerate(EMOTIONS)),
        label2id={label: i for i, label in enumerate(EMOTIONS)},
    )
    return AutoModelForSequenceClassification.from_config(config).eval()


def tiny_replier_model(vocab_size: int) -> T5ForConditionalGeneration:
    torch.manual_seed(SEED)
    return T5ForConditionalGeneration(t5_config(vocab_size, "tiny")).eval()


def build_tiny_classifier(
    out_dir: Path,
    model_id: str,
    arch: str,
    version: str = TINY_VERSION,
    *,
    overwrite: bool = True,
    current: bool = False,
    fp32_path: Path | None = None,
) -> Path:
    """An untrained tiny `arch` classifier as `out_dir/<model_id>/<version>/`; returns that directory."""
    tokenizer = tiny_wordpiece()
    model = tiny_classifier_model(arch, tokenizer.get_vocab_size())
    return package_classifier(
        model,
        tokenizer,
        out_dir,
        model_id,
        version,
        trained=False,
        provenance=_tiny_provenance(arch),
        options=ExportOptions(overwrite=overwrite, current=current, fp32_path=fp32_path),
    )


def build_tiny_replier(
    out_dir: Path,
    version: str = TINY_VERSION,
    *,
    model_id: str = REPLIER_ID,
    overwrite: bool = True,
    current: bool = False,
    fp32_dir: Path | None = None,
) -> Path:
    """An untrained tiny T5 replier as `out_dir/<model_id>/<version>/`; returns that directory."""
    tokenizer = tiny_unigram()
    model = tiny_replier_model(tokenizer.get_vocab_size())
    return package_replier(
        model,
        tokenizer,
        out_dir,
        version,
        trained=False,
        provenance=_tiny_provenance("T5"),
        model_id=model_id,
        options=ExportOptions(
            max_new_tokens=TINY_MAX_NEW_TOKENS, overwrite=overwrite, current=current, fp32_dir=fp32_dir
        ),
    )
