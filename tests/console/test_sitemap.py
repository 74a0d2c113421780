"""The site map page on both stores over the reference network: every site drawn or listed, shapes
follow the API's availability for the chosen product, open incidents marked, a site's detail with
its free capacity, partner keys limited to what the API gives them, bad parameters answered
plainly, and the picture well-formed XML."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from pboss.console import sitemap_data
from pboss.inventory.model import Site
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, ENGINEER, PARTNER_OC, PARTNER_TT
from tests.assurance.repair_network import open_incident, ticket
from tests.console.conftest import Console

SVG_NS = "{http://www.w3.org/2000/svg}"
AVAILABILITY = """query A($site: ID!, $product: String) {
  availability(site: $site, product: $product) { ... on Availability { qualificationResult } }
}"""
RESOURCES = """query B($site: ID!) { businessResources(site: $site) {
  ... on BusinessResources { packages { name free } } } }"""


@pytest.fixture(autouse=True)
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages wait for every site's availability (a busy machine's Neo4j may take over the 2 s a
    page waits by default; the test of that wait sets its own)."""
    monkeypatch.setattr(sitemap_data, "WAIT_S", 120.0)


def _svg(html: str) -> ET.Element:
    """The map's SVG inside a page, parsed as XML (it must be well-formed)."""
    match = re.search(r"<svg .*?</svg>", html, re.S)
    assert match, "no SVG on the page"
    return ET.fromstring(match.group(0))


def _drawn(svg: ET.Element) -> dict[str, dict[str, str]]:
    """site id -> the attributes of its link on the map."""
    return {a.attrib["data-site"]: a.attrib for a in svg.iter(f"{SVG_NS}a")}


def _listed(html: str) -> list[str]:
    """The sites listed as having no coordinates."""
    match = re.search(r'<ul class="site-list" id="unlocated">(.*?)</ul>', html, re.S)
    return re.findall(r'data-site="([^"]+)"', match.group(1)) if match else []


def _api(console: Console, query: str, key: str = ENGINEER, **variables: Any) -> Any:
    answer = console.client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return answer.json()["data"]


def _sites(store: GraphStore) -> list[Site]:
    return [s for s in store.find(FindQuery(kind="Site", limit=1000)).items if isinstance(s, Site)]


def test_every_site_is_drawn_or_listed_in_the_shape_of_its_availability(
    console: Console, demo_store: GraphStore
) -> None:
    console.login(ENGINEER)
    sites = _sites(demo_store)
    located = {s.id for s in sites if s.lat is not None and s.lon is not None}
    assert located and located != {s.id for s in sites}  # the reference network has both kinds
    seen: dict[str, set[str]] = {}
    for product in ("FTTH-100M", "CABLE-BB", "MSTP-LL"):
        html = console.get("/ui/map", product=product)
        drawn = _drawn(_svg(html))
        assert set(drawn) == located
        assert set(_listed(html)) == {s.id for s in sites} - located
        for site in located:
            api = _api(console, AVAILABILITY, site=site, product=product)["availability"]
            assert drawn[site]["data-availability"] == api["qualificationResult"], (site, product)
            assert drawn[site]["href"] == f"/ui/map?site={site}&product={product}"
            seen.setdefault(site, set()).add(api["qualificationResult"])
        assert f'<option value="{product}" selected>' in html
    # the colouring does change with the product (qualified FTTH, partner-only cable, no MSTP)
    assert seen["B-JZ"] == {"qualified", "alternate", "unqualified"}


def test_a_site_with_an_open_incident_is_ringed(console: Console, demo_store: GraphStore) -> None:
    open_incident(demo_store, "INC-JZ", "SPL-JZ-2A", [ticket("SVC-H1-BB", 2)])
    console.login(CRM)
    svg = _svg(console.get("/ui/map"))
    drawn = _drawn(svg)
    assert drawn["B-JZ"]["data-incidents"] == "1"
    assert "1 open incident" in drawn["B-JZ"]["aria-label"]
    assert drawn["B-DH"]["data-incidents"] == "0"
    rings = [
        c
        for a in svg.iter(f"{SVG_NS}a")
        if a.attrib["data-site"] == "B-JZ"
        for c in a.iter(f"{SVG_NS}circle")
        if c.attrib.get("stroke") == "#6f2dbd"
    ]
    assert len(rings) == 1
    legend = "".join(svg.find(f"{SVG_NS}g[@class='legend']").itertext())  # type: ignore[union-attr]
    assert "open incidents (sites: 1)" in legend and "qualified" in legend


def test_a_sites_detail_shows_its_business_resources_and_free_capacity(
    console: Console, demo_store: GraphStore
) -> None:
    open_incident(demo_store, "INC-JZ", "SPL-JZ-2A", [ticket("SVC-H1-BB", 2)])
    console.login(ENGINEER)
    html = console.get("/ui/map", site="B-JZ", product="FTTH-100M")
    packages = _api(console, RESOURCES, site="B-JZ")["businessResources"]["packages"]
    assert packages
    for p in packages:
        assert p["name"] in html
        assert f'<td class="num free">{p["free"]}</td>' in html
    assert 'id="site-detail"' in html and "上海市浦东新区世纪大道8号" in html
    assert 'aria-current="true"' in html  # the chosen site is marked on the map
    assert "INC-JZ" in html and "/ui/impact?id=SPL-JZ-2A" in html
    assert 'class="verdict verdict-qualified"' in html
    # a site without coordinates opens the same way from the list
    assert 'id="site-detail"' in console.get("/ui/map", site="EX-1")


def test_partner_keys_see_only_what_the_api_gives_them(
    console: Console, demo_store: GraphStore
) -> None:
    open_incident(demo_store, "INC-TT", "PL-1", [ticket("SVC-E1-LL", 1)])
    open_incident(demo_store, "INC-JZ", "SPL-JZ-2A", [ticket("SVC-H1-BB", 2)])
    console.login(ENGINEER)
    engineer = console.get("/ui/map", site="B-JZ")
    assert 'with open incidents</td><td class="num">' in engineer
    console.login(PARTNER_TT)
    html = console.get("/ui/map", site="B-JZ")
    drawn = _drawn(_svg(html))
    assert drawn and {a["data-availability"] for a in drawn.values()} == {"hidden"}
    assert drawn["B-JZ"]["data-incidents"] == "0"  # the splitter's incident is not Tietong's
    assert "business view is not allowed" in html
    assert "INC-JZ" not in html
    for household in ("王芳", "H-2", "SVC-H1-BB"):
        assert household not in html
    customer_premises = {s.id for s in _sites(demo_store) if s.site_type == "customer_premises"}
    listed = set(drawn) | set(_listed(html))
    assert not listed & customer_premises
    console.login(PARTNER_OC)
    assert "INC-TT" not in console.get("/ui/map")


def test_a_map_answers_before_every_site_is_qualified_and_fills_in(
    console: Console, demo_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = sitemap_data._qualify_all

    def slowly(*args: Any) -> None:
        time.sleep(0.5)
        slow(*args)

    monkeypatch.setattr(sitemap_data, "_qualify_all", slowly)
    monkeypatch.setattr(sitemap_data, "WAIT_S", 0.0)
    console.login(ENGINEER)
    first = console.get("/ui/map", product="IPTV")
    assert 'id="map-pending"' in first and '<meta http-equiv="refresh" content="5" />' in first
    assert {a["data-availability"] for a in _drawn(_svg(first)).values()} == {"pending"}
    deadline = time.monotonic() + 30
    while 'id="map-pending"' in (html := console.get("/ui/map", product="IPTV")):
        assert time.monotonic() < deadline, "the availability was never computed"
        time.sleep(0.2)
    for site, attrs in _drawn(_svg(html)).items():
        api = _api(console, AVAILABILITY, site=site, product="IPTV")["availability"]
        assert attrs["data-availability"] == api["qualificationResult"]
    assert "refresh" not in html


def test_older_answers_are_shown_at_once_while_newer_ones_are_computed(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    console.login(ENGINEER)
    current = console.get("/ui/map", product="FTTH-1000M")
    assert 'id="map-pending"' not in current
    monkeypatch.setattr(sitemap_data, "REUSE_S", 0.0)
    monkeypatch.setattr(sitemap_data, "MAX_AGE", 0.0)
    monkeypatch.setattr(sitemap_data, "WAIT_S", 0.0)
    slow = sitemap_data._qualify_all

    def slowly(*args: Any) -> None:
        time.sleep(1.0)
        slow(*args)

    monkeypatch.setattr(sitemap_data, "_qualify_all", slowly)
    older = console.get("/ui/map", product="FTTH-1000M")
    assert "newer ones are being computed" in older and "refresh" not in older
    assert _drawn(_svg(older)) and all(
        a["data-availability"] != "pending" for a in _drawn(_svg(older)).values()
    )
    assert _drawn(_svg(older)).keys() == _drawn(_svg(current)).keys()


def test_a_region_zooms_the_map_to_its_sites(console: Console, demo_store: GraphStore) -> None:
    other = Site(id="B-XH", name="徐汇测试楼", region="R-XH", lat=31.19, lon=121.43)
    demo_store.upsert([other], [], actor="test", reason="a second region")
    console.login(ENGINEER)
    sites = _sites(demo_store)
    regions = {s.region for s in sites if s.region}
    assert regions == {"R-PD", "R-XH"}
    assert "B-XH" in _drawn(_svg(console.get("/ui/map")))
    for region in regions:
        html = console.get("/ui/map", region=region)
        inside = {s.id for s in sites if s.region == region}
        drawn, listed = set(_drawn(_svg(html))), set(_listed(html))
        assert drawn | listed == inside and not drawn & listed
        assert f'<option value="{region}" selected>' in html
        assert all(f"region={region}" in a["href"] for a in _drawn(_svg(html)).values())
    wrong = console.client.get("/ui/map", params={"region": "R-NOWHERE"})
    assert wrong.status_code == 400 and "Unknown region &#39;R-NOWHERE&#39;" in wrong.text


def test_bad_parameters_are_answered_plainly(console: Console) -> None:
    assert console.client.get("/ui/map").status_code == 401  # the login form
    console.login(ENGINEER)
    wrong = console.client.get("/ui/map", params={"product": "FTTH-9G"})
    assert wrong.status_code == 400 and "Unknown product &#39;FTTH-9G&#39;" in wrong.text
    assert "FTTH-100M" in wrong.text  # the known products are named
    missing = console.client.get("/ui/map", params={"site": "NO-SUCH-SITE"})
    assert missing.status_code == 404 and "No site &#39;NO-SUCH-SITE&#39;" in missing.text
    svg = console.client.get("/ui/map.svg", params={"product": "nope"})
    assert svg.status_code == 400 and "Unknown product" in svg.text


def test_the_svg_alone_parses_and_downloads(console: Console, demo_store: GraphStore) -> None:
    console.login(ENGINEER)
    answer = console.client.get("/ui/map.svg", params={"product": "IPTV"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    drawn = _drawn(ET.fromstring(answer.text))
    located = {s.id for s in _sites(demo_store) if s.lat is not None}
    assert set(drawn) == located
    download = console.client.get("/ui/map.svg", params={"product": "IPTV", "download": "1"})
    assert 'filename="site-map-IPTV.svg"' in download.headers["content-disposition"]
