"""The impact page and picture on the reference network, on both stores: the right services and
customers under the right resources, totals by product and SLA tier, premium customers first,
a partner key shown counts and never household data, a clear 404 for an unknown id, an SVG that
parses as XML, and a set of resources counting each service once."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from pboss.console.impact import filename
from tests.api.conftest import CRM, ENGINEER, PARTNER_OC, PARTNER_TT
from tests.console.conftest import Console

SVG = "{http://www.w3.org/2000/svg}"


def _attr(html: str, cls: str, attr: str) -> list[str]:
    """The values of `data-<attr>` on the `<li>` elements of class `cls` (in page order)."""
    return re.findall(rf'<li class="{cls}[^"]*"[^>]*?data-{attr}="([^"]*)"', html)


def _riders(html: str) -> list[str]:
    """The services listed in the page's tree, in order."""
    return _attr(html, "rider", "service")


def _svg(console: Console, path: str, **params: str) -> ET.Element:
    answer = console.client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/svg+xml")
    return ET.fromstring(answer.content)


def test_an_olt_shows_its_services_customers_and_totals(console: Console) -> None:
    console.login(ENGINEER)
    html = console.get("/ui/impact", id="OLT-1")
    assert sorted(_riders(html)) == [
        "SVC-H1-BB",
        "SVC-H1-TV",
        "SVC-H2-BB",
        "SVC-H3-BB",
        "SVC-H3-VO",
    ]
    assert sorted(set(_attr(html, "rider", "customer"))) == ["H-1", "H-2", "H-3"]
    assert "5 services of 3 customers, 1 of them platinum or gold" in html
    # totals by product and SLA tier
    assert re.search(r'data-key="FTTH-100M"><td>FTTH-100M</td><td class="num">2<', html)
    assert re.search(r'data-key="IPTV"><td>IPTV</td><td class="num">1<', html)
    assert re.search(r'data-key="gold">.*?<td class="num">1<', html)
    assert re.search(r'data-key="standard">.*?<td class="num">2<', html)
    # the gold household first in its branch and in the list of premium customers
    assert re.findall(r'class="premium-customer" data-id="([^"]+)"', html) == ["H-2"]
    # the tree: OLT -> PON port -> first-stage splitter -> second-stage splitters, with counts
    assert re.search(r'<li class="node" data-id="OLT-1" data-kind="OLT" data-services="5"', html)
    assert 'data-id="OLT-1/0/1" data-kind="PonPort" data-services="5"' in html
    assert 'data-id="SPL-JZ-2A" data-kind="Splitter" data-services="3" data-customers="2"' in html
    # a branch with one service is that service, with what it passes through
    assert re.search(r'data-service="SVC-H2-BB"[^>]*>.*?via SPL-JZ-2A:2 › ONT-2', html, re.S)
    # the picture is inline and downloadable from a stable URL under a file name
    assert 'href="/ui/impact/OLT-1.svg?download=1" download="impact-OLT-1.svg"' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Impact of OLT-1' in html


def test_gold_and_platinum_customers_come_first(console: Console) -> None:
    console.login(ENGINEER)
    html = console.get("/ui/impact", id="OLT-2")
    assert _riders(html) == ["SVC-E2-BB", "SVC-H4-BB"]  # the gold customer before the household
    assert re.findall(r'class="premium-customer" data-id="([^"]+)" data-tier="([^"]+)"', html) == [
        ("E-2", "gold")
    ]
    assert "都华物业管理公司" in html
    # NE-1 carries both leased lines: the platinum customer before the gold one
    html = console.get("/ui/impact", id="NE-1")
    tiers = re.findall(r'class="premium-customer" data-id="([^"]+)" data-tier="([^"]+)"', html)
    assert tiers == [("E-1", "platinum"), ("E-2", "gold")]
    assert sorted(_riders(html)) == ["SVC-E1-LL", "SVC-E2-LL"]
    # and in the picture: premium customers are drawn, platinum first
    root = ET.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))  # type: ignore[union-attr]
    drawn = [g.get("data-id") for g in root.iter(f"{SVG}g") if g.get("class") == "customer"]
    assert drawn == ["E-1", "E-2"]


def test_the_picture_parses_and_counts(console: Console) -> None:
    console.login(CRM)
    root = _svg(console, "/ui/impact/OLT-1.svg")
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert "5 services of 3 customers" in (root.get("aria-label") or "")
    assert (root.get("data-services"), root.get("data-customers")) == ("5", "3")
    nodes = {g.get("data-id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    assert nodes["OLT-1"].get("data-services") == "5"
    assert nodes["OLT-1"].get("data-expanded") == "true"
    # the small tree is opened all the way: every service is drawn with its customer
    drawn = sorted(
        g.get("data-service") for g in root.iter(f"{SVG}g") if g.get("class") == "customer"
    )
    assert drawn == ["SVC-H1-BB", "SVC-H1-TV", "SVC-H2-BB", "SVC-H3-BB", "SVC-H3-VO"]
    totals = {
        g.get("data-key"): g.get("data-count")
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "total"
    }
    assert (totals["FTTH-100M"], totals["gold"], totals["standard"]) == ("2", "1", "2")
    # a PON port's id holds slashes: its stable URL encodes them
    pon = _svg(console, "/ui/impact/OLT-1%2F0%2F1.svg")
    assert pon.get("data-services") == "5"
    answer = console.client.get("/ui/impact/OLT-1.svg", params={"download": "1"})
    assert answer.headers["content-disposition"] == 'attachment; filename="impact-OLT-1.svg"'


def test_a_set_of_resources_merges_their_riders(console: Console) -> None:
    console.login(ENGINEER)
    html = console.get("/ui/impact", id=["OLT-1", "OLT-2"])  # type: ignore[arg-type]
    assert len(_riders(html)) == 7
    assert "7 services of 5 customers, 2 of them platinum or gold" in html
    # a circuit over two of the sections is counted once
    html = console.get("/ui/impact", ids="TS-1 TS-2 PL-1")
    assert sorted(_riders(html)) == ["SVC-E1-LL", "SVC-E2-LL"]
    assert "2 services of 2 customers" in html
    root = _svg(console, "/ui/impact.svg", id=["TS-2", "PL-1"])  # type: ignore[arg-type]
    assert root.get("data-services") == "2"
    assert filename(["TS-2", "PL-1"]) == "impact-TS-2-and-1-more.svg"


def test_a_partner_sees_counts_not_households(console: Console) -> None:
    console.login(PARTNER_TT)
    html = console.get("/ui/impact", id="PL-1")
    assert "1 services of 1 customers, 1 of them platinum or gold" in html
    assert _attr(html, "rider", "product") == ["MSTP-LL"]
    assert _riders(html) == []  # no service id
    for secret in ("SVC-E1-LL", "E-1", "上海信息技术有限公司", "CIR-1", "1381111"):
        assert secret not in html, secret
    svg = console.client.get("/ui/impact/PL-1.svg").text
    for secret in ("SVC-E1-LL", "上海信息技术有限公司", "CIR-1"):
        assert secret not in svg, secret
    # what is not its own is "not found", as the API answers it
    answer = console.client.get("/ui/impact", params={"id": "OLT-1"})
    assert answer.status_code == 404
    assert "No resource &#39;OLT-1&#39; that you may see" in answer.text
    assert console.client.get("/ui/impact/OLT-1.svg").status_code == 404


def test_a_cable_partner_sees_its_pool_without_the_household(console: Console) -> None:
    console.login(PARTNER_OC)
    html = console.get("/ui/impact", id="PA-DH-OC")
    assert _attr(html, "rider", "product") == ["CABLE-BB"]
    for secret in ("SVC-H5-CB", "H-5", "陈静", "13855555555"):
        assert secret not in html, secret


def test_an_unknown_id_is_a_clear_404(console: Console) -> None:
    console.login(ENGINEER)
    answer = console.client.get("/ui/impact", params={"id": ["OLT-1", "NOPE-9"]})
    assert answer.status_code == 404
    assert "No resource &#39;NOPE-9&#39; that you may see" in answer.text
    assert 'value="OLT-1 NOPE-9"' in answer.text  # the form keeps what was asked
    answer = console.client.get("/ui/impact/NOPE-9.svg")
    assert answer.status_code == 404
    assert "NOPE-9" in answer.text
    assert console.client.get("/ui/impact/OLT-1.png").status_code == 404


def test_the_empty_form_and_no_key(console: Console) -> None:
    assert console.client.get("/ui/impact", params={"id": "OLT-1"}).status_code == 401
    assert console.client.get("/ui/impact/OLT-1.svg").status_code == 401
    console.login(ENGINEER)
    html = console.get("/ui/impact")
    assert '<label for="impact-ids">Resource ids</label>' in html
    assert "<svg" not in html


def test_the_picture_escapes_what_it_draws() -> None:
    """Names and ids come from loads and partner feeds: drawn as text, never as markup."""
    from pboss.console.impact_svg import draw
    from pboss.console.impact_tree import ImpactNode, ImpactView, RiderView
    from pboss.inventory.results import RiderTotals

    evil = '<script>alert("x")</script>&"'
    rider = RiderView("SVC-1", "FTTH-100M", "down", "C-1", evil, "household", "gold", ("ONT-1",))
    root = ImpactNode(
        id="OLT-<1>", kind="OLT", name=evil, status="faulty", owner="self", depth=0,
        services=1, customers=1, premium=1, riders=[rider],
    )  # fmt: skip
    totals = RiderTotals(services=1, customers=1, by_product={evil: 1}, by_sla_tier={"gold": 1})
    view = ImpactView(["OLT-<1>"], [root], totals, [], 1, False, False)
    picture = ET.fromstring(draw(view))
    assert not list(picture.iter(f"{SVG}script"))
    texts = "".join(t.text or "" for t in picture.iter(f"{SVG}text"))
    assert evil[:20] in texts
    groups = {g.get("class"): g for g in picture.iter(f"{SVG}g")}
    assert groups["node"].get("data-id") == "OLT-<1>"
    assert groups["node"].get("data-status") == "faulty"
    assert groups["customer"].get("data-health") == "down"
