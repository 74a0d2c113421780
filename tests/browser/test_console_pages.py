"""Every console page in a real headless Chromium against a real `pboss serve` (the embedded
demo), offline: accessible (axe-core's WCAG A/AA rules, Tab reaches the navigation and the page's
main control), readable at 1366x768 and on an 800x1280 tablet (nothing scrolls sideways), Chinese
text drawn with a CJK font, and a partner key shown no household data on any page. Pages come from
`pboss.console.nav.NAV`; one not served yet (404: its branch is not merged) is skipped. Also the
console's GraphiQL, opening with the logged-in user's key, and the reports page's screenshot."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pboss.console.nav import NAV
from pboss.inventory.demo import demo_network
from tests.browser.conftest import (
    assert_accessible,
    assert_cjk_font,
    assert_keyboard_reaches,
    assert_no_sideways_scroll,
    console_login,
    offline_page,
)
from tests.serve_process import ServeProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

ENGINEER = "pages-engineer-key"
PARTNER = "pages-partner-tt-key"
#: The page's first control in <main>: what Tab must reach after the navigation.
MAIN_CONTROL = (
    "main :is(input:not([type=hidden]), select, textarea, button, a[href], summary, "
    "[tabindex]:not([tabindex='-1']))"
)
#: GraphiQL's vendored widget: checked by its own project, not by this page's rules.
NOT_OURS = ["#graphiql"]
#: A mainland mobile number, as household data carries them.
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
SIZES = {"desktop": (1366, 768), "tablet": (800, 1280)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`pboss serve` on the embedded demo with an engineer's and a partner's key; its URL."""
    keys = {ENGINEER: "engineer", PARTNER: "partner:P-TT"}
    serve = ServeProcess(
        tmp_path_factory.mktemp("console-pages"),
        ENGINEER,
        {"PBOSS_API_KEYS": json.dumps(keys), "PBOSS_CONSOLE": "true"},
    )
    serve.start()
    try:
        yield f"http://127.0.0.1:{serve.port}"
    finally:
        serve.stop()


@pytest.fixture(scope="module")
def neo4j_server(
    neo4j_store_session: Any, neo4j_endpoint: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`pboss serve` on the test Neo4j holding the demo network (loaded here, cleared after)."""
    store = neo4j_store_session
    store.clear()
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="console pages")
    settings = {
        "PBOSS_STORE": "neo4j",
        "PBOSS_NEO4J_URI": neo4j_endpoint.uri,
        "PBOSS_DEMO": "false",
        "PBOSS_API_KEYS": json.dumps({ENGINEER: "engineer", PARTNER: "partner:P-TT"}),
    }
    if neo4j_endpoint.auth is not None:
        settings["PBOSS_NEO4J_USER"], settings["PBOSS_NEO4J_PASSWORD"] = neo4j_endpoint.auth
    serve = ServeProcess(tmp_path_factory.mktemp("console-pages-neo4j"), ENGINEER, settings)
    serve.start()
    try:
        yield f"http://127.0.0.1:{serve.port}"
    finally:
        serve.stop()
        store.clear()


@pytest.fixture(scope="module")
def pages(server: str) -> list[tuple[str, str]]:
    """The navigation's pages this server has (a 404 is a page not merged on this branch)."""
    here = []
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {ENGINEER}"}) as c:
        for label, path in NAV:
            if c.get(path).status_code != 404:
                here.append((label, path))
    assert ("Reports", "/ui/reports") in here and ("GraphiQL", "/ui/graphiql") in here
    return here


def _visit(page: Any, url: str) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")


def _tag_cjk_text(page: Any) -> bool:
    """Mark the first element in <main> whose own text is Chinese (id `cjk-probe`); any?"""
    return page.evaluate(
        """() => {
          document.querySelectorAll('details').forEach(d => { d.open = true; });
          const walk = document.createTreeWalker(document.querySelector('main'),
                                                 NodeFilter.SHOW_TEXT);
          for (let n = walk.nextNode(); n; n = walk.nextNode()) {
            const el = n.parentElement;
            if (/[\\u4e00-\\u9fff]/.test(n.textContent) && el.getClientRects().length
                && !el.closest('#graphiql') && el.tagName !== 'OPTION') {
              el.id = 'cjk-probe';
              return true;
            }
          }
          return false;
        }"""
    )


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_is_accessible_readable_and_shows_chinese(
    chromium: Any, server: str, pages: list[tuple[str, str]], size: str
) -> None:
    width, height = SIZES[size]
    view = offline_page(chromium, width, height)
    console_login(view.page, server, ENGINEER)
    chinese = []
    for label, path in [("Home", "/ui"), *pages]:
        _visit(view.page, server + path)
        assert view.page.locator("main h1").is_visible(), f"{label}: no heading"
        if label == "Reports" and size == "desktop":
            view.screenshot("reports")
        assert_no_sideways_scroll(view.page)
        assert_accessible(view.page, exclude=NOT_OURS)
        assert_keyboard_reaches(view.page, MAIN_CONTROL)
        if _tag_cjk_text(view.page):
            assert_cjk_font(view.page, "#cjk-probe")
            chinese.append(label)
    assert "Reports" in chinese  # its partner names and buildings are Chinese
    view.assert_clean()
    view.page.close()


@pytest.mark.parametrize("on", ["memory", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def test_reports_page_draws_its_charts(chromium: Any, request: Any, on: str) -> None:
    server = request.getfixturevalue("server" if on == "memory" else "neo4j_server")
    view = offline_page(chromium, 1366, 768)
    console_login(view.page, server, ENGINEER)
    _visit(view.page, server + "/ui/reports?kind=SPLITTER")
    images = view.page.locator("section.report img")
    assert images.count() == 4
    for n in range(images.count()):  # each SVG loaded and was drawn at a real size
        width = images.nth(n).evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width > 300, images.nth(n).get_attribute("src")
    link = view.page.locator("a:has-text('Download CSV')").first
    with view.page.expect_download() as download:
        link.click()
    body = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert body.startswith("id,name,site,owner,capacity,used,held,free,share\n")
    view.page.select_option("#partner", "P-OC")
    view.page.select_option("#kind", "PARTNER_POOL")
    view.page.click("form.report-filters button[type=submit]")
    view.page.wait_for_url("**partner=P-OC**")
    assert "PA-DH-OC" in view.page.locator("#h-utilisation + p + figure img").get_attribute("alt")
    assert_accessible(view.page)
    view.assert_clean()
    view.page.close()
    partner = offline_page(chromium, 800, 1280)  # and a partner on a tablet: its own line only
    console_login(partner.page, server, PARTNER)
    _visit(partner.page, server + "/ui/reports?period=2026-11")
    assert partner.page.locator("text=Not shown to you").count() == 3
    assert partner.page.locator("#partner option").all_inner_texts() == ["中国铁通 (P-TT)"]
    assert_no_sideways_scroll(partner.page)
    partner.assert_clean()
    partner.page.close()


def test_a_partner_sees_no_household_data_on_any_page(
    chromium: Any, server: str, pages: list[tuple[str, str]]
) -> None:
    nodes, _ = demo_network()
    households = [
        n for n in nodes if type(n).__name__ == "Customer" and n.customer_type == "household"
    ]
    secrets = {s for h in households for s in (h.name, h.phone, h.address) if s}
    assert len(secrets) >= 10
    view = offline_page(chromium, 1366, 768)
    console_login(view.page, server, PARTNER)
    for label, path in [("Home", "/ui"), *pages]:
        _visit(view.page, server + path)
        view.page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        text = view.page.locator("body").inner_text() + view.page.content()
        assert not PHONE.search(text), f"{label} shows a phone number: {PHONE.search(text)}"
        shown = [s for s in secrets if s in text]
        assert shown == [], f"{label} shows household data to a partner: {shown}"
    view.assert_clean()
    view.page.close()


def test_console_graphiql_opens_with_the_login_key(chromium: Any, server: str) -> None:
    view = offline_page(chromium, 1366, 768)
    posts: list[tuple[str, str | None]] = []
    view.page.on(
        "request",
        lambda r: (
            posts.append((r.url, r.headers.get("authorization")))
            if r.method == "POST" and "/graphql" in r.url
            else None
        ),
    )
    console_login(view.page, server, ENGINEER)
    _visit(view.page, server + "/ui/graphiql")
    assert view.page.locator("#pboss-key").input_value() == ENGINEER
    view.page.wait_for_function(
        "() => document.querySelector('#pboss-status').textContent.includes('schema loaded')",
        timeout=60_000,
    )
    view.page.evaluate(
        "q => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q)",
        "query ConsoleProducts { products { id } }",
    )
    view.page.click(".graphiql-execute-button")
    view.page.wait_for_function(
        "() => document.querySelector('.graphiql-response .CodeMirror')"
        ".CodeMirror.getValue().includes('FTTH-100M')",
        timeout=60_000,
    )
    assert posts and {url for url, _ in posts} == {server + "/graphql"}
    assert {auth for _, auth in posts} == {f"Bearer {ENGINEER}"}
    assert view.page.locator("nav a[aria-current=page]").inner_text() == "GraphiQL"
    view.screenshot("graphiql")
    view.assert_clean()
    view.page.close()
