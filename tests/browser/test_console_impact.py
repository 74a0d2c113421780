"""The impact page in a real headless Chromium against a real `pboss serve` holding the generated
`small` network (PBOSS_LOAD_DIR, embedded store with no data directory, so nothing persists):
the view of an OLT renders one entry per rider the API reports for it and each of its customers,
the picture says the same totals, a closed branch opens from the keyboard, a partner key sees
its pool's riders without household data, and nothing is fetched from beyond 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from pboss.loaders.generator import generate
from tests.browser.conftest import console_login, offline_page
from tests.serve_process import ServeProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

KEY = "browser-impact-engineer"
PARTNER_KEY = "browser-impact-partner-oc"

RIDERS = """
query Riders($id: ID!) {
  riders(resource: $id, first: 1) {
    ... on RiderConnection { totalCount totals { customers } }
  }
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """`pboss serve` on the generated `small` network (seed 1), in memory only."""
    bundle = tmp_path_factory.mktemp("small-bundle") / "small"
    generate(bundle, "small", 1)
    proc = ServeProcess(
        tmp_path_factory.mktemp("serve"),
        KEY,
        {
            "PBOSS_API_KEYS": json.dumps({KEY: "engineer", PARTNER_KEY: "partner:P-OC"}),
            "PBOSS_LOAD_DIR": str(bundle),
            "PBOSS_DATA_DIR": "",
            "PBOSS_DEMO": "false",
        },
    )
    try:
        proc.start(timeout=300)  # loading ~50k elements, on a busy machine
        yield proc
    finally:
        proc.stop()


def _graphql(server: ServeProcess, query: str, **variables: Any) -> dict[str, Any]:
    answer = server.client.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


def _busiest_olt(server: ServeProcess) -> tuple[str, int, int]:
    """The OLT of the small network with the most riders: its id, services and customers."""
    olts = _graphql(server, '{ elements(kind: "OLT", first: 50) { edges { node { id } } } }')
    best: tuple[str, int, int] = ("", -1, -1)
    for edge in olts["elements"]["edges"]:
        rid = edge["node"]["id"]
        riders = _graphql(server, RIDERS, id=rid)["riders"]
        if riders["totalCount"] > best[1]:
            best = (rid, riders["totalCount"], riders["totals"]["customers"])
    assert best[1] > 0, "the small network's OLTs carry no riders"
    return best


def test_the_impact_of_an_olt_renders_every_rider(chromium: Any, server: ServeProcess) -> None:
    base = str(server.client.base_url).rstrip("/")
    olt, services, customers = _busiest_olt(server)
    view = offline_page(chromium, 1366, 768)
    page = view.page
    page.set_default_timeout(120_000)  # a full-page screenshot of a long page, on a busy machine
    console_login(page, base, KEY)
    page.goto(f"{base}/ui/impact?id={quote(olt, safe='')}", wait_until="load")
    assert page.locator("h1").inner_text() == f"Impact of {olt}"

    # one entry per service the API reports, and every customer among them
    riders = page.locator("#impact-tree li.rider")
    assert riders.count() == services
    shown = page.eval_on_selector_all(
        "#impact-tree li.rider[data-customer]", "els => els.map(e => e.dataset.customer)"
    )
    assert len(set(shown)) == customers
    # the root's count and the picture's say the same
    root = page.locator(f'#impact-tree > li.node[data-id="{olt}"]')
    assert root.get_attribute("data-services") == str(services)
    picture = page.locator("#impact-picture svg")
    assert picture.get_attribute("role") == "img"
    assert picture.get_attribute("data-services") == str(services)
    assert f"{services:,} services of {customers:,} customers" in (
        picture.get_attribute("aria-label") or ""
    )
    # premium customers come first in the list of them
    tiers = page.eval_on_selector_all("tr.premium-customer", "els => els.map(e => e.dataset.tier)")
    assert tiers == sorted(tiers, key=lambda t: ("platinum", "gold").index(t))

    view.screenshot("impact")

    # a closed branch opens from the keyboard and shows what hangs from it
    node_id = page.locator("#impact-tree li.node:has(> details:not([open]))").first.get_attribute(
        "data-id"
    )
    details = page.locator(f'#impact-tree li.node[data-id="{node_id}"] > details')
    details.locator(":scope > summary").focus()
    page.keyboard.press("Enter")
    assert details.get_attribute("open") is not None
    first = details.locator(":scope > ul > li").first
    assert first.is_visible()
    assert first.get_attribute("class") in ("node", "rider", "rider premium")

    # the picture's stable URL serves the same SVG
    answer = page.request.get(f"{base}/ui/impact/{quote(olt, safe='')}.svg")
    assert answer.status == 200
    assert f'data-services="{services}"' in answer.text()
    view.assert_clean()


def test_a_partner_sees_no_household_data(chromium: Any, server: ServeProcess) -> None:
    base = str(server.client.base_url).rstrip("/")
    pools = _graphql(
        server,
        '{ elements(kind: "PartnerAccess", owner: "P-OC", first: 50) { edges { node { id } } } }',
    )["elements"]["edges"]
    busy = [
        (e["node"]["id"], _graphql(server, RIDERS, id=e["node"]["id"])["riders"]) for e in pools
    ]
    pool, riders = max(busy, key=lambda b: b[1]["totalCount"])
    if riders["totalCount"] == 0:
        pytest.skip("no cable customers on the small network's pools")
    view = offline_page(chromium, 800, 1000)
    page = view.page
    console_login(page, base, PARTNER_KEY)
    page.goto(f"{base}/ui/impact?id={quote(pool, safe='')}", wait_until="load")
    assert page.locator("#impact-tree li.rider").count() == riders["totalCount"]
    assert page.locator("[data-customer], [data-service], tr.premium-customer").count() == 0
    text = page.locator("main").inner_text()
    assert "Customers are not shown to partner keys" in text
    assert "SVC-" not in text
    assert re.search(r"\bC-[A-Z0-9-]+-\d{4}\b", text) is None  # no customer id
    view.assert_clean()
