"""The classifiers' training mix: tweets, Reddit, everyday dialogue, sitcom and empathetic chat.

Built from `chat_corpora`, in three steps:
1. the test splits of all five corpora are fixed first; every training or validation text whose
   normalised key (`overlap.text_key`) is in any of them is dropped, and so is every training text
   that is also in a validation split, or repeats an earlier training text;
2. DailyDialog's joy (three quarters of its emotional utterances, mostly "thank you" and "great")
   is capped at `dailydialog_joy_cap`, seeded;
3. what is left keeps every corpus whole: the loss's class weights (sqrt inverse frequency) then
   balance the labels, and model selection weighs each corpus equally (mean macro-F1 over the
   validation splits), so no domain wins by size. `corpus_repeat` may show the small corpora more
   often per epoch (after de-duplication, so the copies are deliberate, never leaks).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from machbot_train.chat_corpora import CORPORA, LabelledText, load_corpus
from machbot_train.overlap import keys, text_key

DAILYDIALOG_JOY_CAP = 2500
MIX_SOURCE = (
    "the training mix of training/machbot_train/emotion_mix.py: CARER / dair-ai emotion tweets (research use), "
    "GoEmotions (Apache-2.0), DailyDialog (CC BY-NC-SA 4.0), MELD (GPL-3.0), EmpatheticDialogues (CC BY-NC 4.0), "
    "labels mapped onto the six by label_mapping.py, no text of any test split, DailyDialog joy capped at 2,500"
)


@dataclass(frozen=True)
class EmotionMix:
    train: list[LabelledText]
    val: dict[str, list[LabelledText]]
    test: dict[str, list[LabelledText]]
    dropped: dict[str, int] = field(default_factory=dict)  # why rows left the training/validation sides

    def summary(self) -> dict:
        """Counts per corpus and label, for run logs and manifests."""
        return {
            "train": _counts(self.train),
            "val": {name: len(rows) for name, rows in self.val.items()},
            "test": {name: len(rows) for name, rows in self.test.items()},
            "dropped": dict(self.dropped),
        }


def test_sets(data_dir: Path | None = None, corpora: tuple[str, ...] = CORPORA) -> dict[str, list[LabelledText]]:
    return {name: load_corpus(name, "test", data_dir) for name in corpora}


def build_mix(
    data_dir: Path | None = None,
    corpora: tuple[str, ...] = CORPORA,
    dailydialog_joy_cap: int | None = DAILYDIALOG_JOY_CAP,
    seed: int = 13,
    corpus_repeat: Mapping[str, int] | None = None,
) -> EmotionMix:
    repeat = dict(corpus_repeat or {})
    unknown = set(repeat) - set(corpora)
    if unknown:
        raise ValueError(f"corpus_repeat names {', '.join(sorted(unknown))}; the mix has {', '.join(corpora)}")
    if any(n < 1 for n in repeat.values()):
        raise ValueError(f"corpus_repeat counts must be at least 1, got {repeat}")
    tests = test_sets(data_dir, corpora)
    test_keys = keys(row.text for rows in tests.values() for row in rows)
    dropped: Counter[str] = Counter()

    val: dict[str, list[LabelledText]] = {}
    for name in corpora:
        kept = []
        for row in load_corpus(name, "val", data_dir):
            if text_key(row.text) in test_keys:
                dropped["val text in a test split"] += 1
            else:
                kept.append(row)
        val[name] = kept
    val_keys = keys(row.text for rows in val.values() for row in rows)

    train: list[LabelledText] = []
    seen: set[str] = set()
    for name in corpora:
        rows = load_corpus(name, "train", data_dir)
        if name == "dailydialog" and dailydialog_joy_cap is not None:
            rows = _cap_label(rows, "joy", dailydialog_joy_cap, seed)
        for row in rows:
            key = text_key(row.text)
            if not key:
                dropped["empty after normalising"] += 1
            elif key in test_keys:
                dropped["train text in a test split"] += 1
            elif key in val_keys:
                dropped["train text in a validation split"] += 1
            elif key in seen:
                dropped["repeated train text"] += 1
            else:
                seen.add(key)
                train.append(row)
    for name, times in repeat.items():
        train += [row for row in train if row.corpus == name] * (times - 1)
    random.Random(seed).shuffle(train)
    return EmotionMix(train, val, tests, dict(dropped))


def _cap_label(rows: list[LabelledText], label: str, cap: int, seed: int) -> list[LabelledText]:
    hits = [i for i, row in enumerate(rows) if row.label == label]
    if len(hits) <= cap:
        return rows
    keep = set(random.Random(seed).sample(hits, cap))
    return [row for i, row in enumerate(rows) if row.label != label or i in keep]


def _counts(rows: list[LabelledText]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for row in rows:
        out.setdefault(row.corpus, Counter())[row.label] += 1
    return {name: dict(sorted(c.items())) for name, c in out.items()}
