"""The anonymised copy of a shared message: what other people may read of it.

Only the text and its emotion are shared, never who wrote it. The text itself can still point at
a person, so the plain identifiers that a pattern can find are replaced before it is pooled:
email addresses, links, phone-like numbers and @handles. Names and places in free text cannot be
found reliably this way; the web app says so next to the share switch, and reports hide a thought
that gives someone away.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_NUMBER = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")
_HANDLE = re.compile(r"(?<![\w@])@\w{2,}")
MIN_PHONE_DIGITS = 7


def _number(match: re.Match[str]) -> str:
    found = match.group()
    if _DATE.fullmatch(found) or sum(c.isdigit() for c in found) < MIN_PHONE_DIGITS:
        return found  # a date or a short number says nothing about who wrote it
    return "[number]"


def anonymise(text: str) -> str:
    """`text` with emails, links, phone-like numbers and @handles replaced by placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _LINK.sub("[link]", text)
    text = _NUMBER.sub(_number, text)
    text = _HANDLE.sub("@someone", text)
    return text.strip()
