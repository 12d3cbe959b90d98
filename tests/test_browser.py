"""A real browser on the page: Debian's chromium driven by Playwright pastes a text, sees
the evidence highlighted, and confirms the item in the queue with the keyboard.

Set NETRAL_SCREENSHOTS=DIR to keep the screenshots (desktop and phone) for a look.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import free_port, wait_for_port

pytest_plugins = ["api_fixtures"]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TEXT = (
    "Viral! Camat Cibeber ikut kampanye akbar paslon nomor 2 di lapangan dan mengajak warga "
    "mencoblos paslon nomor 2. <b>Bawaslu</b> diminta bertindak."
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium: `make browser` installs Debian's"
    ),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The app under uvicorn in a thread on 127.0.0.1, with the shipped model: what a
    monitor gets (the tiny test model is too weak a judge for this end-to-end text)."""
    import uvicorn

    from netral_nlp.api import create_app
    from netral_nlp.api.settings import Settings
    from netral_nlp.model import default_model_dir

    app = create_app(Settings(model=default_model_dir(), db=tmp_path / "queue.db"))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)


def _shots() -> Path | None:
    target = os.environ.get("NETRAL_SCREENSHOTS")
    if not target:
        return None
    Path(target).mkdir(parents=True, exist_ok=True)
    return Path(target)


def test_paste_highlight_and_confirm(server: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = _shots() or tmp_path
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.goto(f"{server}/")
            assert page.get_attribute("html", "lang") == "id"
            page.fill("#text", TEXT)
            page.fill("#author_context", "Akun warga Sukamaju")
            page.focus("#text")
            page.keyboard.press("Control+Enter")  # the page's shortcut submits the form
            page.wait_for_selector("#result")
            assert "DITANDAI" in page.inner_text(".verdict")
            sentence = "".join(page.locator("#result .text mark.k-actor_act").all_inner_texts())
            assert sentence.startswith("Camat Cibeber ikut kampanye"), sentence
            assert "Camat" in page.locator("#result .text mark.k-asn_role").all_inner_texts()
            assert page.locator("#result b").count() == 0  # the pasted <b> shows as text
            assert "<b>Bawaslu</b>" in page.inner_text("#result .text")
            page.screenshot(path=str(shots / "page-result.png"), full_page=True)

            page.click("text=buka antrean")
            page.wait_for_selector("[data-item]")
            page.screenshot(path=str(shots / "page-queue.png"), full_page=True)
            page.keyboard.press("j")
            page.keyboard.press("c")
            page.wait_for_selector(".notice")
            assert "dikonfirmasi" in page.inner_text(".notice")
            assert page.locator("[data-item]").count() == 0
            page.click("text=Dikonfirmasi")
            assert "Camat Cibeber" in page.inner_text("main")

            page.click("text=English")
            assert page.get_attribute("html", "lang") == "en"

            phone = browser.new_page(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            phone.goto(f"{server}/?lang=id")
            phone.fill("#text", TEXT)
            phone.tap("button.primary")
            phone.wait_for_selector("#result")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"page is {width}px wide on a 390px phone"
            phone.screenshot(path=str(shots / "page-phone.png"), full_page=True)
        finally:
            browser.close()
