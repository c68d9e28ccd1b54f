"""The MiniLM (BERT) weight mapping reproduces the source's hidden states in every mapped architecture.

Checked on a tiny random BERT: the mapping is pure renaming/reshaping, so the size does not matter.
"""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForSequenceClassification, BertConfig, BertModel

from machbot_train.weight_mapping import MAPPED_ARCHS, load_mapped, map_state_dict, target_config

TOLERANCE = {"bert": 1e-6, "electra": 1e-6, "roberta": 1e-6, "distilbert": 1e-5}


@pytest.fixture(scope="module")
def source() -> tuple[BertConfig, BertModel]:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=120,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        pad_token_id=0,
    )
    model = BertModel(config).eval()
    # BERT's init leaves LayerNorms at identity and biases at zero; perturb them so a mis-mapped one shows.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    return config, model


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 120, (3, 11), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = 0  # padded positions hold the pad token, as the collate function writes them
    return ids, mask


@pytest.mark.parametrize("arch", MAPPED_ARCHS)
def test_mapped_model_reproduces_source_hidden_states(source: tuple[BertConfig, BertModel], arch: str) -> None:
    config, bert = source
    target = AutoModelForSequenceClassification.from_config(target_config(arch, config, num_labels=6)).eval()
    load_mapped(target, arch, bert.state_dict(), pad_idx=config.pad_token_id)
    ids, mask = _inputs()
    with torch.no_grad():
        expected = bert(input_ids=ids, attention_mask=mask).last_hidden_state
        encoder = getattr(target, arch)
        got = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    keep = mask.bool()  # padded positions are free to differ: nothing reads them
    diff = (expected[keep] - got[keep]).abs().max().item()
    assert diff <= TOLERANCE[arch], f"{arch}: max |diff| {diff:.2e}"


def test_mapping_rejects_unknown_architecture(source: tuple[BertConfig, BertModel]) -> None:
    config, bert = source
    with pytest.raises(ValueError, match="no mapping into 'mobilebert'"):
        map_state_dict("mobilebert", bert.state_dict(), pad_idx=0)
    with pytest.raises(ValueError, match="no mapping"):
        target_config("t5", config)
