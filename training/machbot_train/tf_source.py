"""A researcher's TensorFlow classifier, loaded as one function: int64 `input_ids`, `attention_mask` -> logits.

Two kinds of source are accepted:

- a Hugging Face TF checkpoint directory: `tf_model.h5` + `config.json` (+ a tokenizer:
  `tokenizer.json`, or `vocab.txt` / `tokenizer_config.json` that transformers converts), loaded
  with `TFAutoModelForSequenceClassification` from transformers 4.x (5.x has no TF classes);
- a Keras model file (`.keras` from Keras 3, or a legacy `.h5` from Keras 2 / tf-keras) whose inputs
  are named `input_ids` and `attention_mask` (`token_type_ids` optional, fed zeros) and whose one
  output is [batch, 6] logits or softmax probabilities; its tokenizer comes from `--tokenizer`.

`detect_kind` needs no TensorFlow, so the CLI can reject a bad path before it starts the TF
environment. Everything else imports TensorFlow when called.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from machbot_fn.labels import EMOTIONS
from machbot_train.source_tokenizer import EncodedBatch, Encoder, TokenizerError, load_tokenizer

HF_CHECKPOINT = "Hugging Face TF checkpoint"
KERAS_MODEL = "Keras model"
HF_WEIGHTS = "tf_model.h5"
KERAS_SUFFIXES = (".keras", ".h5")
INPUTS = ("input_ids", "attention_mask")
OPTIONAL_INPUTS = ("token_type_ids",)
# The emotion dataset numbers its labels in this order, so a model trained on its ids uses it.
DATASET_ORDER = "the emotion dataset's label ids 0-5 (no label names in the model)"


class SourceError(ValueError):
    """The checkpoint or model cannot be imported as given; the message says what to change."""


def detect_kind(path: Path) -> str:
    """HF_CHECKPOINT or KERAS_MODEL, from the files alone (no TensorFlow); SourceError otherwise."""
    path = Path(path)
    if path.is_dir():
        missing = [name for name in (HF_WEIGHTS, "config.json") if not (path / name).is_file()]
        if missing:
            raise SourceError(
                f"{path} is a directory without {' and '.join(missing)}: expected a Hugging Face TF checkpoint "
                f"(save_pretrained of a TF model) or a Keras model file ({', '.join(KERAS_SUFFIXES)})"
            )
        return HF_CHECKPOINT
    if path.is_file():
        if path.suffix not in KERAS_SUFFIXES:
            raise SourceError(
                f"{path} is not a Keras model file ({', '.join(KERAS_SUFFIXES)}) or a checkpoint directory"
            )
        return KERAS_MODEL
    raise SourceError(f"{path} does not exist")


def parse_labels(text: str | None) -> tuple[str, ...] | None:
    """`--labels sadness,joy,...`: the six emotions in the order of the model's outputs."""
    if text is None:
        return None
    labels = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    if sorted(labels) != sorted(EMOTIONS):
        raise SourceError(f"--labels must name the six emotions {', '.join(EMOTIONS)} once each, got {text!r}")
    return labels


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """TensorFlow's C++ side logs a few start-up lines (oneDNN, no CUDA) to fd 2 before any setting applies."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow() -> Any:
    """TensorFlow with its start-up chatter silenced and Keras 3 on the TensorFlow backend."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    try:
        with _native_stderr_silenced():
            import tensorflow as tf
    except ImportError as exc:
        raise SourceError(f"TensorFlow is not installed here ({exc}); run `make tf-setup`") from exc
    return tf


def signature() -> tuple[Any, ...]:
    tf = import_tensorflow()
    return tuple(tf.TensorSpec([None, None], tf.int64, name=name) for name in INPUTS)


@dataclass
class TFClassifier:
    """A loaded source: the function to convert, its labels and tokenizers, and what they came from."""

    kind: str
    path: Path
    arch: str
    labels: tuple[str, ...]
    labels_from: str
    logits: Any  # tf.function(input_ids, attention_mask) -> {"logits": [batch, labels]}
    tokenizer: Tokenizer  # what ships as tokenizer.json
    encode: Encoder  # the source's own tokenization, for the parity check
    weights_file: Path
    max_positions: int | None = None
    outputs: str = "logits"

    def run(self, batch: EncodedBatch) -> np.ndarray:
        tf = import_tensorflow()
        out = self.logits(tf.constant(batch.input_ids, tf.int64), tf.constant(batch.attention_mask, tf.int64))
        return out["logits"].numpy()


# --- tokenizers -------------------------------------------------------------------------------------


def _tokenizer(source: Path) -> tuple[Tokenizer, Encoder]:
    try:
        return load_tokenizer(source)
    except TokenizerError as exc:
        raise SourceError(str(exc)) from exc


def _labels_from_config(id2label: dict[Any, str], given: tuple[str, ...] | None) -> tuple[tuple[str, ...], str]:
    if given is not None:
        return given, "--labels"
    names = tuple(str(id2label[k]).strip().lower() for k in sorted(id2label, key=int))
    if sorted(names) == sorted(EMOTIONS):
        return names, "the checkpoint's config (id2label)"
    if len(names) == len(EMOTIONS) and all(n.startswith("label_") for n in names):
        return EMOTIONS, DATASET_ORDER
    raise SourceError(
        f"the model's outputs are labelled {list(names)}; pass --labels with the six emotions in output order"
    )


def _transformers_tf() -> Any:
    import transformers

    major = int(transformers.__version__.split(".")[0])
    if major >= 5:
        raise SourceError(
            f"transformers {transformers.__version__} has no TensorFlow model classes (removed in 5.0); "
            "run this in the TF environment (`make tf-setup`, transformers 4.57)"
        )
    transformers.logging.set_verbosity_error()  # the "TF classes are deprecated" and unused-layer notices
    return transformers


def load_hf_checkpoint(path: Path, labels: tuple[str, ...] | None, tokenizer: Path | None) -> TFClassifier:
    tf = import_tensorflow()
    transformers = _transformers_tf()
    try:
        config = transformers.AutoConfig.from_pretrained(str(path), local_files_only=True)
        model = transformers.TFAutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise SourceError(f"cannot load {path} as a TF sequence classifier: {str(exc).splitlines()[0]}") from exc
    if config.num_labels != len(EMOTIONS):
        raise SourceError(f"the checkpoint classifies into {config.num_labels} labels; machbot serves the six emotions")
    resolved, labels_from = _labels_from_config(config.id2label, labels)
    takes_token_types = "token_type_ids" in model.input_signature

    @tf.function(input_signature=signature())
    def logits(input_ids: Any, attention_mask: Any) -> dict[str, Any]:
        extra = {"token_type_ids": tf.zeros_like(input_ids)} if takes_token_types else {}
        out = model(input_ids=input_ids, attention_mask=attention_mask, training=False, **extra)
        return {"logits": out.logits}

    ship, encode = _tokenizer(tokenizer or path)
    return TFClassifier(
        kind=HF_CHECKPOINT,
        path=Path(path),
        arch=config.model_type,
        labels=resolved,
        labels_from=labels_from,
        logits=logits,
        tokenizer=ship,
        encode=encode,
        weights_file=Path(path) / HF_WEIGHTS,
        max_positions=getattr(config, "max_position_embeddings", None),
    )


def _load_keras_file(path: Path) -> Any:
    """Keras 3 for `.keras`; a legacy `.h5` first with tf-keras (Keras 2 wrote it), then with Keras 3."""
    import_tensorflow()
    import keras

    errors = []
    loaders: list[Callable[[], Any]] = [lambda: keras.saving.load_model(str(path), compile=False)]
    if path.suffix == ".h5":
        import tf_keras

        loaders.insert(0, lambda: tf_keras.models.load_model(str(path), compile=False))
    for load in loaders:
        try:
            return load()
        except Exception as exc:  # Keras raises many types for files it cannot read
            errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    raise SourceError(f"cannot load the Keras model {path}: {'; '.join(errors)}")


def _input_names(model: Any) -> list[str]:
    return [str(getattr(t, "name", "")).split(":")[0] for t in model.inputs]


def load_keras_model(path: Path, labels: tuple[str, ...] | None, tokenizer: Path | None) -> TFClassifier:
    if tokenizer is None:
        raise SourceError(
            "a Keras model needs --tokenizer: its tokenizer.json, or a Hugging Face tokenizer directory (vocab.txt ...)"
        )
    tf = import_tensorflow()
    model = _load_keras_file(Path(path))
    names = _input_names(model)
    unknown = [n for n in names if n not in INPUTS + OPTIONAL_INPUTS]
    if unknown or not set(INPUTS) <= set(names):
        raise SourceError(
            f"the Keras model's inputs are {names}; expected input_ids and attention_mask (token_type_ids optional)"
        )
    dtypes = {name: tf.as_dtype(getattr(t, "dtype", "int32")) for name, t in zip(names, model.inputs, strict=True)}

    @tf.function(input_signature=signature())
    def logits(input_ids: Any, attention_mask: Any) -> dict[str, Any]:
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": tf.zeros_like(input_ids)}
        out = model({name: tf.cast(given[name], dtypes[name]) for name in names}, training=False)
        if isinstance(out, dict):
            out = out.get("logits", next(iter(out.values())) if len(out) == 1 else None)
        if isinstance(out, (list, tuple)) and len(out) == 1:
            out = out[0]
        if out is None or isinstance(out, (dict, list, tuple)):
            raise SourceError("the Keras model must have one output (or a dict output with 'logits')")
        return {"logits": tf.cast(out, tf.float32)}

    ship, encode = _tokenizer(tokenizer)
    return TFClassifier(
        kind=KERAS_MODEL,
        path=Path(path),
        arch="keras",
        labels=labels or EMOTIONS,
        labels_from="--labels" if labels else DATASET_ORDER,
        logits=logits,
        tokenizer=ship,
        encode=encode,
        weights_file=Path(path),
    )


def load_source(path: Path, labels: tuple[str, ...] | None = None, tokenizer: Path | None = None) -> TFClassifier:
    """Load a checkpoint directory or Keras file as a TFClassifier; SourceError on anything unusable."""
    kind = detect_kind(path)
    if kind == HF_CHECKPOINT:
        return load_hf_checkpoint(Path(path), labels, tokenizer)
    return load_keras_model(Path(path), labels, tokenizer)


def as_log_probabilities(source: TFClassifier) -> TFClassifier:
    """Serve a softmax-ending model's probabilities as their logarithms: the served softmax gives them back."""
    tf = import_tensorflow()
    inner = source.logits

    @tf.function(input_signature=signature())
    def logits(input_ids: Any, attention_mask: Any) -> dict[str, Any]:
        probs = inner(input_ids, attention_mask)["logits"]
        return {"logits": tf.math.log(tf.maximum(probs, 1e-12))}

    source.logits = logits
    source.outputs = "softmax probabilities, served as their logarithms (the served softmax returns them unchanged)"
    return source


def looks_like_probabilities(outputs: np.ndarray) -> bool:
    """Every row non-negative and summing to 1: a model that ends in softmax."""
    return bool(outputs.size) and bool(np.all(outputs >= 0)) and bool(np.allclose(outputs.sum(-1), 1.0, atol=1e-4))
