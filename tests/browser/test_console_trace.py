"""Search → trace in a real headless Chromium against a real `pboss serve` on the embedded demo:
log in, type in the search box, open a circuit's trace from the results, and read the drawn SVG:
the hops in path order with the partner hop marked and named. A partner key sees no household
data on either page. Screenshots `search` and `trace` (1366x768) are saved as artefacts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import ENGINEER, KEYS, PARTNER_TT
from tests.browser.conftest import console_login, offline_page
from tests.serve_process import ServeProcess

pytestmark = pytest.mark.browser

CIR_1 = ["NE-A", "NE-A/E1-1", "TS-1", "TS-2", "PL-1", "NE-Z/E1-1", "NE-Z"]
HOUSEHOLD = ("张伟", "王芳", "李娜", "刘洋", "陈静", "13811111111", "B-DH 1号")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`pboss serve` on the embedded demo with the API tests' keys; its base URL."""
    serve = ServeProcess(
        tmp_path_factory.mktemp("console-trace"),
        ENGINEER,
        {"PBOSS_API_KEYS": json.dumps(KEYS), "PBOSS_DEMO": "true"},
    )
    serve.start()
    try:
        yield f"http://127.0.0.1:{serve.port}"
    finally:
        serve.stop()


def drawn_hops(page: Any) -> list[dict[str, str]]:
    """The trace picture's hop groups in document order, with their data attributes."""
    return page.eval_on_selector_all(
        "svg g.hop", "els => els.map(e => Object.assign({}, e.dataset))"
    )


@pytest.mark.timeout(180)
def test_search_then_trace_shows_the_hops_in_order(chromium: Any, server: str) -> None:
    view = offline_page(chromium, 1366, 768)
    page = view.page
    console_login(page, server, ENGINEER)
    page.goto(server + "/ui/search", wait_until="load")
    page.fill("#search-q", "CIR-1")
    page.press("#search-q", "Enter")
    page.wait_for_selector("section[data-group=circuits] a.result-link")
    assert page.locator("section.result-group").count() >= 1
    view.screenshot("search")
    page.click("section[data-group=circuits] a.result-link[href='/ui/trace?id=CIR-1']")
    page.wait_for_url(server + "/ui/trace?id=CIR-1")
    page.wait_for_selector("svg g.hop")
    hops = drawn_hops(page)
    assert [h["id"] for h in hops] == CIR_1
    assert [h["position"] for h in hops] == [str(i) for i in range(1, 8)]
    marked = [(h["id"], h["owner"], h["partner"]) for h in hops if h["partner"]]
    assert marked == [("PL-1", "P-TT", "中国铁通")]
    partner_box = page.locator("svg g.hop[data-id='PL-1']")
    assert "中国铁通" in partner_box.text_content()
    # left to right on screen, as in the document
    xs = [page.locator(f"svg g.hop[data-id='{i}'] rect").bounding_box()["x"] for i in CIR_1[:5]]
    assert xs == sorted(xs)
    assert page.locator("a", has_text="Download SVG").get_attribute("download") == "trace-CIR-1.svg"
    view.screenshot("trace")
    view.assert_clean()


@pytest.mark.timeout(180)
def test_a_partner_key_sees_no_household_data(chromium: Any, server: str, tmp_path: Path) -> None:
    view = offline_page(chromium, 1366, 768)
    page = view.page
    console_login(page, server, PARTNER_TT)
    page.goto(server + "/ui/search", wait_until="load")
    page.fill("#search-q", "B-DH")
    page.press("#search-q", "Enter")
    page.wait_for_selector("section[data-group=sites]")
    assert page.locator("section[data-group=customers]").count() == 0
    body = page.locator("main").inner_text()
    assert not [s for s in HOUSEHOLD if s in body]
    page.goto(server + "/ui/trace?id=H-1", wait_until="load")
    assert "Nothing to trace" in page.locator("main").inner_text()
    assert not [s for s in HOUSEHOLD if s in page.content()]
    page.goto(server + "/ui/trace?id=PL-1", wait_until="load")
    assert "中国铁通" in page.locator("main").inner_text()
    view.assert_clean()


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """`pboss serve` on the generated `small` network (seed 1), embedded store in memory."""
    from pboss.loaders.generator import generate

    tmp = tmp_path_factory.mktemp("console-trace-small")
    generate(tmp / "small", "small", 1, overwrite=True)
    serve = ServeProcess(
        tmp,
        ENGINEER,
        {
            "PBOSS_API_KEYS": json.dumps(KEYS),
            "PBOSS_DEMO": "false",
            "PBOSS_DATA_DIR": "",
            "PBOSS_LOAD_DIR": str(tmp / "small"),
        },
    )
    serve.start(timeout=600)  # it loads the bundle before it listens
    try:
        yield serve
    finally:
        serve.stop()


def _partner_circuit(serve: ServeProcess) -> tuple[str, str, str, str]:
    """A circuit of the network routed over a partner link: (circuit, link, partner id, name)."""
    document = """{ elements(kind: "PartnerLink", first: 50) { edges { node {
        id owner partner { name } dependants(types: [ROUTED_OVER]) { node { id kind } } } } } }"""
    answer = serve.client.post("/graphql", json={"query": document}).json()
    for edge in answer["data"]["elements"]["edges"]:
        link = edge["node"]
        circuits = sorted(
            d["node"]["id"] for d in link["dependants"] if d["node"]["kind"] == "Circuit"
        )
        if circuits:
            return circuits[0], link["id"], link["owner"], link["partner"]["name"]
    pytest.fail("the small network has no circuit over a partner link")


@pytest.mark.timeout(900)  # the fixture loads `small` (about 2 min on a busy machine)
def test_on_the_small_network_a_partner_circuit_is_traced(
    chromium: Any, small_server: ServeProcess
) -> None:
    circuit, link, partner, name = _partner_circuit(small_server)
    base = f"http://127.0.0.1:{small_server.port}"
    view = offline_page(chromium, 1366, 768)
    page = view.page
    console_login(page, base, ENGINEER)
    page.goto(base + "/ui/search", wait_until="load")
    page.fill("#search-q", circuit)
    page.press("#search-q", "Enter")
    page.click(f"section[data-group=circuits] li[data-id='{circuit}'] a.result-link")
    page.wait_for_selector("svg g.hop")
    hops = drawn_hops(page)
    roles = [h["role"] for h in hops]
    order = {"a_end": 0, "trunk": 1, "z_end": 2}
    assert roles[0] == "a_end" and roles[-1] == "z_end"
    assert [order[r] for r in roles] == sorted(order[r] for r in roles)
    marked = [(h["id"], h["owner"], h["partner"]) for h in hops if h["partner"]]
    assert (link, partner, name) in marked
    assert all(h["role"] == "trunk" for h in hops if h["partner"])
    view.screenshot("trace-small")
    view.assert_clean()
