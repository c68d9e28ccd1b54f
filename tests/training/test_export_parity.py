"""Exported classifiers match PyTorch: fp32 ONNX to within float noise, int8 on the argmax."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from machbot_fn.models.classifier import EmotionClassifier
from machbot_train.bundle import ExportOptions, package_classifier
from machbot_train.classifier import collate, encode
from machbot_train.random_configs import CLASSIFIER_ARCHS
from machbot_train.tiny_models import tiny_classifier_model, tiny_wordpiece
from machbot_train.version_dir import read_manifest

MAX_LENGTH = 128
FP32_ATOL = 1e-4
INT8_MIN_AGREEMENT = 0.95


@pytest.fixture(scope="module")
def exported(
    tiny_root: Path, emotion_sample: tuple[list[str], list[int]], quick_fit: Callable[..., None]
) -> dict[str, tuple[torch.nn.Module, EmotionClassifier, EmotionClassifier, list[str]]]:
    """Per architecture: the fitted PyTorch model, its fp32 and int8 serving classifiers, the texts used."""
    texts, labels = emotion_sample
    tokenizer = tiny_wordpiece()
    ids, mask = collate(encode(tokenizer, texts, MAX_LENGTH), 0)
    out = {}
    for arch in CLASSIFIER_ARCHS:
        model = tiny_classifier_model(arch, tokenizer.get_vocab_size())
        quick_fit(model, ids, mask, torch.tensor(labels), steps=40)
        served = {}
        for fmt, quantize in (("fp32", False), ("int8", True)):
            version_dir = package_classifier(
                model,
                tokenizer,
                tiny_root / fmt,
                arch,
                "parity-1",
                trained=False,
                provenance={"init": "test"},
                options=ExportOptions(quantize=quantize, overwrite=True),
            )
            served[fmt] = EmotionClassifier(read_manifest(version_dir), version_dir)
        out[arch] = (model, served["fp32"], served["int8"], texts)
    return out


def _torch_logits(model: torch.nn.Module, clf: EmotionClassifier, texts: list[str]) -> np.ndarray:
    ids, mask = collate(encode(clf.tokenizer, texts, MAX_LENGTH), clf.pad_id)
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits.numpy()


@pytest.mark.parametrize("arch", CLASSIFIER_ARCHS)
def test_fp32_onnx_matches_pytorch(exported: dict, arch: str, sample_texts: list[str]) -> None:
    model, fp32, _, _ = exported[arch]
    # One padded batch (mixed lengths, an empty text, a truncated one) and single texts.
    batch = fp32.predict_logits(sample_texts)
    np.testing.assert_allclose(batch, _torch_logits(model, fp32, sample_texts), atol=FP32_ATOL)
    for text in sample_texts[:3]:
        np.testing.assert_allclose(fp32.predict_logits([text]), _torch_logits(model, fp32, [text]), atol=FP32_ATOL)


@pytest.mark.parametrize("arch", CLASSIFIER_ARCHS)
def test_int8_agrees_on_argmax(exported: dict, arch: str) -> None:
    model, fp32, int8, texts = exported[arch]
    reference = _torch_logits(model, fp32, texts).argmax(-1)
    agreement = float((int8.predict_logits(texts).argmax(-1) == reference).mean())
    assert agreement >= INT8_MIN_AGREEMENT, f"{arch}: int8 agrees with fp32 on {agreement:.1%} of inputs"


@pytest.mark.parametrize("arch", CLASSIFIER_ARCHS)
def test_int8_is_smaller_and_emotions_are_complete(exported: dict, arch: str, tiny_root: Path) -> None:
    _, _, int8, _ = exported[arch]
    fp32_size = (tiny_root / "fp32" / arch / "parity-1" / "model.onnx").stat().st_size
    int8_size = (tiny_root / "int8" / arch / "parity-1" / "model.onnx").stat().st_size
    assert int8_size < fp32_size
    emotion = int8("i am so happy")
    assert set(emotion.scores) == set(int8.labels)
    assert sum(emotion.scores.values()) == pytest.approx(1.0)
