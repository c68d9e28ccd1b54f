"""The labelled emotion corpora beside the tweets, read into one shape: `LabelledText`.

| name | what | splits |
|---|---|---|
| tweets | CARER / dair-ai emotion tweets | the official train / val / test |
| goemotions | GoEmotions Reddit comments, single-emotion rows after `label_mapping` | the official train / dev / test |
| dailydialog | DailyDialog utterances with an emotion (five labels, no love) | the official train / validation / test |
| meld | MELD (Friends) utterances with an emotion (five labels) | the official train / dev / test |
| empathetic | EmpatheticDialogues first turns with the conversation's emotion | our own, by conversation |

EmpatheticDialogues (the SEEK copy) repeats conversations: they are de-duplicated by the
normalised text of their first turn before the split, and the split is a hash of that key, so a
repeat can never land on both sides and the split does not depend on file order.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from machbot_fn.labels import EMOTIONS
from machbot_train.data import DataError, corpus_dir, load_emotion_split
from machbot_train.label_mapping import (
    DAILYDIALOG_TO_SIX,
    ED_TO_SIX,
    GOEMOTIONS_TO_SIX,
    MELD_TO_SIX,
    map_labels,
)
from machbot_train.overlap import text_key

SPLITS = ("train", "val", "test")
CORPORA = ("tweets", "goemotions", "dailydialog", "meld", "empathetic")
CHAT_CORPORA = CORPORA[1:]  # the "chat" figure is their mean macro-F1
ED_VAL_PERCENT, ED_TEST_PERCENT = 10, 10


@dataclass(frozen=True)
class LabelledText:
    text: str
    label: str  # one of EMOTIONS
    corpus: str


@dataclass(frozen=True)
class Conversation:
    """One de-duplicated EmpatheticDialogues conversation: turns in order, speaker first."""

    id: str
    emotion: str  # the conversation's emotion, mapped onto the six
    turns: tuple[str, ...]
    split: str


# Pre-tokenised dialogue text ("we 're", "it ' s", "it .", "_comma_") joined back into ordinary text.
_DETOKENIZE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"_comma_"), ","),
    (re.compile(r"[\u2018\u2019\x92]"), "'"),
    (re.compile(r"[\u201c\u201d]"), '"'),
    (re.compile(r"\u2026"), "..."),
    (re.compile(r"(\w) ' (\w)"), r"\1'\2"),
    (re.compile(r"\s+(n't|'s|'re|'ve|'ll|'m|'d)\b", re.IGNORECASE), r"\1"),
    (re.compile(r"(?:\s*\.){2,}"), "..."),
    (re.compile(r"\s+([.,!?;:%)])"), r"\1"),
    (re.compile(r"([($#])\s+"), r"\1"),
    (re.compile(r"\\"), ""),
    (re.compile(r"\s{2,}"), " "),
)


def detokenize(text: str) -> str:
    """'we 're here , it ' s fine .' -> "we're here, it's fine." """
    text = " ".join(text.split())
    for pattern, repl in _DETOKENIZE:
        text = pattern.sub(repl, text)
    return text.strip()


def load_corpus(name: str, split: str, data_dir: Path | None = None) -> list[LabelledText]:
    """One corpus split as `LabelledText`s (rows without a six-label emotion are left out)."""
    if name not in CORPORA:
        raise DataError(f"unknown corpus {name!r}; expected one of {', '.join(CORPORA)}")
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return _LOADERS[name](split, data_dir)


def _tweets(split: str, data_dir: Path | None) -> list[LabelledText]:
    data = load_emotion_split(split, data_dir)
    return [LabelledText(t, EMOTIONS[y], "tweets") for t, y in zip(data.texts, data.labels, strict=True)]


def _goemotions(split: str, data_dir: Path | None) -> list[LabelledText]:
    folder = corpus_dir("goemotions", data_dir)
    names = _read(folder / "emotions.txt").split()
    path = folder / f"{'dev' if split == 'val' else split}.tsv"
    out = []
    for lineno, line in enumerate(_read(path).splitlines(), 1):
        parts = line.split("\t")
        if len(parts) != 3:
            raise DataError(f"{path}:{lineno}: expected text, label ids and id separated by tabs")
        label = map_labels((names[int(i)] for i in parts[1].split(",")), GOEMOTIONS_TO_SIX)
        if label:
            out.append(LabelledText(parts[0].strip(), label, "goemotions"))
    return out


def dailydialog_dialogues(split: str, data_dir: Path | None = None) -> list[list[tuple[str, int]]]:
    """DailyDialog's dialogues in one official split: each a list of (turn text, emotion id), in order."""
    name = {"train": "train", "val": "validation", "test": "test"}[split]
    folder = corpus_dir("dailydialog", data_dir) / name
    dialogues = _read(folder / f"dialogues_{name}.txt").splitlines()
    emotions = _read(folder / f"dialogues_emotion_{name}.txt").splitlines()
    out = []
    for line, labels in zip(dialogues, emotions, strict=True):
        turns = [t for t in line.split("__eou__") if t.strip()]
        # One train dialogue has a turn more than labels (a known quirk of the release): zip to the shorter.
        out.append([(detokenize(turn), int(label_id)) for turn, label_id in zip(turns, labels.split(), strict=False)])
    return out


def _dailydialog(split: str, data_dir: Path | None) -> list[LabelledText]:
    return [
        LabelledText(turn, DAILYDIALOG_TO_SIX[label_id], "dailydialog")
        for dialogue in dailydialog_dialogues(split, data_dir)
        for turn, label_id in dialogue
        if label_id in DAILYDIALOG_TO_SIX
    ]


def _meld(split: str, data_dir: Path | None) -> list[LabelledText]:
    name = {"train": "train", "val": "dev", "test": "test"}[split]
    rows = _read_csv(corpus_dir("dialogue/meld", data_dir) / f"{name}_sent_emo.csv")
    out = []
    for row in rows:
        label = MELD_TO_SIX.get(row["Emotion"].strip())
        if label:
            out.append(LabelledText(detokenize(row["Utterance"]), label, "meld"))
    return out


def _empathetic(split: str, data_dir: Path | None) -> list[LabelledText]:
    return [LabelledText(c.turns[0], c.emotion, "empathetic") for c in ed_conversations(data_dir) if c.split == split]


_LOADERS = {
    "tweets": _tweets,
    "goemotions": _goemotions,
    "dailydialog": _dailydialog,
    "meld": _meld,
    "empathetic": _empathetic,
}


def neutral_texts(split: str, data_dir: Path | None = None, per_corpus: int = 1000, seed: int = 13) -> list[str]:
    """Texts their annotators gave no emotion (GoEmotions `neutral` alone, DailyDialog's 0), seeded
    samples of `per_corpus` each: what the "not sure" threshold is chosen against."""
    folder = corpus_dir("goemotions", data_dir)
    names = _read(folder / "emotions.txt").split()
    goemotions = [
        parts[0].strip()
        for parts in (
            line.split("\t") for line in _read(folder / f"{'dev' if split == 'val' else split}.tsv").splitlines()
        )
        if [names[int(i)] for i in parts[1].split(",")] == ["neutral"]
    ]
    dailydialog = [
        turn for dialogue in dailydialog_dialogues(split, data_dir) for turn, label in dialogue if label == 0
    ]
    rng = random.Random(seed)
    return [t for texts in (goemotions, dailydialog) for t in rng.sample(texts, min(per_corpus, len(texts)))]


ED_FILES = ("valid.csv", "test.csv")


def ed_dialogues(data_dir: Path | None = None) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Every EmpatheticDialogues conversation as it is in the files, repeats included:
    (file name, dialogue id, the conversation's emotion mapped onto the six, turns in order)."""
    folder = corpus_dir("dialogue/empathetic_dialogues", data_dir)
    out = []
    for name in ED_FILES:
        turns: dict[str, list[tuple[int, str]]] = defaultdict(list)
        emotion: dict[str, str] = {}
        for row in _read_csv(folder / name):
            turns[row["dialogue_id"]].append((int(row["turns"]), detokenize(row["text"])))
            emotion[row["dialogue_id"]] = row["dialogue_emotion"].strip()
        for dialogue_id, numbered in turns.items():
            label = ED_TO_SIX.get(emotion[dialogue_id])
            if label is None:
                raise DataError(f"{name}: conversation {dialogue_id} has an unknown emotion {emotion[dialogue_id]!r}")
            out.append((name, dialogue_id, label, tuple(text for _, text in sorted(numbered))))
    return out


def ed_conversations(data_dir: Path | None = None) -> list[Conversation]:
    """EmpatheticDialogues conversations, one per distinct first turn, each with its split."""
    seen: set[str] = set()
    out: list[Conversation] = []
    for name, dialogue_id, label, ordered in ed_dialogues(data_dir):
        key = text_key(ordered[0])
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(Conversation(f"ed-{name[:-4]}-{dialogue_id}", label, ordered, _hash_split(key)))
    return out


def _hash_split(key: str) -> str:
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100
    if bucket < ED_TEST_PERCENT:
        return "test"
    return "val" if bucket < ED_TEST_PERCENT + ED_VAL_PERCENT else "train"


def _read(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"data file not found: {path} (set MACHBOT_DATA or --data)")
    return path.read_text(encoding="utf-8")


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataError(f"data file not found: {path} (set MACHBOT_DATA or --data)")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
