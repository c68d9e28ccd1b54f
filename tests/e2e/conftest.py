"""Browser tests: Debian's chromium driven by pytest-playwright against the Hosting emulator.

`scripts/test.sh` builds webapp/dist and serves it on http://127.0.0.1:5000 next to the other
emulators; the page talks to the Auth and Firestore emulators, and the real function answers with
the tiny models (`published`). When a test fails, every page it opened is saved under
test-results/e2e/ as a screenshot and a console log.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import ACTION_TIMEOUT_MS, DESKTOP, HOSTING, ChatPage
from playwright.sync_api import BrowserContext, ConsoleMessage, expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results" / "e2e"

expect.set_options(timeout=ACTION_TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": shutil.which("chromium") or "/usr/bin/chromium",
        "args": [
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures can tell in teardown that the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _failed(item: pytest.Item) -> bool:
    return any(getattr(getattr(item, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))


def _log_console(lines: list[str]) -> Callable[[ConsoleMessage], None]:
    return lambda msg: lines.append(f"[{msg.type}] {msg.text}")


@pytest.fixture
def open_guest(
    request: pytest.FixtureRequest, new_context: Callable[..., BrowserContext], published
) -> Iterator[Callable[..., ChatPage]]:
    """Open a page in a new browser context (its own cookies and storage) and sign in as a guest."""
    opened: list[ChatPage] = []

    def open_page(viewport: dict[str, int] | None = None) -> ChatPage:
        context = new_context()
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        page = context.new_page()
        page.set_viewport_size(viewport or DESKTOP)
        chat = ChatPage(page)
        page.on("console", _log_console(chat.console))
        page.on("pageerror", lambda exc: chat.console.append(f"[pageerror] {exc}"))
        opened.append(chat)
        page.goto(HOSTING + "/")
        page.get_by_test_id("sign-in-guest").click()
        uid = page.get_by_test_id("user-id")
        expect(uid).to_have_text(re.compile(r"\S+"))
        chat.uid = uid.inner_text().strip()
        expect(page.get_by_test_id("composer")).to_be_editable()
        expect(page.get_by_text("Loading messages…")).to_have_count(0)
        return chat

    yield open_page

    if _failed(request.node):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        for i, chat in enumerate(opened):
            name = stem if len(opened) == 1 else f"{stem}-{i + 1}"
            try:
                chat.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the test's own failure
                chat.console.append(f"[screenshot failed] {exc}")
            (ARTIFACTS / f"{name}.console.log").write_text("\n".join(chat.console) + "\n", encoding="utf-8")


@pytest.fixture
def guest(open_guest: Callable[..., ChatPage]) -> ChatPage:
    """A fresh guest signed in on a desktop-sized page, showing the chat."""
    return open_guest()
