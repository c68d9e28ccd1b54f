"""The sentence embedder's export: the graph computes what sentence-transformers computes, the
parity check measures it, and the registry serves the result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from machbot_fn.labels import EMBEDDER_ID
from machbot_fn.models.embedder import SentenceEmbedder
from machbot_fn.models.manifest import EMBEDDING
from machbot_fn.models.registry import load_runner
from machbot_train.embedder import MAX_SIMILARITY_LOSS, MIN_MEAN_COSINE, build_tiny_embedder, int8_holds, tiny_encoder
from machbot_train.embedder_parity import Parity, compare, nearest_others, onnx_embeddings, torch_embeddings
from machbot_train.tiny_models import tiny_wordpiece
from machbot_train.version_dir import read_manifest


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_embedder(tmp_path_factory.mktemp("embedder"))


def test_the_tiny_embedder_is_a_valid_registry_model(tiny_dir: Path, sample_texts: list[str]) -> None:
    manifest = read_manifest(tiny_dir)
    assert manifest.id == EMBEDDER_ID and manifest.task == EMBEDDING and not manifest.trained
    assert manifest.embedding == {"dim": 32, "pooling": "mean", "normalized": True}
    parity = manifest.metrics["parity"]
    assert parity["texts"] >= 2 and parity["fp32_max_abs_diff"] < 1e-4
    assert manifest.format == ("onnx-int8" if int8_holds(Parity(**parity)) else "onnx-fp32")
    runner = load_runner(manifest, tiny_dir, threads=1)  # what the registry does: load + smoke inference
    assert isinstance(runner, SentenceEmbedder)
    vectors = runner.embed(sample_texts)
    assert vectors.shape == (len(sample_texts), 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(runner(sample_texts[0]), runner(sample_texts[0]))  # same text, same vector


def test_serving_matches_the_pytorch_reference(tiny_dir: Path, sample_texts: list[str]) -> None:
    tokenizer = tiny_wordpiece()
    encoder = tiny_encoder(tokenizer.get_vocab_size())
    reference = torch_embeddings(encoder, tokenizer, 128, sample_texts)
    served = SentenceEmbedder(read_manifest(tiny_dir), tiny_dir).embed(sample_texts)
    assert compare(reference, served)["cosine_min"] > 0.99


def test_compare_measures_vectors_and_neighbours() -> None:
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((50, 8)).astype(np.float32)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    same = compare(ref, ref.copy())
    assert same == {
        "cosine_mean": 1.0,
        "cosine_min": 1.0,
        "cosine_p01": 1.0,
        "neighbour_agreement": 1.0,
        "top3_overlap": 1.0,
        "top1_similarity_loss": 0.0,
    }
    noisy = ref + rng.standard_normal(ref.shape).astype(np.float32) * 0.3
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    worse = compare(ref, noisy)
    assert worse["cosine_mean"] < 0.99 and worse["neighbour_agreement"] < 1.0
    assert worse["top1_similarity_loss"] > 0.0
    nn = nearest_others(ref, 3)
    assert nn.shape == (50, 3) and not np.any(nn == np.arange(50)[:, None])  # never itself


def test_int8_serves_only_when_parity_holds() -> None:
    good = Parity(500, 1e-7, MIN_MEAN_COSINE + 0.01, 0.98, 0.98, 0.9, 0.9, MAX_SIMILARITY_LOSS / 2)
    assert int8_holds(good)
    assert not int8_holds(Parity(500, 1e-7, MIN_MEAN_COSINE - 0.01, 0.9, 0.9, 0.9, 0.9, 0.0))
    assert not int8_holds(Parity(500, 1e-7, 0.999, 0.99, 0.99, 0.5, 0.5, MAX_SIMILARITY_LOSS * 2))


def test_the_graph_reproduces_sentence_transformers_on_minilm(tmp_path: Path, sample_texts: list[str]) -> None:
    """The real weights: the PyTorch reference is sentence-transformers' encode(), and the exported fp32
    graph reproduces it (the parity check then only has quantisation left to measure)."""
    st = pytest.importorskip("sentence_transformers")
    from machbot_train.bases import minilm_dir
    from machbot_train.embedder import MINILM_MAX_LENGTH, minilm_encoder
    from machbot_train.onnx_export import export_embedder_onnx

    try:
        path = minilm_dir()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    expected = st.SentenceTransformer(str(path), device="cpu").encode(sample_texts, convert_to_numpy=True)
    encoder, tokenizer = minilm_encoder()
    reference = torch_embeddings(encoder, tokenizer, MINILM_MAX_LENGTH, sample_texts)
    assert np.abs(reference - expected).max() < 1e-5
    fp32 = export_embedder_onnx(encoder, tmp_path / "minilm.onnx")
    assert np.abs(onnx_embeddings(fp32, tokenizer, MINILM_MAX_LENGTH, sample_texts) - expected).max() < 1e-4


def test_emoji_are_embedded_as_their_names(tiny_dir: Path) -> None:
    """As the classifiers read them: MiniLM's vocabulary has no emoji, which would all be one [UNK]."""
    from machbot_fn.models.emoji_words import emoji_to_words

    runner = SentenceEmbedder(read_manifest(tiny_dir), tiny_dir)
    texts = ["😭😭😭", "party time 🎉", "👍"]
    served, spelled = runner.embed(texts), runner.embed([emoji_to_words(t) for t in texts])
    assert np.abs(served - spelled).max() < 1e-6
    assert emoji_to_words("😭😭😭") != emoji_to_words("👍")  # different emoji, different words to embed
