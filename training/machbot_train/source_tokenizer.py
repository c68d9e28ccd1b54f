"""A source model's tokenizer: the tokenizer.json to ship, and the source's own encoder for the parity check.

Either a tokenizer.json file (the `tokenizers` library encodes with it), or a directory transformers
loads a fast tokenizer from: `tokenizer.json`, or a slow one (`vocab.txt`, `tokenizer_config.json`,
...) that it converts. Then transformers encodes the reference inputs, so a conversion that changed
the tokenization shows up as a parity failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from machbot_fn.models.runtime import pad_batch, pad_id_of


class TokenizerError(ValueError):
    """No usable tokenizer where one was expected."""


@dataclass
class EncodedBatch:
    input_ids: np.ndarray
    attention_mask: np.ndarray


Encoder = Callable[[list[str], int], EncodedBatch]


def _shippable(tok: Tokenizer) -> Tokenizer:
    """A copy without padding or truncation settings (the serving side sets its own)."""
    copy = Tokenizer.from_str(tok.to_str())
    copy.no_padding()
    copy.no_truncation()
    return copy


def _encode_with_tokenizers(tok: Tokenizer) -> Encoder:
    def encode(texts: list[str], max_length: int) -> EncodedBatch:
        t = _shippable(tok)
        t.enable_truncation(max_length)
        return EncodedBatch(*pad_batch([e.ids for e in t.encode_batch(list(texts))], pad_id_of(t)))

    return encode


def _encode_with_transformers(hf_tokenizer: Any) -> Encoder:
    def encode(texts: list[str], max_length: int) -> EncodedBatch:
        out = hf_tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="np")
        return EncodedBatch(out["input_ids"].astype(np.int64), out["attention_mask"].astype(np.int64))

    return encode


def load_tokenizer(source: Path) -> tuple[Tokenizer, Encoder]:
    """A tokenizer.json file, or a directory transformers can load a fast tokenizer from (tokenizer.json,
    or vocab.txt / tokenizer_config.json, converted). Returns the file to ship and the source's encoder."""
    source = Path(source)
    if source.is_file():
        if source.suffix != ".json":
            raise TokenizerError(f"--tokenizer {source}: expected a tokenizer.json file or a tokenizer directory")
        try:
            tok = Tokenizer.from_file(str(source))
        except Exception as exc:  # tokenizers raises a bare Exception on malformed files
            raise TokenizerError(f"cannot read the tokenizer {source}: {exc}") from exc
        return _shippable(tok), _encode_with_tokenizers(tok)
    if not source.is_dir():
        raise TokenizerError(f"tokenizer {source} does not exist")
    from transformers import AutoTokenizer

    try:
        hf_tokenizer = AutoTokenizer.from_pretrained(str(source), use_fast=True, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise TokenizerError(
            f"no tokenizer in {source} (needs tokenizer.json, or vocab.txt with tokenizer_config.json); "
            f"pass --tokenizer: {str(exc).splitlines()[0]}"
        ) from exc
    if not getattr(hf_tokenizer, "is_fast", False):
        raise TokenizerError(f"the tokenizer in {source} has no fast (tokenizers) version to ship as tokenizer.json")
    return _shippable(hf_tokenizer.backend_tokenizer), _encode_with_transformers(hf_tokenizer)
