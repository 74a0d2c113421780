"""The business view over HTTP: availability in TMF645 terms, packaged business resources and a
customer's network. Each unqualified or alternate case is set up by writes through the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import CRM, Api

AVAILABILITY = """
query Avail($site: ID, $address: String, $product: String) {
  availability(site: $site, address: $address, product: $product) {
    __typename
    ... on Availability {
      site { id } requestedProduct { id } qualificationResult reasons
      options { product { id } network selfBuilt freeCapacity leadTimeHours packageId
                partner { name } }
    }
    ... on Error { code message }
    ... on ValidationError { issues { item field reason } }
  }
}
"""


def _avail(api: Api, **args: Any) -> dict[str, Any]:
    return api.data(AVAILABILITY, key=CRM, **args)["availability"]


def _options(got: dict) -> list[tuple[str, str, int, int]]:
    return [
        (o["product"]["id"], o["network"], o["freeCapacity"], o["leadTimeHours"])
        for o in got["options"]
    ]


def _set(api: Api, element_id: str, status: str) -> None:
    mutation = """mutation($id: ID!, $s: Status!) {
        setStatus(id: $id, status: $s, reason: "test", acceptImpact: true) { __typename } }"""
    assert api.data(mutation, id=element_id, s=status)["setStatus"]["__typename"] == "StatusChanged"


def _merge(api: Api, kind: str, element_id: str, common: dict | None = None, **fields: Any) -> None:
    mutation = """mutation($in: UpsertInput!) { upsertElements(input: $in) {
        __typename ... on ValidationError { issues { reason } } } }"""
    el = {"kind": kind, "id": element_id, "fields": fields, **(common or {})}
    got = api.data(mutation, **{"in": {"elements": [el], "merge": True}})["upsertElements"]
    assert got["__typename"] == "UpsertSuccess", got


def test_qualified_where_a_splitter_port_is_free(api: Api) -> None:
    got = _avail(api, site="B-JZ", product="FTTH-100M")
    assert got["qualificationResult"] == "qualified" and got["reasons"] == []
    assert _options(got) == [("FTTH-100M", "self", 13, 24)]
    assert got["options"][0]["packageId"] == "ftth-access@B-JZ"
    assert got["requestedProduct"] == {"id": "FTTH-100M"}


def test_without_a_product_every_sellable_option_is_listed_own_network_first(api: Api) -> None:
    got = _avail(api, site="B-DH")
    assert got["qualificationResult"] == "qualified"
    assert _options(got) == [
        ("FTTH-100M", "self", 6, 24),
        ("FTTH-1000M", "self", 6, 24),
        ("IPTV", "self", 6, 24),
        ("VOICE", "self", 6, 24),
        ("CABLE-BB", "P-OC", 60, 48),
    ]
    assert got["options"][-1]["partner"] == {"name": "东方有线"}
    assert [o["selfBuilt"] for o in got["options"]] == [True] * 4 + [False]


def test_alternate_when_a_fault_leaves_only_the_partner(api: Api) -> None:
    _set(api, "OLT-2", "FAULTY")
    got = _avail(api, site="B-DH", product="FTTH-100M")
    assert got["qualificationResult"] == "alternate"
    assert _options(got) == [("CABLE-BB", "P-OC", 60, 48)]
    assert got["reasons"] == ["SPL-DH-2A: OLT OLT-2 is faulty"]
    anything = _avail(api, site="B-DH")
    assert anything["qualificationResult"] == "alternate"
    assert _options(anything) == [("CABLE-BB", "P-OC", 60, 48)]


def test_alternate_when_every_port_is_taken_and_the_partner_can_serve(api: Api) -> None:
    mutation = """mutation($in: UpsertInput!) { upsertElements(input: $in) { __typename } }"""
    onts = [{"kind": "ONT", "id": f"ONT-X{i}", "site": "B-DH"} for i in range(3, 9)]
    edges = [{"type": "FED_BY", "src": f"ONT-X{i}", "dst": f"SPL-DH-2A:{i}"} for i in range(3, 9)]
    api.data(mutation, **{"in": {"elements": onts, "edges": edges}})
    got = _avail(api, site="B-DH", product="FTTH-1000M")
    assert got["qualificationResult"] == "alternate"
    assert got["reasons"] == ["SPL-DH-2A: no free port"]
    assert _options(got) == [("CABLE-BB", "P-OC", 60, 48)]


def test_alternate_when_only_another_product_can_serve(api: Api) -> None:
    got = _avail(api, site="B-JZ", product="CABLE-BB")
    assert got["qualificationResult"] == "alternate"
    assert _options(got) == [("FTTH-100M", "self", 13, 24), ("FTTH-1000M", "self", 13, 24)]
    assert got["reasons"] == [
        "our own network at 财富国际金座 (B-JZ) has nothing that delivers CABLE-BB"
    ]


def test_a_product_only_a_partner_delivers_is_an_alternate_naming_the_partner(api: Api) -> None:
    got = _avail(api, site="B-DH", product="CABLE-BB")
    assert got["qualificationResult"] == "alternate"
    assert _options(got)[0] == ("CABLE-BB", "P-OC", 60, 48)
    assert got["reasons"] == [
        "CABLE-BB is delivered at 都华名苑 (B-DH) only through a partner network (东方有线)"
    ]


def test_unqualified_with_the_reason_when_nothing_can_serve(api: Api) -> None:
    _set(api, "OLT-1", "FAULTY")
    got = _avail(api, site="B-JZ", product="FTTH-100M")
    assert got["qualificationResult"] == "unqualified" and got["options"] == []
    assert got["reasons"] == [
        "SPL-JZ-2A: OLT OLT-1 is faulty",
        "SPL-JZ-2B: OLT OLT-1 is faulty",
        "no partner or alternative product can serve FTTH-100M here",
    ]


def test_unqualified_when_the_pon_split_budget_is_spent(api: Api) -> None:
    _merge(api, "PonPort", "OLT-1/0/1", {"spec": None}, max_split=3)
    got = _avail(api, site="B-JZ", product="IPTV")
    assert got["qualificationResult"] == "unqualified"
    assert got["reasons"][0] == "SPL-JZ-2A: PON port OLT-1/0/1 is at its split budget (3 of 3)"


def test_unqualified_when_faulty_ftth_and_the_partner_pool_is_exhausted(api: Api) -> None:
    _set(api, "SPL-DH-1", "MAINTENANCE")
    _merge(api, "PartnerAccess", "PA-DH-OC", used=90, reserved=10)
    got = _avail(api, site="B-DH", product="FTTH-100M")
    assert got["qualificationResult"] == "unqualified"
    assert got["reasons"] == [
        "SPL-DH-2A: Splitter SPL-DH-1 is maintenance",
        "PA-DH-OC: partner pool exhausted (100 of 100 taken)",
    ]
    anything = _avail(api, site="B-DH")
    assert anything["qualificationResult"] == "unqualified"
    assert anything["reasons"] == [
        "SPL-DH-2A: Splitter SPL-DH-1 is maintenance",
        "PA-DH-OC: partner pool exhausted (100 of 100 taken)",
        "NE-Z: no free port",
    ]


def test_a_leased_line_needs_a_free_ne_port_at_the_site(api: Api) -> None:
    got = _avail(api, site="CP-XX", product="MSTP-LL")
    assert got["qualificationResult"] == "unqualified"
    assert got["reasons"][0] == "NE-A: no free port"
    mutation = """mutation { upsertElements(input: {
        elements: [{kind: "Port", id: "NE-A/E1-2", site: "CP-XX", spec: "PORT-E1"}],
        edges: [{type: PART_OF, src: "NE-A/E1-2", dst: "NE-A"}]}) { __typename } }"""
    api.data(mutation)
    got = _avail(api, site="CP-XX", product="MSTP-LL")
    assert got["qualificationResult"] == "qualified"
    assert _options(got) == [("MSTP-LL", "self", 1, 48)]


def test_availability_by_address_normalised(api: Api) -> None:
    got = _avail(api, address="东方路１号", product="CABLE-BB")
    assert got["site"] == {"id": "B-DH"}
    ambiguous = _avail(api, address="浦东新区")
    assert ambiguous["__typename"] == "ValidationError"
    assert ambiguous["issues"][0]["field"] == "address"
    assert "matches 5 sites" in ambiguous["issues"][0]["reason"]
    nowhere = _avail(api, address="北京市海淀区", product="FTTH-100M")
    assert nowhere["__typename"] == "Availability" and nowhere["site"] is None
    assert (nowhere["qualificationResult"], nowhere["options"]) == ("unqualified", [])
    assert nowhere["requestedProduct"] == {"id": "FTTH-100M"}
    assert nowhere["reasons"] == [
        "no site in our inventory matches the address '北京市海淀区': check the spelling, or "
        "give the site id"
    ]


@pytest.mark.parametrize(
    ("args", "typename", "needle"),
    [
        ({"site": "NOPE"}, "NotFound", "Site 'NOPE' not found"),
        ({"site": "OLT-1"}, "NotFound", "Site 'OLT-1' not found"),
        ({"site": "B-JZ", "product": "DSL"}, "ValidationError", "unknown product 'DSL'"),
        ({}, "ValidationError", "give exactly one of site and address"),
        ({"site": "B-JZ", "address": "x"}, "ValidationError", "give exactly one"),
    ],
)
def test_availability_refuses_bad_questions_with_typed_errors(
    api: Api, args: dict, typename: str, needle: str
) -> None:
    got = _avail(api, **args)
    assert got["__typename"] == typename and needle in got["message"]


BUSINESS = """
query B($site: ID!) {
  businessResources(site: $site) {
    __typename
    ... on BusinessResources {
      site { id }
      packages { id rule name owner isPartner partner { name } sells { id } capacity used free
                 health reasons
                 components { anchor { id } total used free sellable freeUnits health blockers
                              ponPort olt ponLoad ponBudget chain { id status } } }
    }
    ... on NotFound { id }
  }
}
"""


def test_business_resources_package_ftth_access_by_catalog_rules(api: Api) -> None:
    got = api.data(BUSINESS, key=CRM, site="B-JZ")["businessResources"]
    [ftth] = got["packages"]
    assert (ftth["id"], ftth["name"], ftth["owner"]) == (
        "ftth-access@B-JZ",
        "FTTH access at 财富国际金座",
        "self",
    )
    assert [p["id"] for p in ftth["sells"]] == ["FTTH-100M", "FTTH-1000M", "IPTV", "VOICE"]
    assert (ftth["capacity"], ftth["used"], ftth["free"], ftth["health"]) == (16, 3, 13, "OK")
    two_a, two_b = ftth["components"]
    assert two_a["anchor"]["id"] == "SPL-JZ-2A" and two_b["anchor"]["id"] == "SPL-JZ-2B"
    assert (two_a["total"], two_a["used"], two_a["free"]) == (8, 2, 6)
    assert two_a["freeUnits"] == [f"SPL-JZ-2A:{i}" for i in range(3, 9)]
    assert (two_a["ponPort"], two_a["olt"], two_a["ponLoad"], two_a["ponBudget"]) == (
        "OLT-1/0/1",
        "OLT-1",
        3,
        64,
    )
    assert [c["id"] for c in two_a["chain"]] == ["SPL-JZ-1:1", "SPL-JZ-1", "OLT-1/0/1", "OLT-1"]
    assert (two_b["used"], two_b["free"]) == (1, 7)


def test_business_resources_show_partner_pools_and_faults(api: Api) -> None:
    _set(api, "OLT-2/0/1", "FAULTY")
    got = api.data(BUSINESS, key=CRM, site="B-DH")["businessResources"]
    by_id = {p["id"]: p for p in got["packages"]}
    assert sorted(by_id) == ["cable-access@B-DH/P-OC", "ftth-access@B-DH", "leased-line-node@B-DH"]
    cable = by_id["cable-access@B-DH/P-OC"]
    assert (cable["name"], cable["isPartner"], cable["partner"]) == (
        "Cable broadband at 都华名苑 (东方有线)",
        True,
        {"name": "东方有线"},
    )
    assert (cable["capacity"], cable["used"], cable["free"]) == (100, 40, 60)
    ftth = by_id["ftth-access@B-DH"]
    assert (ftth["health"], ftth["free"]) == ("DOWN", 0)
    assert ftth["reasons"] == ["SPL-DH-2A: PonPort OLT-2/0/1 is faulty"]
    assert ftth["components"][0]["sellable"] == 0 and ftth["components"][0]["free"] == 6
    node = by_id["leased-line-node@B-DH"]  # NE-Z/E1-1 only: PL-1 ends on NE-Z itself
    assert (node["capacity"], node["used"], node["free"]) == (1, 1, 0)
    assert api.data(BUSINESS, key=CRM, site="NOPE")["businessResources"]["__typename"] == "NotFound"


NETWORK = """
query N($id: ID!) {
  customerNetwork(customer: $id) {
    __typename
    ... on CustomerNetwork {
      customer { id name customerType slaTier }
      health
      services { service { id } product { id name } access networks summary health
                 hops { role element { id } } }
    }
    ... on NotFound { id kind }
  }
}
"""


def test_customer_network_in_business_terms(api: Api) -> None:
    got = api.data(NETWORK, key=CRM, id="E-1")["customerNetwork"]
    assert got["customer"] == {
        "id": "E-1",
        "name": "上海信息技术有限公司",
        "customerType": "enterprise",
        "slaTier": "platinum",
    }
    [line] = got["services"]
    assert line["service"]["id"] == "SVC-E1-LL" and line["product"]["id"] == "MSTP-LL"
    assert line["access"] == "leased line over a partner segment"
    assert line["networks"] == ["self", "P-TT"]
    assert line["summary"] == (
        "Enterprise leased line, n x 2 Mb/s (MSTP) via NE-A → TS-1 → TS-2 → PL-1 → NE-Z"
    )
    h1 = api.data(NETWORK, key=CRM, id="H-5")["customerNetwork"]["services"]
    assert [(s["access"], s["networks"], s["summary"]) for s in h1] == [
        (
            "partner cable access",
            ["P-OC"],
            "Home broadband over a partner's cable network via PA-DH-OC",
        )
    ]
    h3 = api.data(NETWORK, key=CRM, id="H-3")["customerNetwork"]
    assert [s["service"]["id"] for s in h3["services"]] == ["SVC-H3-BB", "SVC-H3-VO"]
    assert {s["access"] for s in h3["services"]} == {"self-built FTTH"}
    assert h3["services"][0]["hops"][0] == {"role": "ont", "element": {"id": "ONT-3"}}


def test_customer_network_of_a_non_customer_is_not_found(api: Api) -> None:
    got = api.data(NETWORK, key=CRM, id="OLT-1")["customerNetwork"]
    assert got == {"__typename": "NotFound", "id": "OLT-1", "kind": "Customer"}


def test_products_come_from_the_catalog(api: Api) -> None:
    got = api.data("{ products { id leadTimeHours } }", key=CRM)["products"]
    assert [p["id"] for p in got] == [
        "FTTH-100M",
        "FTTH-1000M",
        "IPTV",
        "VOICE",
        "CABLE-BB",
        "MSTP-LL",
    ]
