"""A partner key sees only its own resources and no customer's personal data, by any path:
lookups, lists, search, traces, riders, impact, the business view and nested fields."""

from __future__ import annotations

import json

import pytest

from pboss.inventory.demo import demo_rows
from tests.api.conftest import PARTNER_OC, PARTNER_TT, Api


def _personal_data() -> list[str]:
    """Names, phones and addresses of every customer in the reference network."""
    nodes, _ = demo_rows()
    out = []
    for n in nodes:
        if n["kind"] == "Customer":
            out += [n["name"], n["phone"], n["address"]]
    return out


PERSONAL = _personal_data()

ELEMENT = """query($id: ID!) { element(id: $id) { __typename ... on Element { id owner
    site { id } partner { id } dependencies { node { id } } dependants { node { id } } } } }"""
TRACE = """query($id: ID!) { trace(id: $id) { __typename
    ... on Trace { root { id } hops { element { id } owner partner { id } } impairedBy }
    ... on CustomerTrace { customer { id name } } } }"""
RIDERS = """query($id: ID!) { riders(resource: $id) { __typename
    ... on RiderConnection { totalCount totals { services customers byProduct { key count } }
        edges { node { product health impairedBy service { id name }
                       customer { id name phone address } } } } } }"""
IMPACT = """query($ids: [ID!]!) { impact(resources: $ids) { __typename
    ... on RiderConnection { totalCount edges { node { customer { name } } } }
    ... on NotFound { id } } }"""
LIST = """query($kind: String, $owner: String, $text: String) {
    elements(kind: $kind, owner: $owner, text: $text, first: 100) {
        totalCount edges { node { id owner } } } }"""


@pytest.mark.parametrize(
    "hidden",
    ["H-1", "E-1", "SVC-H1-BB", "SVC-E1-LL", "OLT-1", "CIR-1", "PA-DH-OC", "P-OC"],
)
def test_lookups_of_what_is_not_the_partners_are_not_found(api: Api, hidden: str) -> None:
    got = api.data(ELEMENT, key=PARTNER_TT, id=hidden)["element"]
    assert got == {"__typename": "NotFound"}


def test_its_own_resources_are_visible_but_not_their_neighbours(api: Api) -> None:
    got = api.data(ELEMENT, key=PARTNER_TT, id="PL-1")["element"]
    assert (got["id"], got["owner"], got["partner"]) == ("PL-1", "P-TT", {"id": "P-TT"})
    assert got["dependencies"] == [] and got["dependants"] == []
    assert api.data(ELEMENT, key=PARTNER_TT, id="P-TT")["element"]["id"] == "P-TT"
    assert api.data(ELEMENT, key=PARTNER_OC, id="B-DH")["element"]["id"] == "B-DH"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["PL-1"]),
        ({"kind": "Customer"}, []),
        ({"kind": "Service"}, []),
        ({"owner": "P-OC"}, []),
        ({"owner": "self"}, []),
        ({"text": "张"}, []),
        ({"kind": "PartnerLink", "owner": "P-TT"}, ["PL-1"]),
    ],
)
def test_lists_hold_only_its_own_resources_and_count_only_them(
    api: Api, filters: dict, expected: list[str]
) -> None:
    got = api.data(LIST, key=PARTNER_TT, **filters)["elements"]
    assert [e["node"]["id"] for e in got["edges"]] == expected
    assert got["totalCount"] == len(expected)


def test_a_households_premises_are_hidden_from_partners(api: Api) -> None:
    home = """mutation { upsertElements(input: {elements: [{kind: "Site", id: "CP-H9",
        name: "王府 12 号",
        fields: {site_type: "customer_premises", address: "浦东新区王府路12号"}}]})
        { __typename ... on ValidationError { issues { reason } } } }"""
    assert api.data(home)["upsertElements"] == {"__typename": "UpsertSuccess"}
    search = '{ sites(query: "浦东新区") { totalCount edges { node { id } } } }'
    assert "CP-H9" in [e["node"]["id"] for e in api.data(search)["sites"]["edges"]]
    got = api.data(search, key=PARTNER_TT)["sites"]
    assert [e["node"]["id"] for e in got["edges"]] == ["B-DH", "B-JZ", "CP-XX", "EX-1", "EX-2"]
    assert got["totalCount"] == 5
    assert api.data(ELEMENT, key=PARTNER_TT, id="CP-H9")["element"] == {"__typename": "NotFound"}


def test_traces_show_only_its_own_hops(api: Api) -> None:
    for hidden in ("CIR-1", "SVC-E1-LL", "E-1", "H-5"):
        assert api.data(TRACE, key=PARTNER_TT, id=hidden)["trace"] == {"__typename": "NotFound"}
    own = api.data(TRACE, key=PARTNER_TT, id="PL-1")["trace"]
    assert own == {"__typename": "Trace", "root": {"id": "PL-1"}, "hops": [], "impairedBy": []}
    pool = api.data(TRACE, key=PARTNER_OC, id="PA-DH-OC")["trace"]
    assert pool["root"] == {"id": "PA-DH-OC"}


def test_riders_of_its_own_resource_are_counts_without_services_or_customers(api: Api) -> None:
    got = api.data(RIDERS, key=PARTNER_OC, id="PA-DH-OC")["riders"]
    assert got["totalCount"] == 1
    assert got["totals"] == {
        "services": 1,
        "customers": 1,
        "byProduct": [{"key": "CABLE-BB", "count": 1}],
    }
    [edge] = got["edges"]
    assert edge["node"] == {
        "product": "CABLE-BB",
        "health": "OK",
        "impairedBy": [],
        "service": None,
        "customer": None,
    }
    assert api.data(RIDERS, key=PARTNER_OC, id="PL-1")["riders"] == {"__typename": "NotFound"}
    assert api.data(RIDERS, key=PARTNER_TT, id="OLT-1")["riders"] == {"__typename": "NotFound"}


def test_impact_needs_every_resource_to_be_its_own(api: Api) -> None:
    got = api.data(IMPACT, key=PARTNER_TT, ids=["PL-1", "TS-1"])["impact"]
    assert got == {"__typename": "NotFound", "id": "TS-1"}
    own = api.data(IMPACT, key=PARTNER_TT, ids=["PL-1"])["impact"]
    assert own["edges"] == [{"node": {"customer": None}}]


@pytest.mark.parametrize(
    "query",
    [
        '{ availability(site: "B-DH") { __typename ... on Forbidden { role action } } }',
        '{ businessResources(site: "B-DH") { __typename ... on Forbidden { role action } } }',
        '{ customerNetwork(customer: "H-5") { __typename ... on Forbidden { role action } } }',
    ],
)
def test_the_business_view_is_forbidden_to_partners(api: Api, query: str) -> None:
    [got] = api.data(query, key=PARTNER_OC).values()
    assert got == {"__typename": "Forbidden", "role": "partner", "action": "business view"}


def test_no_query_path_leaks_personal_data_or_another_partners_resources(api: Api) -> None:
    """Run every read a partner can send and search the raw answers for forbidden strings."""
    calls = [
        (LIST, {}),
        (LIST, {"kind": "Customer"}),
        (LIST, {"text": "1"}),
        ('{ sites(query: "上海") { totalCount edges { cursor node { id name address } } } }', {}),
        (ELEMENT, {"id": "PL-1"}),
        (ELEMENT, {"id": "H-1"}),
        (ELEMENT, {"id": "PA-DH-OC"}),
        (TRACE, {"id": "PL-1"}),
        (TRACE, {"id": "E-1"}),
        (TRACE, {"id": "SVC-H5-CB"}),
        (RIDERS, {"id": "PL-1"}),
        (RIDERS, {"id": "PA-DH-OC"}),
        (IMPACT, {"ids": ["PL-1"]}),
        ('{ customerNetwork(customer: "E-1") { __typename } }', {}),
        ('{ availability(site: "B-DH") { __typename } }', {}),
        ("{ products { id name } }", {}),
    ]
    for key, other in ((PARTNER_TT, ["PA-DH-OC", "P-OC"]), (PARTNER_OC, ["PL-1", "P-TT"])):
        for query, variables in calls:
            text = json.dumps(api.post(query, key, **variables).json(), ensure_ascii=False)
            asked = json.dumps(variables, ensure_ascii=False)  # a NotFound echoes the id asked
            leaked = [s for s in PERSONAL + other if s in text and s not in asked]
            assert not leaked, (key, query, leaked)
