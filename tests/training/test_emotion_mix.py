"""The training mix on the real data: no test text leaks into training or validation, repeats are gone."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from machbot_train.chat_corpora import CORPORA, detokenize, ed_conversations, load_corpus
from machbot_train.data import DataError
from machbot_train.emotion_mix import DAILYDIALOG_JOY_CAP, build_mix
from machbot_train.overlap import text_key


@pytest.fixture(scope="module")
def mix():
    try:
        return build_mix()
    except DataError as exc:  # a checkout without the data (and without ../shared/data beside it)
        pytest.skip(str(exc))


def test_text_key_ignores_case_whitespace_and_punctuation() -> None:
    assert text_key("Hello, World!") == text_key("hello world") == text_key(" HELLO   world . ")
    assert text_key("it ' s fine") == text_key("It's fine.")
    assert text_key("i'm sad _comma_ really") == text_key("I'm sad, really")
    assert text_key("😭😭") != text_key("😍😍") != ""
    assert text_key("i am sad") != text_key("i am glad")


def test_detokenize_joins_pre_tokenised_dialogue_text() -> None:
    assert detokenize("we 're here , it ' s fine .") == "we're here, it's fine."
    assert detokenize("I don ’ t know ... ") == "I don't know..."


def test_no_test_text_is_in_any_training_or_validation_split(mix) -> None:
    test_keys = {text_key(row.text) for rows in mix.test.values() for row in rows}
    leaked_train = [row.text for row in mix.train if text_key(row.text) in test_keys]
    leaked_val = [row.text for rows in mix.val.values() for row in rows if text_key(row.text) in test_keys]
    assert not leaked_train, f"{len(leaked_train)} training texts are in a test split, e.g. {leaked_train[:3]}"
    assert not leaked_val, f"{len(leaked_val)} validation texts are in a test split, e.g. {leaked_val[:3]}"


def test_training_has_no_repeats_and_no_validation_text(mix) -> None:
    train_keys = [text_key(row.text) for row in mix.train]
    assert len(train_keys) == len(set(train_keys))
    val_keys = {text_key(row.text) for rows in mix.val.values() for row in rows}
    assert not val_keys & set(train_keys)


def test_every_corpus_is_in_every_split_and_dailydialog_joy_is_capped(mix) -> None:
    assert set(mix.test) == set(mix.val) == set(CORPORA)
    assert {row.corpus for row in mix.train} == set(CORPORA)
    joy = Counter(row.label for row in mix.train if row.corpus == "dailydialog")["joy"]
    assert 0 < joy <= DAILYDIALOG_JOY_CAP
    assert all(len(rows) >= 500 for rows in mix.test.values())


def test_the_test_splits_are_the_published_ones(mix) -> None:
    # Official test splits (single-label, mapped rows); our own split only for EmpatheticDialogues.
    assert len(mix.test["tweets"]) == 2000
    assert len(mix.test["dailydialog"]) == 1419  # 1,372 + 47 disgust (-> anger)
    assert {row.label for row in mix.test["dailydialog"]} == {"sadness", "joy", "anger", "fear", "surprise"}


def test_empathetic_dialogues_are_deduplicated_before_the_split() -> None:
    try:
        conversations = ed_conversations()
    except DataError as exc:
        pytest.skip(str(exc))
    first_keys = [text_key(c.turns[0]) for c in conversations]
    assert len(first_keys) == len(set(first_keys))
    assert 5000 <= len(conversations) <= 5600  # of ~11k in the files, ~5,300 distinct first turns
    by_split = Counter(c.split for c in conversations)
    assert by_split["test"] > 400 and by_split["val"] > 400 and by_split["train"] > 4000
    splits = {
        split: {text_key(t) for c in conversations if c.split == split for t in c.turns[:1]} for split in by_split
    }
    assert not splits["test"] & splits["train"] and not splits["test"] & splits["val"]


def test_unknown_corpus_or_split_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="unknown corpus"):
        load_corpus("twitter", "test")
    with pytest.raises(DataError, match="unknown split"):
        load_corpus("tweets", "dev")


def test_corpus_repeat_shows_a_corpus_more_often_and_nothing_else(mini_data_dir) -> None:
    once = build_mix(mini_data_dir)
    twice = build_mix(mini_data_dir, corpus_repeat={"dailydialog": 2})
    count = Counter(row.corpus for row in once.train)
    assert count["dailydialog"] > 0
    assert Counter(row.corpus for row in twice.train) == count + Counter({"dailydialog": count["dailydialog"]})
    assert Counter(row.text for row in twice.train if row.corpus == "dailydialog") == Counter(
        {row.text: 2 for row in once.train if row.corpus == "dailydialog"}
    )
    assert twice.val == once.val and twice.test == once.test


def test_corpus_repeat_rejects_unknown_corpora_and_counts_below_one(mini_data_dir) -> None:
    with pytest.raises(ValueError, match="corpus_repeat names reddit"):
        build_mix(mini_data_dir, corpus_repeat={"reddit": 2})
    with pytest.raises(ValueError, match="at least 1"):
        build_mix(mini_data_dir, corpus_repeat={"meld": 0})


def test_the_train_command_rejects_a_malformed_repeat_in_one_line(tmp_path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "machbot.cli",
            "train",
            "distilbert",
            "--runs",
            str(tmp_path),
            "--repeat",
            "dailydialog",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    err = " ".join(done.stderr.split())
    assert done.returncode == 2 and "--repeat expects CORPUS=N" in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing started
