"""PyTorch -> ONNX (opset 17, dynamic batch and sequence axes); int8 quantisation is in quantize.py.

The graphs follow the signatures in machbot_fn.models.manifest's docstring. torch 2.13 still ships the
TorchScript-based exporter (`dynamo=False`); it handles these encoder models in well under a second
and needs no extra dependencies, so it is the one used here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from transformers import PreTrainedModel, T5ForConditionalGeneration
from transformers.modeling_outputs import BaseModelOutput

OPSET = 17


class _ClassifierGraph(torch.nn.Module):
    """input_ids, attention_mask -> logits (token types stay 0, as in training)."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


class _SentenceEmbeddingGraph(torch.nn.Module):
    """input_ids, attention_mask -> sentence_embedding: the token states averaged over the mask, then
    L2-normalised (sentence-transformers' Pooling(mean) + Normalize modules)."""

    def __init__(self, encoder: PreTrainedModel) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return mean_pool_normalize(
            self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state, attention_mask
        )


def mean_pool_normalize(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the unmasked token states, scaled to unit length: [batch, seq, dim] -> [batch, dim]."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, p=2.0, dim=1)


class _T5EncoderGraph(torch.nn.Module):
    def __init__(self, model: T5ForConditionalGeneration) -> None:
        super().__init__()
        self.encoder = model.get_encoder()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class _T5DecoderGraph(torch.nn.Module):
    """The whole decoder prefix at once (no cache): the simplest loop to get right, quadratic in length."""

    def __init__(self, model: T5ForConditionalGeneration) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, encoder_hidden_states: torch.Tensor, encoder_attention_mask: torch.Tensor
    ) -> torch.Tensor:
        return self.model(
            encoder_outputs=BaseModelOutput(last_hidden_state=encoder_hidden_states),
            attention_mask=encoder_attention_mask,
            decoder_input_ids=input_ids,
            use_cache=False,
        ).logits


def _export(
    graph: torch.nn.Module,
    args: tuple[torch.Tensor, ...],
    path: Path,
    inputs: list[str],
    outputs: list[str],
    axes: dict[str, dict[int, str]],
) -> Path:
    # The wrapper must be in eval mode itself: export restores the wrapper's mode onto the wrapped model afterwards.
    graph.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python branches on shapes: checked by the parity tests
        torch.onnx.export(
            graph,
            args,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return path


def _example_ids(vocab_size: int, batch: int, seq: int, low: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(low, max(low + 1, vocab_size), (batch, seq), generator=generator)
    mask = torch.ones_like(ids)
    mask[-1, seq // 2 :] = 0  # a padded row, so the traced graph covers masking
    return ids, mask


def export_classifier_onnx(model: PreTrainedModel, path: Path) -> Path:
    """Write the fp32 classifier graph: input_ids, attention_mask (int64 [batch, seq]) -> logits."""
    ids, mask = _example_ids(model.config.vocab_size, 2, 12, low=5)
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, "logits": {0: "batch"}}
    return _export(_ClassifierGraph(model), (ids, mask), path, ["input_ids", "attention_mask"], ["logits"], axes)


def export_embedder_onnx(encoder: PreTrainedModel, path: Path) -> Path:
    """Write the fp32 sentence-embedding graph: input_ids, attention_mask -> sentence_embedding [batch, dim]."""
    ids, mask = _example_ids(encoder.config.vocab_size, 2, 12, low=5)
    axes = {
        "input_ids": {0: "batch", 1: "seq"},
        "attention_mask": {0: "batch", 1: "seq"},
        "sentence_embedding": {0: "batch"},
    }
    graph = _SentenceEmbeddingGraph(encoder)
    return _export(graph, (ids, mask), path, ["input_ids", "attention_mask"], ["sentence_embedding"], axes)


def export_t5_onnx(model: T5ForConditionalGeneration, out_dir: Path) -> tuple[Path, Path]:
    """Write fp32 `encoder.onnx` and `decoder.onnx` into out_dir."""
    ids, mask = _example_ids(model.config.vocab_size, 2, 10, low=3)
    encoder = _export(
        _T5EncoderGraph(model),
        (ids, mask),
        out_dir / "encoder.onnx",
        ["input_ids", "attention_mask"],
        ["last_hidden_state"],
        {
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "last_hidden_state": {0: "batch", 1: "seq"},
        },
    )
    with torch.no_grad():
        hidden = model.get_encoder().eval()(input_ids=ids, attention_mask=mask).last_hidden_state
    dec_ids, _ = _example_ids(model.config.vocab_size, 2, 4, low=3)
    decoder = _export(
        _T5DecoderGraph(model),
        (dec_ids, hidden, mask),
        out_dir / "decoder.onnx",
        ["input_ids", "encoder_hidden_states", "encoder_attention_mask"],
        ["logits"],
        {
            "input_ids": {0: "batch", 1: "dec_seq"},
            "encoder_hidden_states": {0: "batch", 1: "enc_seq"},
            "encoder_attention_mask": {0: "batch", 1: "enc_seq"},
            "logits": {0: "batch", 1: "dec_seq"},
        },
    )
    return encoder, decoder


def export_t5_cache_onnx(model: T5ForConditionalGeneration, out_dir: Path) -> tuple[Path, Path]:
    """Write fp32 `cross_kv.onnx` and `decoder_step.onnx` (the key/value-cache decoder, see t5_cache.py)."""
    from machbot_train.t5_cache import T5CrossKV, T5DecoderStep

    cfg = model.config
    ids, mask = _example_ids(cfg.vocab_size, 2, 10, low=3)
    with torch.no_grad():
        hidden = model.get_encoder().eval()(input_ids=ids, attention_mask=mask).last_hidden_state
        cross_k, cross_v = T5CrossKV(model)(hidden)
    cross = _export(
        T5CrossKV(model),
        (hidden,),
        out_dir / "cross_kv.onnx",
        ["encoder_hidden_states"],
        ["cross_k", "cross_v"],
        {
            "encoder_hidden_states": {0: "batch", 1: "enc_seq"},
            "cross_k": {1: "batch", 3: "enc_seq"},
            "cross_v": {1: "batch", 3: "enc_seq"},
        },
    )
    past = torch.zeros(cfg.num_decoder_layers or cfg.num_layers, 2, cfg.num_heads, 3, cfg.d_kv)
    kv_axes = {1: "batch", 3: "past_seq"}
    step = _export(
        T5DecoderStep(model),
        (ids[:, :1], mask, cross_k, cross_v, past, past.clone()),
        out_dir / "decoder_step.onnx",
        ["input_ids", "encoder_attention_mask", "cross_k", "cross_v", "past_k", "past_v"],
        ["logits", "present_k", "present_v"],
        {
            "input_ids": {0: "batch"},
            "encoder_attention_mask": {0: "batch", 1: "enc_seq"},
            "cross_k": {1: "batch", 3: "enc_seq"},
            "cross_v": {1: "batch", 3: "enc_seq"},
            "past_k": kv_axes,
            "past_v": kv_axes,
            "logits": {0: "batch"},
            "present_k": {1: "batch", 3: "total_seq"},
            "present_v": {1: "batch", 3: "total_seq"},
        },
    )
    return cross, step
