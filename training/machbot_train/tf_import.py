"""TensorFlow/Keras classifier -> registry version directory: ONNX, int8, tokenizer.json, manifest, parity.

`import_tf_classifier(source, out_dir, model_id, version)` loads the source (tf_source), converts
it with tf2onnx (tf_onnx), quantises to int8 like every export (quantize), and checks the result
against TensorFlow (tf_parity) through the serving classifier itself. The version directory is
written only when the check holds; a failed check removes it and raises ParityError.

Runs in the TF environment (.venv-tf: TensorFlow 2.21, tf-keras, transformers 4.57, tf2onnx).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from machbot_fn.models.classifier import EmotionClassifier
from machbot_fn.models.emoji_words import emoji_to_words
from machbot_fn.models.manifest import CLASSIFICATION, Manifest
from machbot_fn.models.registry import sha256_file
from machbot_train.quantize import quantization_note, quantize_int8, quantize_weights_int8
from machbot_train.tf_onnx import convert_to_onnx, converter_description
from machbot_train.tf_parity import ParityReport, compare, parity_texts
from machbot_train.tf_source import (
    KERAS_MODEL,
    SourceError,
    TFClassifier,
    as_log_probabilities,
    load_source,
    looks_like_probabilities,
)
from machbot_train.version_dir import (
    CLASSIFIER_MAX_LENGTH,
    created_timestamp,
    display_name,
    file_entries,
    framework_versions,
    new_version_dir,
    set_current,
    write_manifest,
)

TF_STACK = ("tensorflow", "tf-keras", "keras", "transformers", "tf2onnx", "onnx", "onnxruntime", "tokenizers")
BATCH = 32
UNKNOWN_DATA = "not recorded: trained outside machbot (see the source checkpoint)"


@dataclass(frozen=True)
class ImportResult:
    version_dir: Path
    parity: ParityReport
    source: TFClassifier


def _batched_logits(run: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
    return np.concatenate([run(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])


def _reference_logits(source: TFClassifier, texts: list[str], max_length: int) -> np.ndarray:
    return _batched_logits(lambda chunk: source.run(source.encode(chunk, max_length)), texts)


def _with_reference(source: TFClassifier, texts: list[str], max_length: int) -> tuple[TFClassifier, np.ndarray]:
    """TensorFlow's logits on `texts`; a Keras model that returns probabilities is served as log-probabilities."""
    reference = _reference_logits(source, texts, max_length)
    if source.kind == KERAS_MODEL and looks_like_probabilities(reference):
        source = as_log_probabilities(source)
        reference = _reference_logits(source, texts, max_length)
    return source, reference


def _served_logits(manifest: Manifest, directory: Path, texts: list[str]) -> np.ndarray:
    classifier = EmotionClassifier(manifest, directory, threads=1)
    return _batched_logits(classifier.predict_logits, texts)


def _check_max_length(source: TFClassifier, max_length: int) -> None:
    if not 8 <= max_length <= 4096:
        raise SourceError(f"--max-length {max_length} is out of range (8-4096)")
    if source.max_positions is not None and max_length > source.max_positions:
        raise SourceError(f"--max-length {max_length} exceeds the model's {source.max_positions} positions")


def _provenance(source: TFClassifier, parity: ParityReport, data: str) -> dict:
    return {
        "init": f"converted from TensorFlow checkpoint {source.path} ({source.kind})",
        "source": {
            "path": str(source.path),
            "kind": source.kind,
            "weights": source.weights_file.name,
            "weights_sha256": sha256_file(source.weights_file),
            "labels_from": source.labels_from,
            "outputs": source.outputs,
        },
        "data": data,
        "converter": converter_description(),
        "parity": {**parity.to_dict(), "reference": "TensorFlow on the source's own tokenizer"},
        "created": created_timestamp(),
        "frameworks": framework_versions(TF_STACK),
    }


def import_tf_classifier(
    source_path: Path,
    out_dir: Path,
    model_id: str,
    version: str,
    *,
    labels: tuple[str, ...] | None = None,
    tokenizer: Path | None = None,
    max_length: int = CLASSIFIER_MAX_LENGTH,
    trained: bool = True,
    data: str = UNKNOWN_DATA,
    per_channel: bool = True,
    weights_only: bool = True,
    overwrite: bool = False,
    current: bool = False,
    step: Callable[[str], None] = lambda message: None,
) -> ImportResult:
    """Convert a TF checkpoint dir or Keras file into out_dir/<id>/<version>/; ParityError if it does not match."""
    version_dir = new_version_dir(out_dir, model_id, version, overwrite)
    try:
        step(f"loading {source_path} with TensorFlow")
        source = load_source(Path(source_path), labels, tokenizer)
        _check_max_length(source, max_length)
        texts = parity_texts()
        step(f"running TensorFlow on {len(texts)} sample texts")
        # TensorFlow reads each text as the served classifier will: emoji and emoticons as words.
        source, reference = _with_reference(source, [emoji_to_words(t) for t in texts], max_length)
        with tempfile.TemporaryDirectory(prefix="machbot-tf-import-") as tmp:
            fp32_dir = Path(tmp)
            step("converting to ONNX with tf2onnx")
            convert_to_onnx(source.logits, fp32_dir / "model.onnx")
            step("quantising to int8")
            # As the exported classifiers: int8 weights, fp32 arithmetic (dynamic int8 flips near-ties).
            if weights_only:
                quantize_weights_int8(fp32_dir / "model.onnx", version_dir / "model.onnx")
            else:
                quantize_int8(fp32_dir / "model.onnx", version_dir / "model.onnx", per_channel=per_channel)
            for directory in (fp32_dir, version_dir):
                source.tokenizer.save(str(directory / "tokenizer.json"))
            fields: dict[str, Any] = {
                "id": model_id,
                "version": version,
                "task": CLASSIFICATION,
                "arch": source.arch,
                "display_name": display_name(model_id, trained),
                "format": "onnx-int8",
                "trained": trained,
                "max_length": max_length,
                "labels": source.labels,
            }
            manifest = Manifest(files=file_entries(version_dir), **fields)
            step("checking the ONNX models against TensorFlow")
            fp32 = _served_logits(dataclasses.replace(manifest, format="onnx-fp32"), fp32_dir, texts)
            int8 = _served_logits(manifest, version_dir, texts)
            parity = compare(reference, fp32, int8).check()
        write_manifest(
            version_dir,
            **fields,
            provenance={
                **_provenance(source, parity, data),
                "quantization": quantization_note(True, per_channel, weights_only),
            },
        )
    except BaseException:
        shutil.rmtree(version_dir, ignore_errors=True)  # never leave a half-written or unchecked version behind
        raise
    if current:
        set_current(out_dir, model_id, version)
    return ImportResult(version_dir, parity, source)
