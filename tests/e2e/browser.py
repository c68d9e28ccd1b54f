"""Helpers for the browser tests: the Hosting emulator's address, timeouts, a signed-in chat page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import Locator, Page, expect

HOSTING = "http://127.0.0.1:5000"
# The machine is shared with training jobs: wait long, never assert on time.
ACTION_TIMEOUT_MS = 30_000
REPLY_TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 800}


@dataclass
class ChatPage:
    """A browser page signed in as a fresh guest, with its console log."""

    page: Page
    console: list[str] = field(default_factory=list)
    uid: str = ""

    def composer_send(self, text: str) -> None:
        self.page.get_by_test_id("composer").fill(text)
        self.page.get_by_test_id("send").click()

    def wait_answered(self, text: str) -> Locator:
        """The message with `text`, once it is done (or error); returns its locator."""
        message = self.page.get_by_test_id("message").filter(
            has=self.page.get_by_test_id("message-text").filter(has_text=re.compile(f"^{re.escape(text)}$"))
        )
        expect(message).to_have_attribute("data-state", re.compile(r"^(done|error)$"), timeout=REPLY_TIMEOUT_MS)
        return message
