"""The message contract: what a client may write, checked before any work is done.

`users/{uid}/messages/{messageId}` is created by its owner with `text`, `model`, `createdAt` and
optionally `conversationId` and `share` (see machbot_fn.sharing.share); everything else on the document belongs
to the function. The security rules refuse most bad writes; this module is the second line for
clients that bypass them (admin tools, older rules) and for what rules cannot express (control
characters, lone surrogates).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from machbot_fn.errors import InvalidMessage, UnknownModel
from machbot_fn.models.manifest import MODEL_ID

MAX_TEXT_CHARS = 2000
MAX_CONVERSATION_ID = 128
CONVERSATION_ID = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_CONVERSATION_ID}}}$")
MESSAGE_PATH = re.compile(r"^users/(?P<uid>[^/]+)/messages/[^/]+$")
# Tabs and newlines are text; other control and format characters are not (they hide content).
_ALLOWED_CONTROL = {"\n", "\t", "\r"}


@dataclass(frozen=True)
class MessageRequest:
    """A validated client message."""

    owner: str  # the uid in the document's path
    text: str
    model: str
    created_at: datetime | None
    conversation_id: str | None


def _check_text(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidMessage(f"text must be a string, not {type(value).__name__}")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise InvalidMessage("text contains invalid Unicode (a lone surrogate)")
    bad = [c for c in value if unicodedata.category(c) in ("Cc", "Cs") and c not in _ALLOWED_CONTROL]
    if bad:
        raise InvalidMessage(f"text contains control characters (U+{ord(bad[0]):04X})")
    text = value.strip()
    if not text:
        raise InvalidMessage("text is empty: write something for machbot to answer")
    # Counted in UTF-16 code units, as the security rules and the web app count them.
    length = len(value.encode("utf-16-le")) // 2
    if length > MAX_TEXT_CHARS:
        raise InvalidMessage(f"text is too long ({length} characters; the limit is {MAX_TEXT_CHARS})")
    return text


def parse_message(path: str, data: dict[str, Any] | None) -> MessageRequest:
    """Validate a freshly created message document at `path`; raise InvalidMessage or UnknownModel."""
    if not data:
        raise InvalidMessage("the message document is empty")
    text = _check_text(data.get("text"))
    model = data.get("model")
    if not isinstance(model, str) or not MODEL_ID.match(model):
        raise UnknownModel(f"model must be a model id such as 'bert', got {model!r}"[:200])
    conversation = data.get("conversationId")
    if conversation is not None and (not isinstance(conversation, str) or not CONVERSATION_ID.match(conversation)):
        raise InvalidMessage(
            f"conversationId must be 1-{MAX_CONVERSATION_ID} letters, digits, '-' or '_'", code="invalid_message"
        )
    created = data.get("createdAt")
    return MessageRequest(
        owner=owner_of(path),
        text=text,
        model=model,
        created_at=created if isinstance(created, datetime) else None,
        conversation_id=conversation,
    )


def owner_of(message_path: str) -> str:
    """The uid in `users/{uid}/messages/{id}`."""
    match = MESSAGE_PATH.match(message_path)
    if match is None:
        raise ValueError(f"not a message path: {message_path}")
    return match["uid"]
