"""The README's screenshots, taken from the real app on the emulators (docs/screenshots/).

Runs only when asked, and then writes the PNGs:

    MACHBOT_SCREENSHOTS=1 scripts/test.sh tests/e2e/test_screenshots.py

The shipped default models (models/defaults) answer where they exist, otherwise the untrained tiny
stand-ins; MACHBOT_SCREENSHOT_MODELS=<dir> points at another directory laid out like
models/defaults (`<id>/CURRENT`, `<id>/<version>/manifest.json`, ...).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from browser import DESKTOP, HOSTING, REPLY_TIMEOUT_MS, ChatPage
from playwright.sync_api import Page, expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(os.environ.get("MACHBOT_SCREENSHOTS") != "1", reason="set MACHBOT_SCREENSHOTS=1 to write them"),
]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 375, "height": 667}
CONVERSATION = (
    "I finally got the job I wanted!",
    "But I'm a bit nervous about my first day on Monday.",
    "My sister surprised me with a cake to celebrate.",
)


@pytest.fixture(scope="module")
def best_models(db, bucket, published) -> dict[str, Path]:
    """Serve the best models available: shipped (or MACHBOT_SCREENSHOT_MODELS) ones replace the tiny ones."""
    from machbot.default_models import DEFAULT_IDS, embedder_version, ensemble_evaluation, shipped_version
    from machbot.paths import DEFAULT_MODELS
    from machbot_fn.admin.publish import ensure_published
    from machbot_fn.labels import EMBEDDER_ID

    root = Path(os.environ.get("MACHBOT_SCREENSHOT_MODELS") or DEFAULT_MODELS)
    versions = {m: shipped_version(m, root) or published[m] for m in DEFAULT_IDS}
    versions[EMBEDDER_ID] = embedder_version()  # the real MiniLM, as `make run` serves it
    ensure_published(bucket, db, list(versions.values()), ensemble_evaluation())
    return versions


@pytest.fixture(scope="module")
def others_shared(db, best_models) -> None:
    """Another person shared a thought like the first message, so the app shows 'Others felt this too'."""
    from emulator import User, eventually, wait_final

    other = User.sign_up()
    path = other.send("I got hired for the job I really wanted and I am so happy", model="bert", share=True)
    assert wait_final(db, path)["status"]["state"] == "done"
    eventually(lambda: db.document(path).get().to_dict() or {}, lambda d: bool(d.get("sharedThought")))


# Scroll only the message list (scrollIntoView would move the whole page and hide the header).
SCROLL_TO_TOP_OF_LIST = """el => {
  let list = el.parentElement;
  while (list && !['auto', 'scroll'].includes(getComputedStyle(list).overflowY)) list = list.parentElement;
  if (list) list.scrollTop = el.getBoundingClientRect().top - list.getBoundingClientRect().top + list.scrollTop - 8;
}"""


def shoot(page: Page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.screenshot(path=str(OUT / name), animations="disabled", caret="hide")
    _shrink(OUT / name)


def _shrink(path: Path) -> None:
    """Re-save as an optimised palette PNG when Pillow is around (UI shots barely change; files shrink ~3x)."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def test_signin_screenshot(new_context: Callable, best_models) -> None:
    page = new_context().new_page()
    page.set_viewport_size(DESKTOP)
    page.goto(HOSTING + "/")
    expect(page.get_by_test_id("sign-in-guest")).to_be_visible()
    expect(page.get_by_role("region", name="Emotion models")).to_contain_text("BERT")
    shoot(page, "signin-desktop.png")


def test_chat_screenshots(open_guest: Callable[..., ChatPage], best_models, others_shared) -> None:
    chat = open_guest(viewport=DESKTOP)
    page = chat.page
    expect(page.locator('[data-testid="model-picker"] option[value="distilbert"]')).to_have_count(1)
    for text in CONVERSATION:
        chat.composer_send(text)
        message = chat.wait_answered(text)
        expect(message).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT_MS)
    page.get_by_test_id("composer").blur()
    # The first answer, with the thought another person shared under it, at the top of the view.
    page.get_by_test_id("message").first.evaluate(SCROLL_TO_TOP_OF_LIST)
    shoot(page, "chat-desktop.png")

    page.set_viewport_size(PHONE)
    expect(page.get_by_test_id("drawer-toggle")).to_be_visible()
    page.get_by_test_id("message").last.scroll_into_view_if_needed()
    shoot(page, "chat-phone.png")
