"""Weights-only int8: int8 storage, fp32 arithmetic, closer to fp32 than dynamic int8."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import helper, numpy_helper

from machbot_fn.models.runtime import load_session
from machbot_train.classifier import collate, encode
from machbot_train.onnx_export import export_classifier_onnx
from machbot_train.quantize import MIN_WEIGHT_ELEMENTS, quantize_int8, quantize_weights_int8, symmetric_int8
from machbot_train.tiny_models import tiny_classifier_model, tiny_wordpiece


@pytest.fixture(scope="module")
def graphs(
    tmp_path_factory: pytest.TempPathFactory, emotion_sample: tuple[list[str], list[int]], quick_fit: Callable
) -> tuple[Path, Path, Path, dict[str, np.ndarray]]:
    texts, labels = emotion_sample
    tokenizer = tiny_wordpiece()
    ids, mask = collate(encode(tokenizer, texts, 64), 0)
    model = tiny_classifier_model("bert", tokenizer.get_vocab_size())
    quick_fit(model, ids, mask, torch.tensor(labels), steps=40)
    out = tmp_path_factory.mktemp("quantize")
    fp32 = export_classifier_onnx(model.eval(), out / "fp32.onnx")
    feeds = {"input_ids": ids.numpy().astype(np.int64), "attention_mask": mask.numpy().astype(np.int64)}
    return fp32, quantize_int8(fp32, out / "dynamic.onnx"), quantize_weights_int8(fp32, out / "weights.onnx"), feeds


def _logits(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    session = load_session(path, 1)
    return np.asarray(session.run(None, feeds)[0])


def test_every_large_weight_is_stored_int8(graphs: tuple) -> None:
    fp32, _, weights, _ = graphs
    stored = {init.name: init for init in onnx.load(str(weights)).graph.initializer}
    large_float = [
        i.name
        for i in stored.values()
        if i.data_type == onnx.TensorProto.FLOAT and int(np.prod(i.dims)) >= MIN_WEIGHT_ELEMENTS
    ]
    assert large_float == []
    int8_elements = sum(int(np.prod(i.dims)) for i in stored.values() if i.data_type == onnx.TensorProto.INT8)
    assert int8_elements > 0
    # Each quantised weight went from 4 bytes to 1; the per-channel scales cost little beside that.
    assert fp32.stat().st_size - weights.stat().st_size > 2.5 * int8_elements


def test_weights_only_is_closer_to_fp32_than_dynamic(graphs: tuple) -> None:
    fp32, dynamic, weights, feeds = graphs
    reference = _logits(fp32, feeds)
    weights_error = np.abs(_logits(weights, feeds) - reference).max()
    dynamic_error = np.abs(_logits(dynamic, feeds) - reference).max()
    assert weights_error < dynamic_error
    assert (_logits(weights, feeds).argmax(-1) == reference.argmax(-1)).mean() >= 0.99


def test_symmetric_int8_round_trips_within_half_a_step() -> None:
    weight = np.random.default_rng(0).normal(size=(64, 96)).astype(np.float32)
    values, scale = symmetric_int8(weight, axis=1)
    assert values.dtype == np.int8 and scale.shape == (96,)
    assert np.all(np.abs(values.astype(np.float32) * scale - weight) <= scale / 2 + 1e-7)


def test_a_graph_without_weights_is_refused(tmp_path: Path) -> None:
    node = helper.make_node("Relu", ["x"], ["y"])
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])
    model = helper.make_model(
        helper.make_graph([node], "relu", [x], [y], [numpy_helper.from_array(np.ones(1, np.float32), "unused")])
    )
    onnx.save(model, str(tmp_path / "relu.onnx"))
    with pytest.raises(ValueError, match="no MatMul or Gather weight"):
        quantize_weights_int8(tmp_path / "relu.onnx", tmp_path / "out.onnx")
