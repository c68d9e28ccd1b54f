"""Optional starting points for a random model's word embeddings, taken from MiniLM.

`minilm-pca`: MiniLM's 384-d WordPiece embeddings projected onto their top principal components,
as many as the model's embedding size (128 for the small MobileBERT). The student then starts with
a vocabulary whose geometry already reflects word meaning, while every other weight stays random.
Whatever is used is recorded in the trained model's provenance.
"""

from __future__ import annotations

import torch
from transformers import PreTrainedModel

from machbot_train.bases import MINILM_DESCRIPTION, resolve_base

MINILM_PCA = "minilm-pca"
EMBEDDING_INITS = (MINILM_PCA,)


def minilm_pca_embeddings(dim: int) -> torch.Tensor:
    """[vocab, dim]: the centred MiniLM embedding table projected onto its top `dim` principal axes."""
    table = resolve_base("minilm", "bert").bert_state_dict()["embeddings.word_embeddings.weight"].float()
    if dim > table.shape[1]:
        raise ValueError(f"cannot project {table.shape[1]}-d MiniLM embeddings up to {dim} dimensions")
    centred = table - table.mean(dim=0, keepdim=True)
    # The right singular vectors of the centred table are its principal axes, largest variance first.
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return centred @ vh[:dim].T


def describe(how: str) -> str:
    if how == MINILM_PCA:
        return f"word embeddings: PCA projection of {MINILM_DESCRIPTION} word embeddings; all other weights random"
    raise ValueError(f"unknown embedding init {how!r}; known: {', '.join(EMBEDDING_INITS)}")


def init_embeddings(model: PreTrainedModel, how: str) -> str:
    """Overwrite `model`'s input word embeddings as `how` says; returns the provenance description."""
    text = describe(how)
    weight = model.get_input_embeddings().weight
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"{type(model).__name__}'s input embeddings have no weight matrix")
    vocab, dim = weight.shape
    projected = minilm_pca_embeddings(dim)
    if projected.shape[0] != vocab:
        raise ValueError(f"the model's vocabulary has {vocab} entries, MiniLM's {projected.shape[0]}: they must match")
    with torch.no_grad():
        weight.copy_(projected)
    return text
