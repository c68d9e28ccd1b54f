"""Emoji and emoticons as words, before tokenising: one step shared by training and serving.

The classifiers' uncased WordPiece vocabulary has no emoji, so "😭😭😭" and "😍❤️" both became
`[UNK]` and got the same answer. Their CLDR names ("loudly crying face", "red heart") are words the
vocabulary knows. Training applies exactly this function to every text, so what the model learned
and what it is served agree.
"""

from __future__ import annotations

import re

import emoji

MAX_REPEATS = 3  # "😭😭😭😭😭😭" reads as three: the name stays one phrase, not a whole message

# Text emoticons in chat, longest first so ":'(" wins over ":(".
EMOTICONS: dict[str, str] = {
    ":'(": "crying face",
    ":-(": "frowning face",
    ":(": "frowning face",
    ":-)": "smiling face",
    ":)": "smiling face",
    ":-D": "grinning face",
    ":D": "grinning face",
    ";-)": "winking face",
    ";)": "winking face",
    ":-O": "face with open mouth",
    ":O": "face with open mouth",
    ":o": "face with open mouth",
    ":-P": "face with tongue",
    ":P": "face with tongue",
    ":p": "face with tongue",
    "</3": "broken heart",
    "<3": "red heart",
}
_EMOTICON = re.compile(
    r"(?<!\S)(" + "|".join(re.escape(e) for e in sorted(EMOTICONS, key=len, reverse=True)) + r")(?!\S)"
)
_SKIN_TONE = re.compile(r"_(?:light|medium-light|medium|medium-dark|dark)_skin_tone")
_NAME = re.compile(r"\x00([^\x00]+)\x00")
_RUN = re.compile(r"(\x00[^\x00]+\x00)(?:\s*\1){" + str(MAX_REPEATS) + ",}")


def _name_to_words(match: re.Match[str]) -> str:
    name = _SKIN_TONE.sub("", match.group(1))
    return " " + name.replace("_", " ").replace("-", " ") + " "


def emoji_to_words(text: str) -> str:
    """'I got the job 🎉🎉' -> 'I got the job party popper party popper'; text without emoji is unchanged."""
    converted = _EMOTICON.sub(lambda m: " " + EMOTICONS[m.group(1)] + " ", text)
    if emoji.emoji_count(converted):
        named = emoji.demojize(converted, delimiters=("\x00", "\x00"))
        named = _RUN.sub(lambda m: m.group(1) * MAX_REPEATS, named)
        converted = _NAME.sub(_name_to_words, named)
    if converted == text:
        return text
    return " ".join(converted.split())
