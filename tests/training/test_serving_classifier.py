"""The serving classifier's pure parts: softmax, label order, the Emotion record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace

from machbot_fn.errors import ModelUnavailable
from machbot_fn.labels import EMOTIONS
from machbot_fn.models.classifier import EmotionClassifier, softmax
from machbot_fn.models.manifest import CLASSIFICATION, FileEntry, Manifest
from machbot_fn.models.runtime import pad_batch


def test_softmax_is_stable_with_huge_logits() -> None:
    probs = softmax(np.array([[1e30, 1e30 - 1e25, -1e30], [1000.0, 0.0, -1000.0]], dtype=np.float64))
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(-1), 1.0)
    assert probs[1, 0] == pytest.approx(1.0)


def test_softmax_matches_definition_on_small_logits() -> None:
    x = np.array([0.5, -1.0, 2.0, 0.0, 0.1, -0.3])
    np.testing.assert_allclose(softmax(x), np.exp(x) / np.exp(x).sum())


def test_softmax_works_on_the_last_axis_of_a_batch() -> None:
    x = np.random.default_rng(0).normal(size=(3, 4, 6)) * 50
    np.testing.assert_allclose(softmax(x).sum(-1), np.ones((3, 4)))


def test_pad_batch_pads_right_and_masks() -> None:
    ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert ids.dtype == np.int64 and mask.dtype == np.int64


def _constant_logits_model(path: Path, logits: list[float]) -> None:
    """logits[b] = constant for every row b (a graph that still reads both inputs, like a real one)."""
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(logits)])
    nodes = [
        helper.make_node("Add", ["input_ids", "attention_mask"], ["s"]),
        helper.make_node("ReduceSum", ["s", "axes"], ["r"], keepdims=1),
        helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["rf", "zero"], ["z"]),
        helper.make_node("Add", ["z", "const"], ["logits"]),
    ]
    inits = [
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("const", TensorProto.FLOAT, [len(logits)], logits),
    ]
    graph = helper.make_graph(nodes, "const", [ids, mask], [out], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _tokenizer(path: Path) -> None:
    tok = Tokenizer(WordLevel({"[PAD]": 0, "[UNK]": 1, "i": 2, "feel": 3, "happy": 4}, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.save(str(path))


def _manifest(model_dir: Path, labels: tuple[str, ...], calibration: dict | None = None) -> Manifest:
    files = {
        name: FileEntry(hashlib.sha256((model_dir / name).read_bytes()).hexdigest(), (model_dir / name).stat().st_size)
        for name in ("model.onnx", "tokenizer.json")
    }
    return Manifest(
        id="bert",
        version="t1",
        task=CLASSIFICATION,
        arch="bert",
        display_name="BERT",
        format="onnx-int8",
        trained=False,
        files=files,
        max_length=16,
        labels=labels,
        calibration=calibration or {},
    )


@pytest.mark.parametrize("labels", [EMOTIONS, tuple(reversed(EMOTIONS))])
def test_classifier_reports_labels_in_manifest_order(tmp_path: Path, labels: tuple[str, ...]) -> None:
    logits = [0.0, 1.0, 5.0, 0.5, -2.0, 0.2]
    _constant_logits_model(tmp_path / "model.onnx", logits)
    _tokenizer(tmp_path / "tokenizer.json")
    clf = EmotionClassifier(_manifest(tmp_path, labels), tmp_path)
    emotion = clf("i feel happy")
    assert emotion.label == labels[2]
    assert list(emotion.scores) == list(labels)
    assert sum(emotion.scores.values()) == pytest.approx(1.0)
    assert emotion.score == pytest.approx(softmax(np.array(logits))[2])
    assert clf.predict_logits(["i feel", "happy happy happy happy"]).shape == (2, 6)
    assert clf.predict_logits([]).shape == (0, 6)


def test_classifier_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    _tokenizer(tmp_path / "tokenizer.json")
    (tmp_path / "model.onnx").write_bytes(b"not onnx")
    manifest = _manifest(tmp_path, EMOTIONS)
    with pytest.raises(ModelUnavailable, match=r"model\.onnx"):
        EmotionClassifier(manifest, tmp_path)
    (tmp_path / "model.onnx").unlink()
    with pytest.raises(ModelUnavailable, match=r"model\.onnx is missing"):
        EmotionClassifier(manifest, tmp_path)


def test_calibration_flattens_probabilities_and_says_when_it_is_not_sure(tmp_path: Path) -> None:
    logits = [0.0, 1.0, 3.0, 0.5, -2.0, 0.2]
    _constant_logits_model(tmp_path / "model.onnx", logits)
    _tokenizer(tmp_path / "tokenizer.json")
    raw = EmotionClassifier(_manifest(tmp_path, EMOTIONS), tmp_path)("i feel happy")
    calibrated = EmotionClassifier(_manifest(tmp_path, EMOTIONS, {"temperature": 2.0, "unsure_below": 0.5}), tmp_path)(
        "i feel happy"
    )
    assert raw.label == calibrated.label == "love"  # temperature never changes the top label
    assert calibrated.score == pytest.approx(softmax(np.array(logits) / 2.0)[2])
    assert calibrated.score < raw.score and not raw.unsure  # no calibration: never "not sure"
    assert calibrated.unsure


def _id_sum_model(path: Path) -> None:
    """logits[b, k] = (k + 1) * sum of the token ids of row b: different words, different logits."""
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 6])
    nodes = [
        helper.make_node("Mul", ["input_ids", "attention_mask"], ["m"]),
        helper.make_node("Cast", ["m"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["f", "axes"], ["s"], keepdims=1),
        helper.make_node("Mul", ["s", "w"], ["logits"]),
    ]
    inits = [
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("w", TensorProto.FLOAT, [6], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    ]
    graph = helper.make_graph(nodes, "idsum", [ids, mask], [out], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_the_classifier_reads_emoji_as_the_words_training_used(tmp_path: Path) -> None:
    _id_sum_model(tmp_path / "model.onnx")
    vocab = {"[PAD]": 0, "[UNK]": 1, "loudly": 5, "crying": 6, "face": 7, "red": 8, "heart": 9}
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.save(str(tmp_path / "tokenizer.json"))
    clf = EmotionClassifier(_manifest(tmp_path, EMOTIONS), tmp_path)
    crying, heart, words = clf.predict_logits(["😭", "❤️", "loudly crying face"])
    np.testing.assert_allclose(crying, words)  # the emoji reached the model as its name
    assert crying[0] == 18 and heart[0] == 17  # not one [UNK] for every emoji
