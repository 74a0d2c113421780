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


#: axe-core, installed by scripts/test.sh from tests/browser/axe/package-lock.json (npm ci).
AXE = ROOT / "tests" / "browser" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
#: The rules that fail a page: WCAG 2.0/2.1/2.2 levels A and AA (AAA and best practice only warn).
AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: Families that set Chinese text (what the console's CSS lists and Debian's packages give).
CJK_FAMILY = ("CJK", "WenQuanYi", "Noto Sans SC", "Source Han", "Droid Sans Fallback")


def assert_accessible(page: Any, exclude: list[str] | None = None) -> None:
    """Run axe-core's WCAG A/AA rules on the page as it is; any violation fails with each rule,
    its impact and the first offending elements. `exclude`: CSS selectors of parts not checked
    (a vendored widget the page does not own)."""
    if not AXE.is_file():
        need(f"{AXE} is missing (scripts/test.sh installs it: npm ci --prefix tests/browser/axe)")
    # evaluate, not add_script_tag: the console's CSP forbids inline script, and a test must not
    # switch the CSP off (bypass_csp) since it checks that the page works under it.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """([tags, exclude]) => axe.run(
             exclude.length ? {exclude: exclude.map(s => [s])} : document,
             {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}
           ).then(r => r.violations.map(v => ({
             id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary),
           })))""",
        [AA_TAGS, exclude or []],
    )
    assert result == [], "accessibility (WCAG A/AA) violations:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in result
    )


def tab_stops(page: Any, presses: int = 40) -> list[str]:
    """What the Tab key reaches, in order, from where focus is (call it on a page just loaded,
    so from its top): each focused element as `tag#id "text"`, marked ` in nav` / ` in main`."""
    stops = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        stops.append(
            page.evaluate(
                """() => { const e = document.activeElement; if (!e || e === document.body)
                     return 'body';
                   return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                     ' "' + (e.innerText || e.value || e.getAttribute('aria-label') || '')
                       .trim().slice(0, 40) + '"' +
                     (e.closest('nav') ? ' in nav' : '') +
                     (e.closest('main') ? ' in main' : ''); }"""
            )
        )
    return stops


def assert_keyboard_reaches(page: Any, control: str) -> None:
    """Tab from the top reaches a link of the navigation and then the page's main control
    (`control`: a CSS selector), each showing a visible focus outline."""
    target_id = page.eval_on_selector(control, "e => e.id || (e.id = 'kbd-target')")
    stops = tab_stops(page)
    assert any(s.endswith(" in nav") for s in stops), f"Tab never reached the nav: {stops}"
    assert any(s.split(" ")[0].endswith("#" + target_id) for s in stops), (
        f"Tab never reached {control}: {stops}"
    )
    page.focus(control)
    outline = page.eval_on_selector(
        control, "e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth"
    )
    assert not outline.startswith("none"), f"{control} shows no focus outline: {outline}"


def assert_no_sideways_scroll(page: Any) -> None:
    """The body is no wider than the window (nothing to scroll sideways)."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths[0]} px in {widths[1]} px"


def fonts_of(page: Any, selector: str) -> dict[str, int]:
    """The fonts Chromium really used to draw the text of the first element matching `selector`
    (the DevTools protocol's CSS.getPlatformFontsForNode): family name -> glyphs drawn."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": -1})
        query = {"nodeId": root["root"]["nodeId"], "selector": selector}
        node = cdp.send("DOM.querySelector", query)
        assert node["nodeId"], f"no element matches {selector}"
        cdp.send("CSS.enable")
        # the text is in the element's child text nodes; ask the element and each of them
        fonts: dict[str, int] = {}
        described = cdp.send("DOM.describeNode", {"nodeId": node["nodeId"], "depth": 1})
        ids = [node["nodeId"]]
        pushed = cdp.send(
            "DOM.pushNodesByBackendIdsToFrontend",
            {"backendNodeIds": [c["backendNodeId"] for c in described["node"].get("children", [])]},
        )
        ids += pushed["nodeIds"]
        for node_id in ids:
            for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]:
                fonts[font["familyName"]] = fonts.get(font["familyName"], 0) + font["glyphCount"]
        return fonts
    finally:
        cdp.detach()


def assert_cjk_font(page: Any, selector: str) -> None:
    """The Chinese text of `selector` is drawn with a CJK font (not boxes or a fallback)."""
    fonts = fonts_of(page, selector)
    assert any(any(k in family for k in CJK_FAMILY) for family in fonts), (
        f"{selector}'s text is not drawn with a CJK font: {fonts} "
        "(apt-get install fonts-noto-cjk; scripts/test.sh does it)"
    )
