"""Reply pairs: conversations de-duplicated before the split, whole conversations per split, no test text
in training or validation (on a miniature copy of the data, and on the real data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from machbot_fn.labels import EMOTIONS, NEUTRAL
from machbot_train.data import DataError
from machbot_train.overlap import text_key
from machbot_train.reply_pairs import (
    MAX_HISTORY,
    Dialogue,
    ReplySplits,
    dedupe,
    dialogue_pairs,
    last_pairs,
    load_reply_splits,
    read_dialogues,
    split_of,
    suite_test_texts,
)


def dialogue(id: str, *turns: str, answers: tuple[bool, ...] | None = None) -> Dialogue:
    return Dialogue(
        id,
        "dailydialog",
        turns,
        tuple(NEUTRAL if i else "joy" for i in range(len(turns))),
        answers if answers is not None else tuple(i > 0 for i in range(len(turns))),
    )


def test_a_conversation_that_opens_a_longer_one_is_a_repeat() -> None:
    long = dialogue("a", "I got the job!", "Congratulations!", "Thanks, I start Monday.", "Good luck.")
    cut = dialogue("b", "i got the JOB", "congratulations", "thanks i start monday")  # the same, cut short
    same = dialogue("c", "I got the job!", "Congratulations!", "Thanks, I start Monday.", "Good luck!")
    other = dialogue("d", "I got the job!", "Which one?")  # same opening, different reply: a conversation
    kept, dropped = dedupe([cut, long, other, same])
    assert [d.id for d in kept] == ["a", "d"] and dropped == 2


def test_pairs_keep_the_last_turns_and_skip_what_is_no_reply() -> None:
    d = dialogue("x", "one", "two", "three", "four", "five", "two", answers=(False, True, True, False, True, True))
    pairs = dialogue_pairs(d)
    assert [(p.message, p.reply) for p in pairs] == [("one", "two"), ("two", "three"), ("four", "five")]
    assert pairs[-1].history == ("one", "two", "three")  # up to MAX_HISTORY turns before the message, oldest first
    assert pairs[0].history == () and pairs[0].emotion == "joy" and pairs[1].emotion == NEUTRAL
    assert last_pairs(pairs) == [pairs[-1]]


def test_the_split_is_a_stable_hash_of_the_conversation_id() -> None:
    splits = [split_of(f"dailydialog-train-{i}") for i in range(4000)]
    assert splits == [split_of(f"dailydialog-train-{i}") for i in range(4000)]
    for name, share in (("test", 0.05), ("val", 0.05)):
        assert abs(splits.count(name) / len(splits) - share) < 0.015


def assert_kept_apart(splits: ReplySplits, holdout: list[str]) -> None:
    test_texts = {text_key(t) for p in splits.test for t in (*p.history, p.message, p.reply)} - {""}
    forbidden = test_texts | {text_key(t) for t in holdout} - {""}
    for name in ("train", "val"):
        leaked = [p for p in splits.split(name) if text_key(p.message) in forbidden or text_key(p.reply) in forbidden]
        assert not leaked, f"{len(leaked)} {name} pairs share a text with a test set, e.g. {leaked[:3]}"
    conversations = {name: {p.conversation for p in splits.split(name)} for name in ("train", "val", "test")}
    assert not conversations["train"] & conversations["test"]
    assert not conversations["val"] & conversations["test"]
    assert not conversations["train"] & conversations["val"]
    for p in splits.train + splits.val + splits.test:
        assert p.emotion in (*EMOTIONS, NEUTRAL) and len(p.history) <= MAX_HISTORY
        assert split_of(p.conversation) in ("train", "val", "test")


@pytest.fixture(scope="module")
def mini_splits(mini_data_dir: Path) -> tuple[ReplySplits, list[str]]:
    return load_reply_splits(mini_data_dir), suite_test_texts(mini_data_dir)


def test_mini_data_keeps_test_out_of_training(mini_splits: tuple[ReplySplits, list[str]]) -> None:
    splits, holdout = mini_splits
    assert {p.corpus for p in splits.train} == {"empathetic", "dailydialog", "meld"}
    assert splits.test and splits.val
    assert_kept_apart(splits, holdout)
    assert splits.dropped["repeated conversations"] > 0  # the SEEK copy repeats its conversations, cut short


def test_mini_data_listener_replies_only_for_empathetic_dialogues(
    mini_splits: tuple[ReplySplits, list[str]], mini_data_dir: Path
) -> None:
    splits, _ = mini_splits
    ed = [p for p in splits.train if p.corpus == "empathetic"]
    assert ed and all(p.emotion in EMOTIONS for p in ed)  # the speaker's turn carries the conversation's emotion
    turns = {d.id: d.turns for d in read_dialogues(mini_data_dir, ("empathetic",))}
    assert all(turns[p.conversation].index(p.reply) % 2 == 1 for p in ed)  # the listener: turn 2, 4, ...


def test_real_data_keeps_every_test_text_out_of_training_and_validation() -> None:
    try:
        splits, holdout = load_reply_splits(), suite_test_texts()
    except DataError as exc:
        pytest.skip(str(exc))
    assert len({p.conversation for p in splits.test}) >= 500
    assert_kept_apart(splits, holdout)
