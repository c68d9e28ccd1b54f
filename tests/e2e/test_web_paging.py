"""A long conversation opens as fast as a short one: the app reads the newest page of messages, and older
ones a page at a time on request, instead of the whole history in one live query.

The user's history (a 500-message conversation and a 5-message one) is written with admin credentials,
already answered: the function's trigger fires for each and stands back (the message is done). The
measurement waits until those 505 events have gone through (a message written after them has its
answer), so that they do not load the machine while it runs. The time to open each conversation is
printed, never asserted (the machine is shared); what is asserted is what the page reads.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from browser import ChatPage
from emulator import wait_final
from google.cloud import firestore
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LONG, SHORT = 500, 5
PAGE = 30  # MESSAGES_PAGE in webapp/src/lib/conversations.ts


def answered_message(text: str, conversation: str, at: datetime) -> dict:
    return {
        "text": text,
        "model": "bert",
        "createdAt": at,
        "conversationId": conversation,
        "status": {"state": "done", "attempt": 1, "updatedAt": at, "leaseUntil": None},
        "emotion": {"label": "joy", "score": 0.9, "scores": {"joy": 0.9, "sadness": 0.1}},
        "reply": {"text": f"reply to {text}", "model": {"id": "t5", "version": "tiny-1"}},
    }


def write_history(db: firestore.Client, uid: str) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    docs = [
        (f"long-{i:03d}", answered_message(f"long message {i:03d}", "long", start + timedelta(seconds=i)))
        for i in range(LONG)
    ]
    later = start + timedelta(days=1)
    docs += [
        (f"short-{i}", answered_message(f"short message {i}", "short", later + timedelta(seconds=i)))
        for i in range(SHORT)
    ]
    for chunk in range(0, len(docs), 400):
        batch = db.batch()
        for doc_id, data in docs[chunk : chunk + 400]:
            batch.set(db.document(f"users/{uid}/messages/{doc_id}"), data)
        batch.commit()


def open_conversation(chat: ChatPage, conversation: str, last_text: str) -> float:
    """Click a conversation in the list; seconds until its newest message shows."""
    page = chat.page
    started = time.perf_counter()
    page.locator(f'[data-testid="conversation"][data-conversation-id="{conversation}"]').click()
    expect(page.get_by_test_id("message-text").last).to_have_text(last_text)
    return time.perf_counter() - started


def test_a_long_conversation_opens_a_page_at_a_time(open_guest: Callable[..., ChatPage], db: firestore.Client) -> None:
    chat = open_guest()
    page = chat.page
    write_history(db, chat.uid)
    # Events are handled in about the order they come: once a later message is answered, the history's are done.
    later = db.collection(f"users/paging-{uuid.uuid4().hex[:8]}/messages").document()
    later.set({"text": "after the history", "model": "bert", "createdAt": firestore.SERVER_TIMESTAMP})
    assert wait_final(db, later.path, timeout=600)["status"]["state"] == "done"
    page.reload()
    expect(page.get_by_test_id("user-id")).to_have_text(chat.uid)
    list_entry = page.locator('[data-testid="conversation"][data-conversation-id="long"]')
    expect(list_entry).to_contain_text("long message 000")  # titled by its first message, far beyond the page

    timings = {}
    for _ in range(2):  # the second round is what a returning user sees (cache warm)
        timings.setdefault("short", []).append(open_conversation(chat, "short", f"short message {SHORT - 1}"))
        timings.setdefault("long", []).append(open_conversation(chat, "long", f"long message {LONG - 1:03d}"))
    print(f"\nopening a conversation (s): {LONG} messages {timings['long']}, {SHORT} messages {timings['short']}")

    texts = page.get_by_test_id("message-text")
    expect(texts).to_have_count(PAGE)
    expect(texts.first).to_have_text(f"long message {LONG - PAGE:03d}")

    # Older messages, a page at a time, without losing the place: the message that was first stays on screen.
    was_first = page.get_by_text(f"long message {LONG - PAGE:03d}", exact=True)
    page.get_by_test_id("older-messages").click()
    expect(texts).to_have_count(2 * PAGE)
    expect(texts.first).to_have_text(f"long message {LONG - 2 * PAGE:03d}")
    expect(was_first).to_be_in_viewport()
