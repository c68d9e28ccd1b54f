"""Exact mappings of a BERT checkpoint (all-MiniLM-L6-v2 offline) into other encoder architectures.

BERT, ELECTRA (embedding size == hidden size) and RoBERTa share BERT's encoder layout key for key;
DistilBERT renames every tensor and has no token-type embeddings. The mapped models reproduce the
source's hidden states for token-type 0 inputs (tests/training/test_weight_mapping.py checks it).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import (
    BertConfig,
    DistilBertConfig,
    ElectraConfig,
    PretrainedConfig,
    RobertaConfig,
)

StateDict = dict[str, torch.Tensor]
MAPPED_ARCHS = ("bert", "distilbert", "electra", "roberta")


def _encoder_config_kwargs(src: BertConfig) -> dict:
    return {
        "vocab_size": src.vocab_size,
        "hidden_size": src.hidden_size,
        "num_hidden_layers": src.num_hidden_layers,
        "num_attention_heads": src.num_attention_heads,
        "intermediate_size": src.intermediate_size,
        "hidden_act": src.hidden_act,
        "layer_norm_eps": src.layer_norm_eps,
        "pad_token_id": src.pad_token_id,
    }


def target_config(arch: str, src: BertConfig, **extra) -> PretrainedConfig:
    """The `arch` configuration with the source's sizes."""
    kw = _encoder_config_kwargs(src)
    if arch == "bert":
        return BertConfig(
            **kw, max_position_embeddings=src.max_position_embeddings, type_vocab_size=src.type_vocab_size, **extra
        )
    if arch == "electra":
        return ElectraConfig(
            **kw,
            embedding_size=src.hidden_size,
            max_position_embeddings=src.max_position_embeddings,
            type_vocab_size=src.type_vocab_size,
            **extra,
        )
    if arch == "roberta":
        # RoBERTa counts positions from padding_idx + 1, so it needs that many extra rows.
        return RobertaConfig(
            **kw,
            max_position_embeddings=src.max_position_embeddings + (src.pad_token_id or 0) + 1,
            type_vocab_size=1,
            bos_token_id=101,
            eos_token_id=102,
            **extra,
        )
    if arch == "distilbert":
        return DistilBertConfig(
            vocab_size=src.vocab_size,
            dim=src.hidden_size,
            n_layers=src.num_hidden_layers,
            n_heads=src.num_attention_heads,
            hidden_dim=src.intermediate_size,
            activation=src.hidden_act,
            max_position_embeddings=src.max_position_embeddings,
            pad_token_id=src.pad_token_id,
            **extra,
        )
    raise ValueError(f"no mapping into {arch!r}; mapped architectures: {', '.join(MAPPED_ARCHS)}")


def _bert_like(src: StateDict, prefix: str, arch: str, pad_idx: int) -> StateDict:
    out: StateDict = {}
    for key, value in src.items():
        if key == "embeddings.position_ids" or (key.startswith("pooler.") and arch != "bert"):
            continue  # only BERT has a pooler (its classification head reads it)
        out[prefix + key] = value.clone()
    if arch == "roberta":
        pos = src["embeddings.position_embeddings.weight"]
        shifted = torch.zeros(pos.shape[0] + pad_idx + 1, pos.shape[1], dtype=pos.dtype)
        shifted[pad_idx + 1 :] = pos
        out[prefix + "embeddings.position_embeddings.weight"] = shifted
        out[prefix + "embeddings.token_type_embeddings.weight"] = src["embeddings.token_type_embeddings.weight"][
            :1
        ].clone()
    return out


_DISTIL_LAYER = {
    "attention.self.query": "attention.q_lin",
    "attention.self.key": "attention.k_lin",
    "attention.self.value": "attention.v_lin",
    "attention.output.dense": "attention.out_lin",
    "attention.output.LayerNorm": "sa_layer_norm",
    "intermediate.dense": "ffn.lin1",
    "output.dense": "ffn.lin2",
    "output.LayerNorm": "output_layer_norm",
}


def _distilbert(src: StateDict) -> StateDict:
    out: StateDict = {
        "distilbert.embeddings.word_embeddings.weight": src["embeddings.word_embeddings.weight"].clone(),
        # DistilBERT has no token types: fold type 0 into every position (word + pos + type0).
        "distilbert.embeddings.position_embeddings.weight": src["embeddings.position_embeddings.weight"]
        + src["embeddings.token_type_embeddings.weight"][0],
        "distilbert.embeddings.LayerNorm.weight": src["embeddings.LayerNorm.weight"].clone(),
        "distilbert.embeddings.LayerNorm.bias": src["embeddings.LayerNorm.bias"].clone(),
    }
    for key, value in src.items():
        if not key.startswith("encoder.layer."):
            continue
        _, _, idx, rest = key.split(".", 3)
        module, param = rest.rsplit(".", 1)
        out[f"distilbert.transformer.layer.{idx}.{_DISTIL_LAYER[module]}.{param}"] = value.clone()
    return out


_PREFIX = {"bert": "bert.", "electra": "electra.", "roberta": "roberta."}


def map_state_dict(arch: str, src: StateDict, pad_idx: int) -> StateDict:
    """Rename (and where needed reshape) a BertModel state dict into `arch`'s encoder keys."""
    if arch == "distilbert":
        return _distilbert(src)
    if arch in _PREFIX:
        return _bert_like(src, _PREFIX[arch], arch, pad_idx)
    raise ValueError(f"no mapping into {arch!r}; mapped architectures: {', '.join(MAPPED_ARCHS)}")


def load_mapped(model: torch.nn.Module, arch: str, src: StateDict, pad_idx: int) -> None:
    """Load the mapped encoder into `model`; only the task head may stay freshly initialised."""
    mapped = map_state_dict(arch, src, pad_idx)
    result = model.load_state_dict(mapped, strict=False)
    if result.unexpected_keys:
        raise RuntimeError(f"mapping into {arch} produced unknown keys: {result.unexpected_keys[:5]}")
    head_only: Callable[[str], bool] = lambda k: not k.startswith(_PREFIX.get(arch, "distilbert."))  # noqa: E731
    missing = [k for k in result.missing_keys if not head_only(k) and not k.endswith("position_ids")]
    if missing:
        raise RuntimeError(f"mapping into {arch} left encoder weights uninitialised: {missing[:5]}")
