"""(message, human reply) pairs from three dialogue corpora, split by whole conversations.

What the retrieval replier serves and is judged on: the replies people gave. Sources:

| corpus | conversations | a reply is | the message's emotion |
|---|---|---|---|
| EmpatheticDialogues (`empathetic`) | both SEEK files | every listener turn (2nd, 4th, ...) | the conversation's, mapped onto the six (`ED_TO_SIX`) |
| DailyDialog (`dailydialog`) | all three official splits | every turn after the first | the turn's own label (`DAILYDIALOG_TO_SIX`); "no emotion" is `neutral` |
| MELD (`meld`, GPL-3.0, read from the shared folder) | all three official splits | a turn answering another speaker | the turn's own label (`MELD_TO_SIX`); neutral is `neutral` |

Each pair keeps up to `MAX_HISTORY` turns before the message (oldest first). A reply that repeats an
earlier turn of its conversation is skipped (the SEEK copy repeats a few turns).

Conversations are de-duplicated before anything is split: the SEEK copy holds each
EmpatheticDialogues conversation several times, cut after 2, 4, ... turns, and DailyDialog repeats
some dialogues across its own splits. A conversation is identified by the normalised text of its
turns (`overlap.text_key`); one whose turns are the opening turns of a longer one is dropped, the
longer kept. Then each conversation goes to test (5 %), validation (5 %) or train by a hash of its
id. Finally every train or validation pair whose normalised message or reply equals a normalised
text of the test conversations (any turn), or of the classifier suite's test sets
(`emotion_mix.test_sets`), is dropped, so nothing of a test set reaches the reply pool; so are train
pairs equal to a validation text.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from machbot_fn.labels import EMOTIONS, NEUTRAL
from machbot_train.chat_corpora import _read_csv, dailydialog_dialogues, detokenize, ed_dialogues
from machbot_train.data import corpus_dir
from machbot_train.label_mapping import DAILYDIALOG_TO_SIX, MELD_TO_SIX
from machbot_train.overlap import keys, text_key

CORPORA = ("empathetic", "dailydialog", "meld")
SPLITS = ("train", "val", "test")
TEST_PERCENT, VAL_PERCENT = 5, 5
MAX_HISTORY = 3  # turns before the message kept as context (the served replier reads as many)
MELD_FILES = {"train": "train_sent_emo.csv", "dev": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}
SOURCES = {
    "empathetic": "EmpatheticDialogues (Rashkin et al., ACL 2019; CC BY-NC 4.0), SEEK copy (valid.csv + test.csv)",
    "dailydialog": "DailyDialog (Li et al., IJCNLP 2017; CC BY-NC-SA 4.0), train + validation + test",
    "meld": "MELD (Poria et al., ACL 2019; GPL-3.0), Friends transcripts, train + dev + test",
}


@dataclass(frozen=True)
class Dialogue:
    """One conversation: turns in order, each turn's emotion, and which turns answer the one before."""

    id: str  # "<corpus>-<file or split>-<id in the source>"
    corpus: str
    turns: tuple[str, ...]
    emotions: tuple[str, ...]  # one of EMOTIONS or NEUTRAL per turn
    answers: tuple[bool, ...]  # answers[i]: turn i is a reply to turn i - 1 (never turn 0)

    @cached_property
    def key(self) -> tuple[str, ...]:
        """The normalised text of every turn (computed once)."""
        return tuple(text_key(t) for t in self.turns)


@dataclass(frozen=True)
class ReplyPair:
    conversation: str
    corpus: str
    history: tuple[str, ...]  # up to MAX_HISTORY turns before the message, oldest first
    message: str
    emotion: str  # the message's emotion: one of EMOTIONS or NEUTRAL
    reply: str  # what a person answered


@dataclass
class ReplySplits:
    train: list[ReplyPair]
    val: list[ReplyPair]
    test: list[ReplyPair]
    conversations: dict[str, int]  # split -> conversations
    dropped: Counter[str] = field(default_factory=Counter)  # why pairs or conversations were left out

    def split(self, name: str) -> list[ReplyPair]:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def _empathetic(data_dir: Path | None) -> list[Dialogue]:
    out = []
    for name, dialogue_id, emotion, turns in ed_dialogues(data_dir):
        # The speaker (turns 1, 3, ...) feels the conversation's emotion; the listener answers.
        emotions = tuple(emotion if i % 2 == 0 else NEUTRAL for i in range(len(turns)))
        answers = tuple(i % 2 == 1 for i in range(len(turns)))
        out.append(Dialogue(f"empathetic-{name[:-4]}-{dialogue_id}", "empathetic", turns, emotions, answers))
    return out


def _dailydialog(data_dir: Path | None) -> list[Dialogue]:
    out = []
    for split in ("train", "val", "test"):
        for n, dialogue in enumerate(dailydialog_dialogues(split, data_dir)):
            turns = tuple(text for text, _ in dialogue)
            emotions = tuple(DAILYDIALOG_TO_SIX.get(label, NEUTRAL) for _, label in dialogue)
            answers = tuple(i > 0 for i in range(len(turns)))
            out.append(Dialogue(f"dailydialog-{split}-{n}", "dailydialog", turns, emotions, answers))
    return out


def _meld(data_dir: Path | None) -> list[Dialogue]:
    folder = corpus_dir("dialogue/meld", data_dir)
    out = []
    for split, name in MELD_FILES.items():
        by_dialogue: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in _read_csv(folder / name):
            by_dialogue[row["Dialogue_ID"]].append(row)
        for dialogue_id, rows in by_dialogue.items():
            rows.sort(key=lambda r: int(r["Utterance_ID"]))
            turns = tuple(detokenize(r["Utterance"]) for r in rows)
            emotions = tuple(MELD_TO_SIX.get(r["Emotion"].strip(), NEUTRAL) for r in rows)
            answers = tuple(i > 0 and rows[i]["Speaker"] != rows[i - 1]["Speaker"] for i in range(len(rows)))
            out.append(Dialogue(f"meld-{split}-{dialogue_id}", "meld", turns, emotions, answers))
    return out


_READERS = {"empathetic": _empathetic, "dailydialog": _dailydialog, "meld": _meld}


def read_dialogues(data_dir: Path | None = None, corpora: tuple[str, ...] = CORPORA) -> list[Dialogue]:
    """Every conversation of the corpora as the files hold them (repeats included)."""
    unknown = set(corpora) - set(CORPORA)
    if unknown:
        raise ValueError(f"unknown dialogue corpus {sorted(unknown)}; expected some of {', '.join(CORPORA)}")
    return [d for name in corpora for d in _READERS[name](data_dir)]


def dedupe(dialogues: Iterable[Dialogue]) -> tuple[list[Dialogue], int]:
    """One conversation per normalised text: repeats, and conversations that are the opening turns of a
    longer one, are dropped (the longest is kept; ties go to the first in corpus order).
    Returns the kept conversations in their original order and how many were dropped."""
    ordered = list(dialogues)
    rank = sorted(range(len(ordered)), key=lambda i: -len(ordered[i].turns))
    covered: set[tuple[str, ...]] = set()  # every opening of every kept conversation
    kept: set[int] = set()
    for i in rank:
        key = ordered[i].key
        if not any(key) or key in covered:
            continue
        kept.add(i)
        covered.update(key[:n] for n in range(1, len(key) + 1))
    return [d for i, d in enumerate(ordered) if i in kept], len(ordered) - len(kept)


def split_of(conversation_id: str) -> str:
    """test / val / train by a hash of the conversation id: stable whatever the order of the files."""
    bucket = int(hashlib.sha256(conversation_id.encode()).hexdigest()[:8], 16) % 100
    if bucket < TEST_PERCENT:
        return "test"
    return "val" if bucket < TEST_PERCENT + VAL_PERCENT else "train"


def dialogue_pairs(dialogue: Dialogue) -> list[ReplyPair]:
    """Every (message, reply) of one conversation, with the turns before the message."""
    out = []
    seen: set[str] = set()
    for i, (text, key) in enumerate(zip(dialogue.turns, dialogue.key, strict=True)):
        if i > 0 and dialogue.answers[i] and key and key not in seen and dialogue.key[i - 1]:
            history = tuple(dialogue.turns[max(0, i - 1 - MAX_HISTORY) : i - 1])
            out.append(
                ReplyPair(dialogue.id, dialogue.corpus, history, dialogue.turns[i - 1], dialogue.emotions[i - 1], text)
            )
        seen.add(key)
    return out


def suite_test_texts(data_dir: Path | None = None) -> list[str]:
    """The classifier suite's test texts (tweets, GoEmotions, DailyDialog, EmpatheticDialogues, MELD)."""
    from machbot_train.emotion_mix import test_sets

    return [row.text for rows in test_sets(data_dir).values() for row in rows]


def load_reply_splits(
    data_dir: Path | None = None,
    corpora: tuple[str, ...] = CORPORA,
    holdout: Iterable[str] | None = None,
) -> ReplySplits:
    """Train / validation / test pairs (see the module doc). `holdout`: further texts no train or
    validation pair may contain (default: the classifier suite's test sets)."""
    dialogues, repeats = dedupe(read_dialogues(data_dir, corpora))
    by_split: dict[str, list[Dialogue]] = {s: [] for s in SPLITS}
    for d in dialogues:
        by_split[split_of(d.id)].append(d)
    test_keys = {k for d in by_split["test"] for k in d.key if k}
    test_keys |= keys(suite_test_texts(data_dir) if holdout is None else holdout)
    val_keys = {k for d in by_split["val"] for k in d.key if k}
    dropped: Counter[str] = Counter({"repeated conversations": repeats})

    def kept(split: str, forbidden: list[tuple[set[str], str]]) -> list[ReplyPair]:
        out = []
        for d in by_split[split]:
            key_of = dict(zip(d.turns, d.key, strict=True))
            for pair in dialogue_pairs(d):
                message, reply = key_of[pair.message], key_of[pair.reply]
                reason = next((why for bad, why in forbidden if message in bad or reply in bad), None)
                if reason:
                    dropped[f"{split} pairs sharing a text with {reason}"] += 1
                else:
                    out.append(pair)
        return out

    test = [p for d in by_split["test"] for p in dialogue_pairs(d)]
    val = kept("val", [(test_keys, "a test set")])
    train = kept("train", [(test_keys, "a test set"), (val_keys, "validation")])
    return ReplySplits(train, val, test, {s: len(v) for s, v in by_split.items()}, dropped)


def last_pairs(pairs: Iterable[ReplyPair]) -> list[ReplyPair]:
    """The last pair of every conversation, in order of first appearance."""
    last: dict[str, ReplyPair] = {}
    for pair in pairs:
        last[pair.conversation] = pair
    return list(last.values())


def emotion_counts(pairs: Iterable[ReplyPair]) -> dict[str, int]:
    counts = Counter(p.emotion for p in pairs)
    return {label: counts.get(label, 0) for label in (*EMOTIONS, NEUTRAL)}
