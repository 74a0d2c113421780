"""The site map and the queues in a real headless Chromium against a real `pboss serve`, on the
embedded demo and on the generated `small` network (in memory, PBOSS_DATA_DIR=""): the map draws
every site the API has with coordinates and lists the rest, a site's detail opens from the
keyboard (Tab onto the map, Enter), and the queues' filters narrow the rows the API counts.
Screenshots `map` and `queues` (1366x768, small network) are saved as artefacts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pboss.loaders.generator import generate
from tests.api.conftest import ENGINEER, KEYS, PARTNER_TT
from tests.browser.conftest import console_login, offline_page
from tests.serve_process import ServeProcess

pytestmark = pytest.mark.browser

SITES = """query S($after: String) { elements(kind: "Site", first: 500, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id ... on Site { lat lon siteType } } } } }"""
WORK = """query W($state: WorkOrderState) { workOrders(state: $state, first: 1) {
  totals { total } } }"""


def _serve(tmp: Path, settings: dict[str, str]) -> Iterator[ServeProcess]:
    serve = ServeProcess(tmp, ENGINEER, {"PBOSS_API_KEYS": json.dumps(KEYS), **settings})
    serve.start(timeout=400)  # loading `small` on a busy machine takes minutes
    try:
        yield serve
    finally:
        serve.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """`pboss serve` on the embedded demo."""
    yield from _serve(tmp_path_factory.mktemp("map-demo"), {"PBOSS_DEMO": "true"})


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """`pboss serve` on the generated `small` network, in memory only."""
    tmp = tmp_path_factory.mktemp("map-small")
    generate(tmp / "small", "small", 1, overwrite=True)
    settings = {"PBOSS_DEMO": "false", "PBOSS_DATA_DIR": "", "PBOSS_LOAD_DIR": str(tmp / "small")}
    yield from _serve(tmp, settings)


def _base(serve: ServeProcess) -> str:
    return f"http://127.0.0.1:{serve.port}"


def api_sites(serve: ServeProcess, partner: bool = False) -> tuple[set[str], set[str]]:
    """(sites with coordinates, sites without) as the API lists them to an engineer; for a
    partner, those the API shows a partner (`element`, `sites`): all but customer premises."""
    located: set[str] = set()
    unlocated: set[str] = set()
    after = None
    while True:
        answer = serve.client.post(
            "/graphql",
            json={"query": SITES, "variables": {"after": after}},
        ).json()
        page = answer["data"]["elements"]
        for edge in page["edges"]:
            node = edge["node"]
            if partner and node["siteType"] == "customer_premises":
                continue
            has = node["lat"] is not None and node["lon"] is not None
            (located if has else unlocated).add(node["id"])
        if not page["pageInfo"]["hasNextPage"]:
            return located, unlocated
        after = page["pageInfo"]["endCursor"]


def drawn(page: Any) -> list[str]:
    """The site ids drawn on the map."""
    return page.eval_on_selector_all("svg.site-map a.site", "els => els.map(e => e.dataset.site)")


def listed(page: Any) -> list[str]:
    """The sites listed beside the map as having no coordinates."""
    return page.eval_on_selector_all("#unlocated a", "els => els.map(e => e.dataset.site)")


def check_map(page: Any, serve: ServeProcess, partner: bool = False) -> str:
    """Every site of the API drawn or listed; returns the first site reached with Tab."""
    page.goto(_base(serve) + "/ui/map", wait_until="load")
    located, unlocated = api_sites(serve, partner)
    assert located, "the network has sites with coordinates"
    on_map = drawn(page)
    assert len(on_map) == len(located) and set(on_map) == located
    assert set(listed(page)) == unlocated
    # keyboard: from the link that skips the map, Tab lands on a site of the map, Enter opens it
    page.focus("#skip-map")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.dataset.site || ''")
    assert focused in located
    page.keyboard.press("Enter")
    page.wait_for_selector("#site-detail")
    assert f"({focused})" in page.locator("#detail-heading").inner_text()
    return focused


@pytest.mark.timeout(600)
def test_the_demo_map_and_a_partner_view(chromium: Any, demo: ServeProcess) -> None:
    view = offline_page(chromium, 1366, 768)
    console_login(view.page, _base(demo), ENGINEER)
    site = check_map(view.page, demo)
    assert "Business resources and free capacity" in view.page.locator("#site-detail").inner_text()
    assert view.page.locator("#site-detail td.free").count() >= 1 or site != "B-JZ"
    view.assert_clean()
    partner = offline_page(chromium, 1366, 768)
    console_login(partner.page, _base(demo), PARTNER_TT)
    check_map(partner.page, demo, partner=True)
    text = partner.page.locator("main").inner_text()
    assert "business view is not allowed" in text
    assert not [s for s in ("张伟", "王芳", "李娜", "13811111111") if s in text]
    partner.assert_clean()


@pytest.mark.timeout(900)
def test_the_small_network_map_and_queues(chromium: Any, small: ServeProcess) -> None:
    view = offline_page(chromium, 1366, 768)
    page = view.page
    base = _base(small)
    console_login(page, base, ENGINEER)
    check_map(page, small)
    view.screenshot("map")
    page.select_option("#product", "MSTP-LL")
    page.click("form.toolbar button[type=submit]")
    page.wait_for_url("**product=MSTP-LL**")
    assert page.locator("svg.site-map a.site").count() == len(api_sites(small)[0])
    region = page.eval_on_selector("#region option:nth-child(2)", "o => o.value")
    page.select_option("#region", region)
    page.click("form.toolbar button[type=submit]")
    page.wait_for_url(f"**region={region}**")
    zoomed = set(drawn(page))
    assert zoomed and zoomed < api_sites(small)[0]

    page.goto(base + "/ui/queues?tab=work-orders", wait_until="load")
    every = small.client.post("/graphql", json={"query": WORK}).json()
    done = small.client.post("/graphql", json={"query": WORK, "variables": {"state": "DONE"}})
    total, done_total = every["data"]["workOrders"]["totals"]["total"], 0
    done_total = done.json()["data"]["workOrders"]["totals"]["total"]
    assert total > done_total > 0, "the small network has closed and open work"
    assert f"{total} work orders" in page.locator("#queue-totals").inner_text()
    page.select_option("#f-state", "DONE")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**state=DONE**")
    assert f"{done_total} work orders" in page.locator("#queue-totals").inner_text()
    states = page.eval_on_selector_all(
        "#queue-table tbody tr td:nth-child(3) .state", "els => els.map(e => e.textContent)"
    )
    assert states and set(states) == {"DONE"}
    if page.locator("#next-page").count():
        page.click("#next-page")
        page.wait_for_url("**after=**")
        assert "state=DONE" in page.url
        assert f"{done_total} work orders" in page.locator("#queue-totals").inner_text()
    view.screenshot("queues")
    view.assert_clean()
