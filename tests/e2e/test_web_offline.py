"""Offline in the browser: the app says it is offline, and a message written meanwhile goes out and is
answered once the connection is back."""

from __future__ import annotations

import re

import pytest
from browser import ChatPage
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_message_written_offline_is_named_so_and_goes_out_when_back_online(guest: ChatPage) -> None:
    page = guest.page
    page.context.set_offline(True)
    expect(page.get_by_test_id("offline-banner")).to_contain_text("You are offline")

    text = "written on the train in a tunnel"
    guest.composer_send(text)
    message = page.get_by_test_id("message").filter(has=page.get_by_text(text, exact=True))
    typing = message.get_by_test_id("typing")
    expect(typing).to_have_attribute("data-offline", "true")
    expect(typing).to_contain_text("will be sent when the connection is back")
    expect(message.get_by_test_id("resend")).to_have_count(0)

    page.context.set_offline(False)
    expect(page.get_by_test_id("offline-banner")).to_have_count(0)
    answered = guest.wait_answered(text)
    expect(answered).to_have_attribute("data-state", "done")
    expect(answered.get_by_test_id("reply")).to_have_text(re.compile(r"\S"))
