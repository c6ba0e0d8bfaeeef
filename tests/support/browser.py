"""A real browser for pages: Debian's Chromium driven by Playwright (it cannot download its own here)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's hosts, which this machine's network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageView:
    status: int
    title: str
    text: str
    html_lang: str | None


def view_page(url: str, screenshot: Path | None = None, width: int = 390) -> PageView:
    """Open ``url`` as a phone would (the verification page is opened by scanning a QR code)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": 844})
            response = page.goto(url, wait_until="load")
            view = PageView(
                status=response.status if response else 0,
                title=page.title(),
                text=page.inner_text("body"),
                html_lang=page.get_attribute("html", "lang"),
            )
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
            return view
        finally:
            browser.close()
