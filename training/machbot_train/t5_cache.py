"""A T5 decoder step with a key/value cache, written out explicitly so it exports to a small ONNX graph.

The plain `decoder.onnx` re-reads the whole generated prefix at every step. These two graphs let the
serving loop feed one token at a time instead:

- `cross_kv.onnx`: encoder_hidden_states [batch, enc, d] -> cross_k, cross_v [layers, batch, heads, enc, d_kv]
  (the cross-attention keys and values, computed once per reply);
- `decoder_step.onnx`: input_ids [batch, 1], encoder_attention_mask [batch, enc], cross_k, cross_v,
  past_k, past_v [layers, batch, heads, past, d_kv] -> logits [batch, vocab], present_k, present_v
  [layers, batch, heads, past + 1, d_kv]. The first step gets past tensors with past = 0.

The math mirrors transformers' T5 (no query scaling, relative position bias from the first
self-attention layer, RMS layer norms, output scaled by d_model^-0.5 with tied embeddings), reusing
the model's own modules for every weight; tests/training/test_replier_parity.py checks it against
generate().
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import T5ForConditionalGeneration


class T5CrossKV(torch.nn.Module):
    def __init__(self, model: T5ForConditionalGeneration) -> None:
        super().__init__()
        self.blocks: Any = model.decoder.block  # T5Block modules, reached by attribute (torch types them as Module)
        self.heads = model.config.num_heads
        self.d_kv = model.config.d_kv

    def forward(self, encoder_hidden_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, n, _ = encoder_hidden_states.shape
        keys, values = [], []
        for block in self.blocks:
            attn = block.layer[1].EncDecAttention
            keys.append(attn.k(encoder_hidden_states).view(b, n, self.heads, self.d_kv).transpose(1, 2))
            values.append(attn.v(encoder_hidden_states).view(b, n, self.heads, self.d_kv).transpose(1, 2))
        return torch.stack(keys), torch.stack(values)


class T5DecoderStep(torch.nn.Module):
    def __init__(self, model: T5ForConditionalGeneration) -> None:
        super().__init__()
        cfg = model.config
        self.embed = model.decoder.embed_tokens
        self.blocks: Any = model.decoder.block  # T5Block modules, reached by attribute (torch types them as Module)
        self.final_norm = model.decoder.final_layer_norm
        self.lm_head = model.lm_head
        self.heads = cfg.num_heads
        self.d_kv = cfg.d_kv
        self.output_scale = cfg.d_model**-0.5 if getattr(cfg, "scale_decoder_outputs", cfg.tie_word_embeddings) else 1.0

    def _position_bias(self, past: int) -> torch.Tensor:
        """[1, heads, 1, past + 1]: the bias of the query at position `past` towards keys 0..past."""
        attn = self.blocks[0].layer[0].SelfAttention
        relative = torch.arange(past + 1, dtype=torch.long) - past
        buckets = attn._relative_position_bucket(
            relative,
            bidirectional=False,
            num_buckets=attn.relative_attention_num_buckets,
            max_distance=attn.relative_attention_max_distance,
        )
        return attn.relative_attention_bias(buckets).transpose(0, 1)[None, :, None, :]

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], -1, self.heads, self.d_kv).transpose(1, 2)

    def forward(
        self,
        input_ids: torch.Tensor,
        encoder_attention_mask: torch.Tensor,
        cross_k: torch.Tensor,
        cross_v: torch.Tensor,
        past_k: torch.Tensor,
        past_v: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.embed(input_ids)
        b = x.shape[0]
        self_bias = self._position_bias(past_k.shape[3])
        cross_bias = (1.0 - encoder_attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        presents_k, presents_v = [], []
        for i, block in enumerate(self.blocks):
            sa = block.layer[0]
            h = sa.layer_norm(x)
            q = self._heads(sa.SelfAttention.q(h))
            k = torch.cat([past_k[i], self._heads(sa.SelfAttention.k(h))], dim=2)
            v = torch.cat([past_v[i], self._heads(sa.SelfAttention.v(h))], dim=2)
            presents_k.append(k)
            presents_v.append(v)
            w = torch.softmax(q @ k.transpose(2, 3) + self_bias, dim=-1)
            x = x + sa.SelfAttention.o((w @ v).transpose(1, 2).reshape(b, 1, -1))

            ca = block.layer[1]
            q = self._heads(ca.EncDecAttention.q(ca.layer_norm(x)))
            w = torch.softmax(q @ cross_k[i].transpose(2, 3) + cross_bias, dim=-1)
            x = x + ca.EncDecAttention.o((w @ cross_v[i]).transpose(1, 2).reshape(b, 1, -1))

            ff = block.layer[2]
            x = x + ff.DenseReluDense(ff.layer_norm(x))
        logits = self.lm_head(self.final_norm(x) * self.output_scale)[:, -1]
        return logits, torch.stack(presents_k), torch.stack(presents_v)
