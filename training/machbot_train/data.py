"""The emotion dataset (CARER / dair-ai emotion): `text;label` lines, split on the last `;`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from machbot_fn.labels import EMOTIONS

SPLITS = ("train", "val", "test")


IN_PROJECT = Path(__file__).resolve().parents[1] / "data"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def default_data_dir() -> Path:
    """`MACHBOT_DATA` if set, else the copy in training/data, else the shared data folder beside the checkout."""
    env = os.environ.get("MACHBOT_DATA")
    if env:
        return Path(env)
    if (IN_PROJECT / "emotion" / "train.txt").is_file():
        return IN_PROJECT
    return SHARED


def corpus_dir(relative: str, data_dir: Path | None = None) -> Path:
    """Where one corpus lives: in `data_dir` (or the default), else in the shared data folder.

    MELD (GPL-3.0) is not copied into the repository, so it is read from the shared folder."""
    root = data_dir or default_data_dir()
    if (root / relative).exists() or data_dir is not None or os.environ.get("MACHBOT_DATA"):
        return root / relative
    return SHARED / relative


@dataclass(frozen=True)
class EmotionSplit:
    texts: list[str]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.texts)


class DataError(ValueError):
    """A data file is missing or malformed."""


def load_emotion_split(split: str, data_dir: Path | None = None) -> EmotionSplit:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    path = (data_dir or default_data_dir()) / "emotion" / f"{split}.txt"
    if not path.is_file():
        raise DataError(f"emotion data not found: {path} (set MACHBOT_DATA or --data)")
    texts: list[str] = []
    labels: list[int] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        text, sep, label = line.rpartition(";")
        if not sep or label not in EMOTIONS:
            raise DataError(f"{path}:{lineno}: expected 'text;label' with a known label")
        texts.append(text)
        labels.append(EMOTIONS.index(label))
    return EmotionSplit(texts, labels)


EMOTION_SOURCE = (
    "CARER / dair-ai emotion (Saravia et al., EMNLP 2018), English tweets labelled by hashtags, "
    "16,000 train / 2,000 val / 2,000 test; copy from Ashugujjar3/Tweet_emotion-detector @8e69c5e; "
    "license: educational and research use only (dataset card, 'other')"
)
