"""Normalised text keys: the one definition of "the same text" for de-duplication and leak checks.

Two texts are the same when they agree after Unicode NFKC, case folding and dropping everything
but letters, digits and symbols (emoji): punctuation and whitespace differ between sources
("it ' s" in DailyDialog, "it's" elsewhere, "_comma_" in EmpatheticDialogues).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def text_key(text: str) -> str:
    """'Hello, World!' and 'hello world' share the key 'helloworld'."""
    text = unicodedata.normalize("NFKC", text.replace("_comma_", ",")).casefold()
    return "".join(ch for ch in text if ch.isalnum() or unicodedata.category(ch) == "So")


def keys(texts: Iterable[str]) -> set[str]:
    return {k for k in map(text_key, texts) if k}


def overlapping(texts: Iterable[str], forbidden: set[str]) -> list[str]:
    """The texts whose key is in `forbidden` (e.g. the keys of every test split)."""
    return [t for t in texts if text_key(t) in forbidden]
