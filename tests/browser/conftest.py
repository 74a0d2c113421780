"""Browser fixtures: Debian's Chromium driven by Playwright (the pip package; `playwright
install` is never run), pages that may not reach beyond 127.0.0.1, and screenshots kept as
artefacts in `var/screenshots/` (not committed). With CI=true a missing browser fails the test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("PBOSS_TEST_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
#: Where browser tests save screenshots (artefacts of the run; README pictures are copied from it).
SCREENSHOTS = Path(os.environ.get("PBOSS_SCREENSHOTS", ROOT / "var" / "screenshots"))


def need(reason: str) -> None:
    """Skip locally, fail under CI=true: CI must run the browser tests."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """Playwright's sync API over Debian's Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("the playwright package is not installed (pip install -e '.[dev]')")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        need(f"{CHROMIUM} is missing (apt-get install chromium; scripts/test.sh does it)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright: Any) -> Iterator[Any]:
    """One headless Chromium for a test module."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
    )
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class OfflinePage:
    """A page that may reach only 127.0.0.1: what it tried beyond, and its script errors."""

    page: Any
    blocked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot as an artefact; its path."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        """Nothing was fetched from beyond 127.0.0.1 and no script failed."""
        assert self.blocked == [], f"the page reached beyond 127.0.0.1: {self.blocked}"
        assert self.problems == [], self.problems


def offline_page(browser: Any, width: int = 1366, height: int = 768) -> OfflinePage:
    """A new page at `width`x`height` whose requests beyond 127.0.0.1 are blocked and recorded."""
    page = browser.new_page(viewport={"width": width, "height": height})
    wrapped = OfflinePage(page)

    def offline(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            wrapped.blocked.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.on("pageerror", lambda exc: wrapped.problems.append(f"page error: {exc}"))
    return wrapped


def console_login(page: Any, base: str, key: str) -> None:
    """Log in to the console at `base` with `key` through its form."""
    page.goto(base + "/ui/login", wait_until="load")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/ui**")
