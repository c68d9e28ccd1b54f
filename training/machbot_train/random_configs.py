"""Configurations of the randomly initialised models: small ones to train, tiny ones for tests.

`random_config(arch, base, **kw)` is what classifier.build_model calls for `--base random`; extra
keywords (num_labels, id2label, hidden sizes, ...) override the small defaults. `size="tiny"` gives
the few-layer, hidden-32 variants the tests and the untrained placeholders use.
"""

from __future__ import annotations

from typing import Any

from transformers import (
    BertConfig,
    DistilBertConfig,
    ElectraConfig,
    MobileBertConfig,
    PretrainedConfig,
    RobertaConfig,
    T5Config,
)

from machbot_train.bases import ResolvedBase

CLASSIFIER_ARCHS = ("bert", "distilbert", "roberta", "electra", "mobilebert")
MAX_POSITIONS = 512

# BERT-family sizes in BertConfig's vocabulary; translated per architecture by _encoder_config.
_SMALL_ENCODER = {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024}
_TINY_ENCODER = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}

# MobileBERT keeps a wide 512 residual stream but runs attention/FFN in a 128 bottleneck; the small
# configuration halves the paper's depth twice (24 -> 6 layers) and uses 2 stacked FFNs, not 4.
_SMALL_MOBILEBERT = {
    "hidden_size": 512,
    "embedding_size": 128,
    "true_hidden_size": 128,
    "intra_bottleneck_size": 128,
    "num_hidden_layers": 6,
    "num_attention_heads": 4,
    "intermediate_size": 512,
    "num_feedforward_networks": 2,
    # The paper's NoNorm relies on distilling layer by layer from a teacher of the same shape; trained
    # from scratch, LayerNorm keeps the deep residual stream stable.
    "normalization_type": "layer_norm",
}
_TINY_MOBILEBERT = {
    "hidden_size": 32,
    "embedding_size": 16,
    "true_hidden_size": 16,
    "intra_bottleneck_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "num_feedforward_networks": 1,
    "normalization_type": "layer_norm",
}

SMALL_T5 = {
    "d_model": 256,
    "d_kv": 64,
    "d_ff": 1024,
    "num_layers": 4,
    "num_decoder_layers": 4,
    "num_heads": 4,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
}
TINY_T5 = {
    "d_model": 32,
    "d_kv": 8,
    "d_ff": 64,
    "num_layers": 2,
    "num_decoder_layers": 2,
    "num_heads": 4,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 32,
}


def _vocab_size(base: ResolvedBase | None, kw: dict[str, Any]) -> int:
    if "vocab_size" in kw:
        return int(kw.pop("vocab_size"))
    if base is None:
        raise ValueError("random_config needs a base (for its tokenizer) or an explicit vocab_size")
    return base.tokenizer().get_vocab_size()


def _encoder_config(
    arch: str, sizes: dict[str, Any], vocab_size: int, pad: int, kw: dict[str, Any]
) -> PretrainedConfig:
    common = {"vocab_size": vocab_size, "pad_token_id": pad, **kw}
    if arch == "distilbert":
        return DistilBertConfig(
            dim=sizes["hidden_size"],
            n_layers=sizes["num_hidden_layers"],
            n_heads=sizes["num_attention_heads"],
            hidden_dim=sizes["intermediate_size"],
            max_position_embeddings=MAX_POSITIONS,
            **common,
        )
    if arch == "bert":
        return BertConfig(**sizes, max_position_embeddings=MAX_POSITIONS, **common)
    if arch == "electra":
        return ElectraConfig(
            **sizes, embedding_size=sizes["hidden_size"], max_position_embeddings=MAX_POSITIONS, **common
        )
    if arch == "roberta":
        # RoBERTa numbers positions from pad + 1; bos/eos only matter to its own tokenizer, which we do not use.
        common.setdefault("bos_token_id", min(2, vocab_size - 1))
        common.setdefault("eos_token_id", min(3, vocab_size - 1))
        return RobertaConfig(**sizes, max_position_embeddings=MAX_POSITIONS + pad + 1, type_vocab_size=1, **common)
    raise ValueError(f"no random configuration for {arch!r}; architectures: {', '.join(CLASSIFIER_ARCHS)}")


def random_config(arch: str, base: ResolvedBase | None = None, size: str = "small", **kw: Any) -> PretrainedConfig:
    """A `size` ("small" or "tiny") configuration of `arch`; keywords override any field."""
    if size not in ("small", "tiny"):
        raise ValueError(f"size must be 'small' or 'tiny', got {size!r}")
    if arch not in CLASSIFIER_ARCHS:
        raise ValueError(f"no random configuration for {arch!r}; architectures: {', '.join(CLASSIFIER_ARCHS)}")
    vocab_size = _vocab_size(base, kw)
    pad = int(kw.pop("pad_token_id", base.pad_token_id if base is not None else 0))
    if arch == "mobilebert":
        sizes: dict[str, Any] = dict(_TINY_MOBILEBERT if size == "tiny" else _SMALL_MOBILEBERT)
        sizes.update({k: kw.pop(k) for k in list(kw) if k in sizes})
        return MobileBertConfig(
            **sizes, vocab_size=vocab_size, pad_token_id=pad, max_position_embeddings=MAX_POSITIONS, **kw
        )
    sizes = dict(_TINY_ENCODER if size == "tiny" else _SMALL_ENCODER)
    sizes.update({k: kw.pop(k) for k in list(kw) if k in sizes})
    return _encoder_config(arch, sizes, vocab_size, pad, kw)


def t5_config(vocab_size: int, size: str = "small", **kw: Any) -> T5Config:
    """The replier's T5: T5 special ids (pad 0 = decoder start, eos 1), tied embeddings, ReLU FFN."""
    if size not in ("small", "tiny"):
        raise ValueError(f"size must be 'small' or 'tiny', got {size!r}")
    fields: dict[str, Any] = {
        "vocab_size": vocab_size,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,  # generic config fields T5Config passes on to PretrainedConfig
        "feed_forward_proj": "relu",
        "tie_word_embeddings": True,
        "dropout_rate": 0.1,
        **(TINY_T5 if size == "tiny" else SMALL_T5),
        **kw,
    }
    return T5Config(**fields)
