"""Tiny random TensorFlow classifiers in the forms researchers bring them, for the import's tests.

`build_tiny_tf_sources(root)` writes, in a few seconds (TF environment only):

- `hf-bert/`, `hf-distilbert/`: Hugging Face TF checkpoints as transformers 4.x saves them
  (`tf_model.h5`, `config.json`) with a legacy `vocab.txt` + `tokenizer_config.json` tokenizer (no
  tokenizer.json), their labels in alphabetical order rather than the dataset's;
- `keras/model.keras` + `keras/tokenizer.json`: a Keras 3 model with the same input signature
  (embeddings, masked mean, dense) ending in softmax, as Keras classifiers usually do;
- `keras-h5/model.h5`: the same shape of model from tf-keras (Keras 2) in the legacy HDF5 format,
  returning logits.

Seeded; untrained (weights drawn wide enough that the six logits are far apart, so int8 noise does not
flip the top label of most texts); the vocabulary is the tiny WordPiece of the PyTorch placeholders.

    .venv-tf/bin/python -m machbot_train.tiny_tf build/tiny-tf
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

from machbot_fn.labels import EMOTIONS
from machbot_train.tf_source import import_tensorflow
from machbot_train.tiny_tokenizers import tiny_wordpiece

SEED = 1234
HIDDEN = 32
ALPHABETICAL = tuple(sorted(EMOTIONS))


def _vocab_lines() -> list[str]:
    vocab = tiny_wordpiece().get_vocab()
    return [token for token, _ in sorted(vocab.items(), key=lambda kv: kv[1])]


def _hf_config(transformers: Any, arch: str, vocab_size: int) -> Any:
    common = {
        "vocab_size": vocab_size,
        "max_position_embeddings": 512,
        "initializer_range": 0.2,
        "num_labels": len(EMOTIONS),
        "id2label": dict(enumerate(ALPHABETICAL)),
        "label2id": {label: i for i, label in enumerate(ALPHABETICAL)},
    }
    if arch == "distilbert":  # no token type ids: the import must not feed them
        return transformers.DistilBertConfig(dim=HIDDEN, n_layers=2, n_heads=2, hidden_dim=2 * HIDDEN, **common)
    if arch == "bert":
        return transformers.BertConfig(
            hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2, intermediate_size=2 * HIDDEN, **common
        )
    raise ValueError(f"no tiny TF configuration for {arch!r} (bert, distilbert)")


def build_hf_checkpoint(directory: Path, arch: str = "bert") -> Path:
    """A 2-layer, 32-wide TF{Bert,DistilBert}ForSequenceClassification saved with save_pretrained, vocab.txt tokenizer."""
    tf = import_tensorflow()
    import transformers

    transformers.logging.set_verbosity_error()
    vocab = _vocab_lines()
    config = _hf_config(transformers, arch, len(vocab))
    tf.keras.utils.set_random_seed(SEED)
    # transformers 4.x in .venv-tf; the type checker sees .venv's 5.x, which has no TF classes.
    model = transformers.TFAutoModelForSequenceClassification.from_config(config)  # type: ignore[attr-defined]
    model(model.dummy_inputs)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(directory))
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer_class = "DistilBertTokenizer" if arch == "distilbert" else "BertTokenizer"  # no token type ids
    tokenizer_config = {"tokenizer_class": tokenizer_class, "do_lower_case": True, "model_max_length": 512}
    (directory / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2), encoding="utf-8")
    return directory


def _mean_pooled_classifier(keras: Any, ops: Any, softmax: bool) -> Any:
    """input_ids, attention_mask -> embeddings -> mean over unmasked tokens -> dense -> 6 outputs."""
    ids = keras.Input((None,), dtype="int32", name="input_ids")
    mask = keras.Input((None,), dtype="int32", name="attention_mask")
    init = keras.initializers.RandomNormal(stddev=1.0, seed=SEED)
    x = keras.layers.Embedding(tiny_wordpiece().get_vocab_size(), HIDDEN, embeddings_initializer=init)(ids)
    weights = ops.expand_dims(ops.cast(mask, "float32"), -1)
    pooled = ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
    hidden = keras.layers.Dense(HIDDEN, activation="gelu", kernel_initializer=init)(pooled)
    out = keras.layers.Dense(len(EMOTIONS), activation="softmax" if softmax else None, name="emotion")(hidden)
    return keras.Model({"input_ids": ids, "attention_mask": mask}, out)


def build_keras_model(directory: Path) -> Path:
    """Keras 3 `.keras` file (softmax output) with its tokenizer.json beside it; returns the model file."""
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(SEED)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "model.keras"
    _mean_pooled_classifier(keras, keras.ops, softmax=True).save(str(path))
    tiny_wordpiece().save(str(directory / "tokenizer.json"))
    return path


def build_legacy_h5_model(directory: Path) -> Path:
    """tf-keras (Keras 2) model in the legacy HDF5 format, logits output; returns the model file."""
    tf = import_tensorflow()
    import tf_keras

    tf_keras.utils.set_random_seed(SEED)
    ids = tf_keras.Input((None,), dtype="int32", name="input_ids")
    mask = tf_keras.Input((None,), dtype="int32", name="attention_mask")
    init = tf_keras.initializers.RandomNormal(stddev=1.0, seed=SEED)
    x = tf_keras.layers.Embedding(tiny_wordpiece().get_vocab_size(), HIDDEN, embeddings_initializer=init)(ids)
    pooled = tf_keras.layers.GlobalAveragePooling1D()(x, mask=tf.cast(mask, tf.bool))
    hidden = tf_keras.layers.Dense(HIDDEN, activation="gelu", kernel_initializer=init)(pooled)
    out = tf_keras.layers.Dense(len(EMOTIONS), name="emotion")(hidden)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "model.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "HDF5 is legacy": writing the legacy format is the point here
        tf_keras.Model([ids, mask], out).save(str(path))
    tiny_wordpiece().save(str(directory / "tokenizer.json"))
    return path


def build_tiny_tf_sources(root: Path) -> dict[str, str]:
    root = Path(root)
    return {
        "hf": str(build_hf_checkpoint(root / "hf-bert")),
        "hf_distilbert": str(build_hf_checkpoint(root / "hf-distilbert", "distilbert")),
        "keras": str(build_keras_model(root / "keras")),
        "keras_h5": str(build_legacy_h5_model(root / "keras-h5")),
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m machbot_train.tiny_tf OUT_DIR")
    print(json.dumps(build_tiny_tf_sources(Path(sys.argv[1]))))
