"""The chat in a real browser: sign-in, replies with emotions, model choice, validation, feedback,
isolation between users, and a failed message, against the emulators and the real function."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from browser import REPLY_TIMEOUT_MS, ChatPage
from emulator import eventually
from google.cloud import firestore
from playwright.sync_api import expect

from machbot_fn.labels import EMOTIONS

pytestmark = pytest.mark.browser


def messages_of(db: firestore.Client, uid: str) -> list[dict[str, Any]]:
    return [s.to_dict() or {} for s in db.collection(f"users/{uid}/messages").stream()]


def test_guest_signs_in_and_sees_the_chat(guest: ChatPage) -> None:
    page = guest.page
    expect(page.get_by_test_id("user-id")).to_have_text(guest.uid)
    expect(page.get_by_text("How are you feeling?")).to_be_visible()
    expect(page.get_by_test_id("model-picker")).to_have_value("bert")
    expect(page.get_by_test_id("counter")).to_have_text("0/2000")
    expect(page.get_by_test_id("send")).to_be_disabled()
    expect(page.get_by_test_id("new-conversation")).to_be_visible()

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("sign-in-guest")).to_be_visible()


def test_message_gets_reply_emotion_and_bars(guest: ChatPage) -> None:
    page = guest.page
    text = "i finally passed my driving test and i am so happy"
    guest.composer_send(text)
    expect(page.get_by_test_id("typing").or_(page.get_by_test_id("reply"))).to_be_visible()

    message = guest.wait_answered(text)
    expect(message).to_have_attribute("data-state", "done")
    expect(message.get_by_test_id("reply")).to_have_text(re.compile(r"\S"))
    badge = message.get_by_test_id("emotion-badge")
    expect(badge).to_have_text(re.compile(r"^(" + "|".join(EMOTIONS) + r") \d+%$"))
    expect(badge).to_have_attribute("data-label", re.compile("^(" + "|".join(EMOTIONS) + ")$"))
    bars = message.get_by_test_id("emotion-bars")
    expect(bars).to_be_visible()
    for label in EMOTIONS:
        expect(bars.get_by_test_id(f"emotion-bar-{label}")).to_have_attribute(
            "data-value", re.compile(r"^[01]\.\d{4}$")
        )
    total = sum(float(bars.get_by_test_id(f"emotion-bar-{label}").get_attribute("data-value")) for label in EMOTIONS)
    assert abs(total - 1.0) < 0.01
    expect(message.get_by_test_id("served-by")).to_contain_text("answered by bert")
    expect(message.get_by_test_id("typing")).to_have_count(0)


def test_switching_the_model_serves_the_next_answer_with_it(guest: ChatPage, db: firestore.Client) -> None:
    page = guest.page
    page.get_by_test_id("model-picker").select_option("distilbert")
    expect(page.get_by_test_id("model-picker")).to_have_value("distilbert")
    # The choice is saved on the user's document (and survives a reload).
    eventually(
        lambda: (db.document(f"users/{guest.uid}").get().to_dict() or {}).get("preferredModel"),
        lambda v: v == "distilbert",
    )

    text = "a stranger shouted at me on the bus"
    guest.composer_send(text)
    message = guest.wait_answered(text)
    expect(message).to_have_attribute("data-state", "done")
    expect(message.get_by_test_id("served-by")).to_contain_text("answered by distilbert")
    stored = messages_of(db, guest.uid)
    assert [m["model"] for m in stored] == ["distilbert"]
    assert stored[0]["servedBy"]["classifier"]["id"] == "distilbert"


def test_overlong_message_is_refused_and_nothing_is_written(guest: ChatPage, db: firestore.Client) -> None:
    page = guest.page
    composer = page.get_by_test_id("composer")
    composer.fill("x" * 2001)
    expect(page.get_by_test_id("counter")).to_have_text("2001/2000")
    expect(page.get_by_test_id("composer-error")).to_contain_text("too long")
    expect(page.get_by_test_id("send")).to_be_disabled()
    composer.press("Enter")  # Enter must not send it either
    expect(page.get_by_test_id("composer")).to_have_value("x" * 2001)

    # One character less is within the limit again, and goes out. Writes leave in order, so once it is
    # stored, anything Enter had sent would be too: it must be the only message.
    composer.press("End")
    composer.press("Backspace")
    expect(page.get_by_test_id("counter")).to_have_text("2000/2000")
    expect(page.get_by_test_id("composer-error")).to_have_count(0)
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message")).to_have_count(1)
    stored = eventually(lambda: messages_of(db, guest.uid), lambda ms: len(ms) >= 1)
    assert [m["text"] for m in stored] == ["x" * 2000]


def test_reporting_a_wrong_emotion_is_stored(guest: ChatPage, db: firestore.Client) -> None:
    text = "my best friend moved to another country"
    guest.composer_send(text)
    message = guest.wait_answered(text)
    expect(message).to_have_attribute("data-state", "done")
    detected = message.get_by_test_id("emotion-badge").get_attribute("data-label")
    right = next(label for label in EMOTIONS if label != detected)

    message.get_by_test_id("wrong-emotion").click()
    message.get_by_test_id("feedback-select").select_option(right)
    message.get_by_test_id("feedback-submit").click()
    expect(message.get_by_test_id("feedback-reported")).to_have_text(f"Reported as {right}")

    stored = eventually(
        lambda: messages_of(db, guest.uid),
        lambda ms: len(ms) == 1 and (ms[0].get("feedback") or {}).get("label") == right,
    )
    assert stored[0]["emotion"]["label"] == detected  # the function's answer is untouched


def test_a_second_user_sees_none_of_the_first_users_messages(open_guest: Callable[..., ChatPage]) -> None:
    first = open_guest()
    secret = f"my secret is {uuid.uuid4().hex[:12]}"
    first.composer_send(secret)
    first.wait_answered(secret)

    second = open_guest()
    assert second.uid != first.uid
    page = second.page
    expect(page.get_by_text("How are you feeling?")).to_be_visible()
    expect(page.get_by_test_id("message")).to_have_count(0)
    expect(page.get_by_test_id("conversation").filter(has_text=secret)).to_have_count(0)
    assert secret not in page.content()
    # The first user still has it.
    expect(first.page.get_by_test_id("message-text")).to_have_text([secret])


def test_failed_message_shows_the_error_and_resend(guest: ChatPage, db: firestore.Client) -> None:
    # A message the function cannot answer, written for this browser user as another client would.
    db.collection(f"users/{guest.uid}/messages").add(
        {
            "text": "hello from an old client",
            "model": "gpt-nine",
            "createdAt": firestore.SERVER_TIMESTAMP,
            "conversationId": "from-another-device",
        }
    )
    page = guest.page
    entry = page.locator('[data-testid="conversation"][data-conversation-id="from-another-device"]')
    entry.click()

    message = guest.wait_answered("hello from an old client")
    expect(message).to_have_attribute("data-state", "error", timeout=REPLY_TIMEOUT_MS)
    expect(message.get_by_test_id("message-error")).to_contain_text("gpt-nine")
    expect(message.get_by_test_id("resend")).to_be_visible()
    expect(message.get_by_test_id("reply")).to_have_count(0)
