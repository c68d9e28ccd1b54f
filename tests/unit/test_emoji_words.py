"""Emoji and emoticons become words before tokenising (training and serving alike)."""

from __future__ import annotations

import pytest

from machbot_fn.models.emoji_words import emoji_to_words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("😭😭😭", "loudly crying face loudly crying face loudly crying face"),
        ("😍❤️", "smiling face with heart eyes red heart"),
        ("I got the job 🎉", "I got the job party popper"),
        ("👍🏽", "thumbs up"),  # skin tones do not change the meaning
        ("ok :)", "ok smiling face"),
        ("miss you :'(", "miss you crying face"),
        ("love you <3", "love you red heart"),
    ],
)
def test_emoji_and_emoticons_become_their_names(text: str, words: str) -> None:
    assert emoji_to_words(text) == words


def test_a_long_run_of_one_emoji_is_capped_at_three() -> None:
    assert emoji_to_words("😭" * 12) == emoji_to_words("😭😭😭")


def test_different_feelings_give_different_words() -> None:
    assert len({emoji_to_words(e) for e in ("😭", "😍", "🎉", "👍", "😡", "😱")}) == 6


@pytest.mark.parametrize("text", ["no emoji here.", "a:)b", "http://x.y/:P", "", "ratio 3:2"])
def test_text_without_emoji_or_free_standing_emoticons_is_unchanged(text: str) -> None:
    assert emoji_to_words(text) == text
