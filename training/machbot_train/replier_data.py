"""(source, target) pairs for the T5 replier from EmpatheticDialogues (and optionally MELD).

ED conversations alternate speaker (odd turns) and listener (even turns). The replier plays the
listener, so every listener turn is a target; its source is `build_prompt(emotion, earlier turns,
the speaker turn it answers)`, the very function the Cloud Function uses when serving.

The conversation's emotion (32 ED classes) is mapped onto the classifier's six labels, because at
serving time the prompt carries the classifier's label. The mapping (ED_TO_SIX) groups each ED class
with the closest of the six; ED has no neutral class, so every conversation gets one:

| six label | ED emotions |
|---|---|
| sadness | sad, devastated, lonely, disappointed, guilty, ashamed, embarrassed, nostalgic |
| joy | joyful, excited, content, proud, grateful, hopeful, confident, prepared, anticipating |
| love | caring, faithful, trusting, sentimental |
| anger | angry, furious, annoyed, jealous, disgusted |
| fear | afraid, terrified, anxious, apprehensive |
| surprise | surprised, impressed (and the one malformed value `surprisedacknowledging`) |

MELD (Friends, several speakers, GPL-3.0) is off by default: its sitcom register is far from the
empathetic replies the bot should give. With `include_meld`, each utterance answering a different
speaker becomes a target, conditioned on the utterance's own label where it is one of the six.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from machbot_fn.labels import EMOTIONS
from machbot_fn.models.replier import build_prompt
from machbot_train.chat_corpora import ed_dialogues
from machbot_train.data import DataError, corpus_dir
from machbot_train.label_mapping import ED_TO_SIX

MELD_FILES = ("train_sent_emo.csv", "dev_sent_emo.csv", "test_sent_emo.csv")
ED_SOURCE = (
    "EmpatheticDialogues (Rashkin et al., ACL 2019; CC BY-NC 4.0) as prepared by wlr737/EMNLP2022-SEEK "
    "(data/ED/valid.csv + test.csv, commit cd4e5d2); own train/validation split by conversation"
)
MELD_SOURCE = "MELD (Poria et al., ACL 2019; declare-lab/MELD, GPL-3.0), Friends transcripts"
HISTORY_TURNS = 2  # earlier turns in the prompt besides the one being answered

assert set(ED_TO_SIX.values()) == set(EMOTIONS)


@dataclass(frozen=True)
class Pair:
    dialogue: str  # conversation id, for splitting without leaking a conversation across splits
    emotion: str
    source: str
    target: str
    message: str = ""  # the turn being answered and the turns before it, for reports
    history: tuple[str, ...] = ()


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataError(f"dialogue data not found: {path} (set MACHBOT_DATA or --data)")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _pairs_from_turns(dialogue: str, emotion: str, turns: list[str], target_parity: int) -> list[Pair]:
    pairs = []
    for i in range(1, len(turns)):
        if i % 2 != target_parity or not turns[i] or turns[i] in turns[:i]:
            continue  # SEEK's copy repeats a few turns; a repeated turn is no reply
        history = tuple(turns[max(0, i - 1 - HISTORY_TURNS) : i - 1])
        source = build_prompt(emotion, history, turns[i - 1])
        pairs.append(Pair(dialogue, emotion, source, turns[i], turns[i - 1], history))
    return pairs


def load_ed_pairs(data_dir: Path | None = None) -> list[Pair]:
    """Listener replies from both ED files (turn 2, 4, ... answer turn 1, 3, ...), repeats included.

    The shipped T5 was trained on these (split by `split_pairs`); the retrieval replier's pairs, with
    repeats removed and a held-out test split, are `machbot_train.reply_pairs`."""
    pairs: list[Pair] = []
    for _, dialogue, emotion, ordered in ed_dialogues(data_dir):
        pairs.extend(_pairs_from_turns(f"ed-{dialogue}", emotion, list(ordered), target_parity=1))
    return pairs


def load_meld_pairs(data_dir: Path | None = None) -> list[Pair]:
    """Utterances that answer another speaker, conditioned on their own label (neutral/disgust -> skipped)."""
    folder = corpus_dir("dialogue/meld", data_dir)
    pairs: list[Pair] = []
    for name in MELD_FILES:
        rows = _read_csv(folder / name)
        by_dialogue: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in rows:
            by_dialogue[row["Dialogue_ID"]].append(row)
        for dialogue, utterances in by_dialogue.items():
            utterances.sort(key=lambda r: int(r["Utterance_ID"]))
            texts = [" ".join(r["Utterance"].replace("\u2019", "'").lower().split()) for r in utterances]
            for i in range(1, len(utterances)):
                prev = utterances[i - 1]
                if utterances[i]["Speaker"] == prev["Speaker"] or prev["Emotion"] not in EMOTIONS:
                    continue
                history = tuple(texts[max(0, i - 1 - HISTORY_TURNS) : i - 1])
                source = build_prompt(prev["Emotion"], history, texts[i - 1])
                pairs.append(Pair(f"meld-{name}-{dialogue}", prev["Emotion"], source, texts[i], texts[i - 1], history))
    return pairs


def load_pairs(data_dir: Path | None = None, include_meld: bool = False) -> list[Pair]:
    pairs = load_ed_pairs(data_dir)
    if include_meld:
        pairs += load_meld_pairs(data_dir)
    return pairs


def split_pairs(pairs: list[Pair], val_fraction: float = 0.05, seed: int = 13) -> tuple[list[Pair], list[Pair]]:
    """Split by conversation (seeded), so no conversation has turns on both sides."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    dialogues = sorted({p.dialogue for p in pairs})
    random.Random(seed).shuffle(dialogues)
    val_ids = set(dialogues[: max(1, round(len(dialogues) * val_fraction))])
    return [p for p in pairs if p.dialogue not in val_ids], [p for p in pairs if p.dialogue in val_ids]


def corpus_texts(pairs: list[Pair]) -> list[str]:
    """Every distinct text the tokenizer should cover: prompts (with their keywords) and replies."""
    return sorted({p.source for p in pairs} | {p.target for p in pairs})
