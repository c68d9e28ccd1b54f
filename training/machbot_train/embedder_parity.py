"""How closely an exported sentence embedder keeps the PyTorch fp32 embeddings.

Matching ranks shared thoughts by cosine similarity, so what must survive quantisation is the
geometry: each text's vector (cosine to the fp32 one) and, more to the point, who its nearest
neighbours are. The ONNX graphs run one text per call, as the function does (dynamic int8 scales
its activations per call, so batching would measure something else).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer
from transformers import PreTrainedModel

from machbot_fn.models.embedder import normalize_rows
from machbot_fn.models.runtime import pad_batch, pad_id_of, session_options
from machbot_train.onnx_export import mean_pool_normalize


@dataclass(frozen=True)
class Parity:
    texts: int
    fp32_max_abs_diff: float  # fp32 ONNX against PyTorch: the largest difference of one coordinate
    cosine_mean: float  # int8 ONNX against PyTorch fp32, per text
    cosine_min: float
    cosine_p01: float
    neighbour_agreement: float  # texts whose nearest other text is the same under int8 and fp32
    top3_overlap: float  # mean share of the 3 nearest other texts that int8 and fp32 have in common
    # How much less similar (fp32 cosine) int8's nearest text is than the true nearest, on average:
    # where the neighbours differ, they were close to a tie, and this says how close.
    top1_similarity_loss: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def parity_texts(n: int) -> list[str]:
    """The first `n` texts of the emotion test split (the tiny models' corpus when the data is absent)."""
    from machbot_train.data import DataError, load_emotion_split
    from machbot_train.tiny_tokenizers import tiny_corpus

    try:
        texts = load_emotion_split("test").texts
    except DataError:
        texts = tiny_corpus()
    return list(texts[:n])


def _encode(tokenizer: Tokenizer, max_length: int, texts: list[str]) -> list[list[int]]:
    tok = Tokenizer.from_str(tokenizer.to_str())  # a copy: leave the caller's settings alone
    tok.no_padding()
    tok.enable_truncation(max_length)
    return [e.ids for e in tok.encode_batch(texts)]


def torch_embeddings(
    encoder: PreTrainedModel, tokenizer: Tokenizer, max_length: int, texts: list[str], batch: int = 32
) -> np.ndarray:
    """The reference: the PyTorch encoder, mean pooling and L2 normalisation, fp32."""
    ids = _encode(tokenizer, max_length, texts)
    pad = pad_id_of(tokenizer)
    out = []
    with torch.no_grad():
        for start in range(0, len(ids), batch):
            input_ids, mask = (torch.from_numpy(a) for a in pad_batch(ids[start : start + batch], pad))
            hidden = encoder.eval()(input_ids=input_ids, attention_mask=mask).last_hidden_state
            out.append(mean_pool_normalize(hidden, mask).numpy())
    return np.concatenate(out).astype(np.float32)


def onnx_embeddings(path: Path, tokenizer: Tokenizer, max_length: int, texts: list[str]) -> np.ndarray:
    """An exported graph's embeddings, one text per call as in serving."""
    session = ort.InferenceSession(str(path), sess_options=session_options(1), providers=["CPUExecutionProvider"])
    pad = pad_id_of(tokenizer)
    rows = []
    for ids in _encode(tokenizer, max_length, texts):
        input_ids, mask = pad_batch([ids], pad)
        (vector,) = session.run(["sentence_embedding"], {"input_ids": input_ids, "attention_mask": mask})
        rows.append(vector[0])
    return normalize_rows(np.asarray(rows, dtype=np.float32))


def nearest_others(vectors: np.ndarray, k: int) -> np.ndarray:
    """For each row, the indices of its k most similar other rows (by cosine), best first."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


def compare(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """Per-text cosine and neighbour agreement of `candidate` against `reference` (both unit rows)."""
    cosine = np.sum(reference * candidate, axis=1)
    k = min(3, len(reference) - 1)
    ref_nn, cand_nn = nearest_others(reference, k), nearest_others(candidate, k)
    overlap = [len(set(a) & set(b)) / k for a, b in zip(ref_nn, cand_nn, strict=True)] if k else [1.0]
    rows = np.arange(len(reference))
    ref_sims = reference @ reference.T
    loss = ref_sims[rows, ref_nn[:, 0]] - ref_sims[rows, cand_nn[:, 0]] if k else np.zeros(1)
    return {
        "cosine_mean": round(float(cosine.mean()), 5),
        "cosine_min": round(float(cosine.min()), 5),
        "cosine_p01": round(float(np.percentile(cosine, 1)), 5),
        "neighbour_agreement": round(float(np.mean(ref_nn[:, 0] == cand_nn[:, 0])) if k else 1.0, 4),
        "top3_overlap": round(float(np.mean(overlap)), 4),
        "top1_similarity_loss": round(float(np.mean(loss)), 5),
    }


def measure_parity(
    encoder: PreTrainedModel, tokenizer: Tokenizer, max_length: int, texts: list[str], fp32: Path, int8: Path
) -> Parity:
    """Parity of the fp32 and int8 graphs against the PyTorch encoder on `texts`."""
    if len(texts) < 2:
        raise ValueError("parity needs at least two texts")
    reference = torch_embeddings(encoder, tokenizer, max_length, texts)
    fp32_vectors = onnx_embeddings(fp32, tokenizer, max_length, texts)
    int8_vectors = onnx_embeddings(int8, tokenizer, max_length, texts)
    return Parity(
        texts=len(texts),
        fp32_max_abs_diff=round(float(np.abs(fp32_vectors - reference).max()), 7),
        **compare(reference, int8_vectors),
    )
