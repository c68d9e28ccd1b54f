"""Accounts in the browser: a guest who signs out is warned and can keep the history by adding an email
(the guest account is linked to it: same uid, same messages), and the sign-in form's errors."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from browser import HOSTING, ChatPage
from playwright.sync_api import BrowserContext, expect

pytestmark = pytest.mark.browser


def test_a_guest_keeps_the_history_by_adding_an_email_and_signs_back_in(guest: ChatPage) -> None:
    page = guest.page
    text = f"i hope i can find this again {uuid.uuid4().hex[:6]}"
    guest.composer_send(text)
    guest.wait_answered(text)

    page.get_by_test_id("sign-out").click()
    dialog = page.get_by_test_id("guest-signout")
    expect(dialog).to_contain_text("lose your conversations")
    email = f"keeper-{uuid.uuid4().hex[:8]}@example.com"
    dialog.get_by_test_id("keep-email").fill(email)
    dialog.get_by_test_id("keep-password").fill("a-long-secret")
    dialog.get_by_test_id("keep-submit").click()
    expect(dialog.get_by_test_id("guest-kept")).to_contain_text(email)
    expect(page.get_by_test_id("user-id")).to_have_text(guest.uid)  # the same account, now with an email
    expect(page.locator(".account-name").first).to_have_text(email)

    dialog.get_by_test_id("guest-signout-confirm").click()
    expect(page.get_by_test_id("sign-in-guest")).to_be_visible()
    page.get_by_test_id("sign-in-email").fill(email)
    page.get_by_test_id("sign-in-password").fill("a-long-secret")
    page.get_by_test_id("sign-in-email-submit").click()
    expect(page.get_by_test_id("user-id")).to_have_text(guest.uid)
    expect(page.get_by_test_id("message-text")).to_have_text([text])


def test_a_guest_is_warned_before_signing_out_and_may_stay_or_go(guest: ChatPage) -> None:
    page = guest.page
    text = "a guest's only message"
    guest.composer_send(text)
    guest.wait_answered(text)

    page.get_by_test_id("sign-out").click()
    dialog = page.get_by_test_id("guest-signout")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # changed their mind
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("message-text")).to_have_text([text])

    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("guest-signout-discard").click()
    expect(page.get_by_test_id("sign-in-guest")).to_be_visible()


def test_an_email_that_has_an_account_is_refused_with_a_reason(
    guest: ChatPage, new_context: Callable[..., BrowserContext]
) -> None:
    email = f"taken-{uuid.uuid4().hex[:8]}@example.com"
    other = new_context().new_page()
    other.goto(HOSTING + "/")
    other.get_by_test_id("sign-in-email").fill(email)
    other.get_by_test_id("sign-in-password").fill("another-secret")
    other.get_by_test_id("sign-up-email").click()
    expect(other.get_by_test_id("user-id")).to_have_text(re.compile(r"\S+"))

    page = guest.page
    guest.composer_send("keep me please")
    expect(page.get_by_test_id("message-text")).to_have_text(["keep me please"])  # there is something to lose
    page.get_by_test_id("sign-out").click()
    dialog = page.get_by_test_id("guest-signout")
    dialog.get_by_test_id("keep-email").fill(email)
    dialog.get_by_test_id("keep-password").fill("a-long-secret")
    dialog.get_by_test_id("keep-submit").click()
    expect(dialog.get_by_test_id("keep-error")).to_contain_text("already exists")
    expect(page.get_by_test_id("user-id")).to_have_text(guest.uid)  # still the guest, nothing lost


def test_a_sign_in_error_leaves_when_the_browser_refuses_the_form(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context().new_page()
    page.goto(HOSTING + "/")
    page.get_by_test_id("sign-in-email").fill(f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    password = page.get_by_test_id("sign-in-password")
    password.fill("no-such-account")
    page.get_by_test_id("sign-in-email-submit").click()
    expect(page.get_by_test_id("sign-in-error")).to_be_visible()

    password.fill("abc")  # too short: the browser blocks the submit and says so at the field
    page.get_by_test_id("sign-in-email-submit").click()
    expect(page.get_by_test_id("sign-in-error")).to_have_count(0)
    assert password.evaluate("el => el.validity.tooShort") is True
