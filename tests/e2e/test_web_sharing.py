"""'Others felt this too' in the browser: one guest shares a thought anonymously, another with a
similar thought sees it under the reply and reports it, and the first stops sharing it."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from browser import ChatPage
from emulator import eventually
from google.cloud import firestore
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_shared_thought_reaches_another_guest_who_can_report_it(
    open_guest: Callable[..., ChatPage], db: firestore.Client
) -> None:
    text = f"i am so nervous about moving to a new city {uuid.uuid4().hex[:6]}"
    author = open_guest()
    share = author.page.get_by_test_id("composer-share")
    expect(share).not_to_be_checked()  # off by default
    share.click()
    expect(share).to_be_checked()
    author.composer_send(text)
    expect(share).not_to_be_checked()  # and off again for the next message
    mine = author.wait_answered(text)
    expect(mine.get_by_test_id("share-toggle")).to_be_checked()
    expect(mine.get_by_test_id("share-status")).to_contain_text("Shared anonymously")

    reader = open_guest()
    reader.composer_send(text)
    theirs = reader.wait_answered(text)
    similar = theirs.get_by_test_id("similar")
    expect(similar).to_contain_text("Others felt this too")
    thought = similar.get_by_test_id("similar-thought").first
    expect(thought).to_contain_text(text)
    expect(theirs.get_by_test_id("share-toggle")).not_to_be_checked()
    assert author.uid not in theirs.inner_text()

    thought_id = thought.get_attribute("data-thought-id")
    thought.get_by_test_id("report-open").click()
    thought.get_by_test_id("report-reason").select_option("offensive")
    thought.get_by_test_id("report-submit").click()
    expect(theirs.get_by_test_id("report-thanks")).to_be_visible()
    expect(theirs.locator(f'[data-thought-id="{thought_id}"]')).to_have_count(0)
    report = db.document(f"thoughts/{thought_id}/reports/{reader.uid}").get().to_dict()
    assert report is not None and report["reason"] == "offensive"

    # The author stops sharing: the switch waits for the server (disabled, "Removing it…"), then goes off.
    # Clicked, not uncheck()ed: uncheck() reads the state right after the click, before that round trip.
    toggle = mine.get_by_test_id("share-toggle")
    toggle.click()
    expect(mine.get_by_test_id("share-control")).to_have_attribute("data-share-state", "off")
    expect(toggle).not_to_be_checked()
    expect(toggle).to_be_enabled()
    expect(mine.get_by_test_id("share-status")).to_have_count(0)
    eventually(lambda: db.document(f"thoughts/{thought_id}").get().exists, lambda exists: not exists)
