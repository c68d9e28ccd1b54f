"""The replier's prompt format and text tidying (generation itself: test_replier_parity.py)."""

from __future__ import annotations

from machbot_fn.models.replier import MAX_HISTORY, banned_tokens, build_prompt, tidy


def test_build_prompt_format() -> None:
    prompt = build_prompt("Sadness", ["my dog died", "oh no, i'm so sorry"], "he was 14")
    assert prompt == "emotion: sadness message: he was 14 context: oh no, i'm so sorry | my dog died"


def test_build_prompt_keeps_only_the_last_turns_and_skips_blanks() -> None:
    history = [f"turn {i}" for i in range(10)] + ["  "]
    prompt = build_prompt("joy", history, "hi")
    assert MAX_HISTORY == 3
    assert prompt == "emotion: joy message: hi context: turn 9 | turn 8 | turn 7"


def test_build_prompt_without_history() -> None:
    assert (
        build_prompt("fear", (), "  scared \n of   the dark ")
        == "emotion: fear message: scared of the dark context: none"
    )


def test_tidy() -> None:
    assert tidy("  i 'm so sorry . i hope it gets better !") == "I 'm so sorry. I hope it gets better!"
    assert tidy("that's great. what did you do?") == "That's great. What did you do?"
    assert tidy("") == ""


def test_banned_tokens_forbid_repeating_an_ngram() -> None:
    assert banned_tokens([0, 5, 6, 7, 5, 6], 3) == {7}  # "5 6 7" exists, so after "5 6" 7 is banned
    assert banned_tokens([0, 5, 6, 7, 5], 2) == {6}
    assert banned_tokens([0, 5, 6], 3) == set()  # "5 6" never appeared before
    assert banned_tokens([0, 5], 0) == set()
    assert banned_tokens([0], 3) == set()
