"""One definition of a message's text: the function's contract and the web app's composer accept and
refuse the same texts, and the length limit is the same in every place that states it.

tests/contract/message_text.json holds the cases and the refused characters; this test holds the
contract to them, and webapp/src/lib/validation.test.ts holds the composer to the same file. The
limit is also written in the security rules and the terminal chat: read from each of them here.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from machbot import chat
from machbot_fn.errors import InvalidMessage
from machbot_fn.serving.contract import MAX_TEXT_CHARS, parse_message

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "tests" / "contract" / "message_text.json").read_text(encoding="utf-8"))


def case_text(case: dict[str, Any]) -> str:
    return case["text"] if "text" in case else case["repeat"] * case["times"] + case.get("suffix", "")


def accepted(text: str) -> bool:
    try:
        parse_message("users/u1/messages/m1", {"text": text, "model": "bert"})
    except InvalidMessage:
        return False
    return True


@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["name"] for c in SPEC["cases"]])
def test_the_contract_accepts_exactly_the_shared_cases(case: dict[str, Any]) -> None:
    assert accepted(case_text(case)) is case["ok"]


def test_the_refused_characters_are_exactly_the_contracts() -> None:
    listed = {cp for low, high in SPEC["refusedCodePointRanges"] for cp in range(low, high + 1)}
    # Every character of the Basic Multilingual Plane but the surrogates (a case of their own).
    refused = {cp for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF and not accepted(f"a{chr(cp)}b")}
    assert refused == listed
    assert all(unicodedata.category(chr(cp)) == "Cc" for cp in refused)


def test_every_copy_of_the_length_limit_is_the_same() -> None:
    rules = re.findall(r"d\.text\.size\(\) <= (\d+)", (ROOT / "firestore.rules").read_text())
    web = re.findall(r"MAX_MESSAGE_LENGTH = (\d+)", (ROOT / "webapp/src/lib/validation.ts").read_text())
    assert len(rules) == 1 and len(web) == 1, "the limit's definition moved: update this test to find it"
    copies = {
        "tests/contract/message_text.json": SPEC["maxLength"],
        "functions/machbot_fn/serving/contract.py": MAX_TEXT_CHARS,
        "machbot/chat.py": chat.MAX_TEXT,
        "firestore.rules": int(rules[0]),
        "webapp/src/lib/validation.ts": int(web[0]),
    }
    assert set(copies.values()) == {SPEC["maxLength"]}, copies
