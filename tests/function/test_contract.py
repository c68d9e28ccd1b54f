"""The message contract: what the function accepts before doing any work."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from machbot_fn.errors import InvalidMessage, UnknownModel
from machbot_fn.serving.contract import MAX_TEXT_CHARS, owner_of, parse_message

NOW = datetime(2026, 11, 23, tzinfo=UTC)
PATH = "users/u1/messages/m1"


def msg(**fields):
    return {"text": "hello", "model": "bert", "createdAt": NOW, **fields}


def test_a_valid_message_is_parsed() -> None:
    req = parse_message(PATH, msg(text="  i feel great  ", conversationId="c-1"))
    assert req.text == "i feel great"
    assert req.model == "bert" and req.created_at == NOW and req.conversation_id == "c-1"
    assert req.owner == "u1"


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"text": ""}, "invalid_text", "empty"),
        ({"text": " \n\t "}, "invalid_text", "empty"),
        ({"text": "a" * (MAX_TEXT_CHARS + 1)}, "invalid_text", "too long"),
        ({"text": "😀" * 1001}, "invalid_text", "too long"),  # 2002 UTF-16 units, as the rules count
        ({"text": 42}, "invalid_text", "string"),
        ({"text": None}, "invalid_text", "string"),
        ({"text": ["a"]}, "invalid_text", "string"),
        ({"text": "bell\x07"}, "invalid_text", "control"),
        ({"text": "nul\x00byte"}, "invalid_text", "control"),
        ({"text": "lone \ud800 surrogate"}, "invalid_text", "surrogate"),
        ({"model": "BERT"}, "unknown_model", "model"),
        ({"model": "../etc"}, "unknown_model", "model"),
        ({"model": 3}, "unknown_model", "model"),
        ({"model": "x" * 40}, "unknown_model", "model"),
        ({"conversationId": "a/b"}, "invalid_message", "conversationId"),
        ({"conversationId": "c" * 129}, "invalid_message", "conversationId"),
        ({"conversationId": 7}, "invalid_message", "conversationId"),
    ],
)
def test_bad_input_gets_a_clear_error(fields, code, words) -> None:
    with pytest.raises((InvalidMessage, UnknownModel)) as err:
        parse_message(PATH, msg(**fields))
    assert err.value.code == code
    assert words in str(err.value)


def test_text_at_the_limit_is_accepted() -> None:
    assert len(parse_message(PATH, msg(text="😀" * 1000)).text) == 1000
    assert parse_message(PATH, msg(text="a" * MAX_TEXT_CHARS)).text


def test_newlines_tabs_emoji_and_markup_are_text() -> None:
    text = "line one\nline\ttwo 🎉 <b>not html</b>"
    assert parse_message(PATH, msg(text=text)).text == text


def test_an_empty_document_is_refused() -> None:
    with pytest.raises(InvalidMessage):
        parse_message(PATH, {})


def test_owner_of_a_message_path() -> None:
    assert owner_of(PATH) == "u1"
    with pytest.raises(ValueError):
        owner_of("thoughts/t1")
