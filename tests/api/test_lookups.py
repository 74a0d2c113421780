"""Lookups by id, filtered cursor lists, nested fields through loaders, and site search."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.api.conftest import Api

ELEMENT = """
query El($id: ID!) {
  element(id: $id) {
    __typename
    ... on Element { id kind name owner status spec siteId
                     state { administrativeState operationalState usageState resourceStatus }
                     site { id name code } partner { id } }
    ... on Splitter { stage ratio }
    ... on PartnerLink { capacityVc12 contractId partnerCircuitCode }
    ... on Customer { customerType slaTier phone address }
    ... on Service { product catalogProduct { name leadTimeHours } }
    ... on Site { siteType households region { id name } }
    ... on NotFound { id code message }
  }
}
"""


def test_element_by_id_with_typed_fields_and_tmf639_state(api: Api) -> None:
    spl = api.data(ELEMENT, id="SPL-JZ-2A")["element"]
    assert spl["__typename"] == "Splitter"
    assert (spl["stage"], spl["ratio"], spl["spec"]) == (2, 8, "SPL-1x8")
    assert spl["site"] == {"id": "B-JZ", "name": "财富国际金座", "code": "B0001"}
    assert spl["state"] == {
        "administrativeState": "unlocked",
        "operationalState": "enable",
        "usageState": "idle",
        "resourceStatus": "available",
    }
    link = api.data(ELEMENT, id="PL-1")["element"]
    assert (link["owner"], link["partner"], link["capacityVc12"]) == ("P-TT", {"id": "P-TT"}, 63)
    assert link["partnerCircuitCode"] == "TT-SH-0001"
    svc = api.data(ELEMENT, id="SVC-H2-BB")["element"]
    assert svc["catalogProduct"] == {"name": "Home broadband 1000 Mb/s (FTTH)", "leadTimeHours": 24}
    assert svc["state"]["usageState"] == "busy"
    site = api.data(ELEMENT, id="B-DH")["element"]
    assert (site["siteType"], site["households"], site["region"]["name"]) == (
        "estate",
        400,
        "浦东新区",
    )


def test_unknown_id_is_a_typed_not_found(api: Api) -> None:
    got = api.data(ELEMENT, id="NOPE-1")["element"]
    assert got == {
        "__typename": "NotFound",
        "id": "NOPE-1",
        "code": "NOT_FOUND",
        "message": "element 'NOPE-1' not found",
    }


LIST = """
query List($kind: String, $site: ID, $owner: String, $status: Status, $text: String,
           $first: Int!, $after: String) {
  elements(kind: $kind, site: $site, owner: $owner, status: $status, text: $text,
           first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
  }
}
"""


def _ids(conn: dict) -> list[str]:
    return [e["node"]["id"] for e in conn["edges"]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": "OLT"}, ["OLT-1", "OLT-2"]),
        ({"kind": "Splitter", "site": "B-JZ"}, ["SPL-JZ-1", "SPL-JZ-2A", "SPL-JZ-2B"]),
        ({"owner": "P-TT"}, ["PL-1"]),
        ({"kind": "ONT", "status": "IN_USE"}, ["ONT-1", "ONT-2", "ONT-3", "ONT-4", "ONT-5"]),
        ({"kind": "Site", "text": "陆家嘴"}, ["EX-2"]),
        ({"kind": "Customer", "text": "h-"}, ["H-1", "H-2", "H-3", "H-4", "H-5"]),
    ],
)
def test_lists_filter_by_kind_site_owner_status_and_text(
    api: Api, filters: dict, expected: list[str]
) -> None:
    conn = api.data(LIST, first=50, **filters)["elements"]
    assert _ids(conn) == expected
    assert conn["totalCount"] == len(expected)


def test_lists_page_by_cursor_with_a_total(api: Api) -> None:
    seen, after = [], None
    while True:
        conn = api.data(LIST, kind="SplitterPort", site="B-JZ", first=7, after=after)["elements"]
        assert conn["totalCount"] == 20
        seen += _ids(conn)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == 20 and seen == sorted(seen)


def test_an_unknown_kind_is_a_clear_error(api: Api) -> None:
    [error] = api.errors(LIST, kind="Router", first=5)
    assert error["message"].startswith("unknown kind 'Router'")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_nested_sites_of_a_page_load_in_one_store_call(api: Api) -> None:
    query = '{ elements(kind: "SplitterPort", first: 40) { edges { node { site { name } } } } }'
    store = api.client.app.state.pboss["store"]
    calls = []
    original = store.get_many

    def counted(ids: Any) -> Any:
        # only the request's reads (the store threads); the sweepers read on their own threads
        if threading.current_thread().name.startswith("pboss-store"):
            calls.append(list(ids))
        return original(ids)

    store.get_many = counted
    try:
        got = api.data(query)["elements"]["edges"]
    finally:
        store.get_many = original
    assert {e["node"]["site"]["name"] for e in got} == {"财富国际金座", "都华名苑"}
    assert len(calls) == 1 and sorted(calls[0]) == ["B-DH", "B-JZ"]


def test_links_show_dependencies_and_dependants(api: Api) -> None:
    query = """{ element(id: "CIR-1") { ... on Element {
        dependencies(types: [ROUTED_OVER]) { type seq slots node { id } }
        dependants { type node { id } } } } }"""
    got = api.data(query)["element"]
    assert [(d["seq"], d["node"]["id"], d["slots"]) for d in got["dependencies"]] == [
        (1, "TS-1", [1, 2]),
        (2, "TS-2", [5, 6]),
        (3, "PL-1", [10, 11]),
    ]
    assert got["dependants"] == [{"type": "USES", "node": {"id": "SVC-E1-LL"}}]


SITES = """query S($q: String!) { sites(query: $q) {
  totalCount edges { node { id name code address } } } }"""


def _sites(got: dict) -> list[dict]:
    return [e["node"] for e in got["sites"]["edges"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("B0002", ["B-DH"]),
        ("b0002", ["B-DH"]),
        ("都华名苑", ["B-DH"]),
        ("都华", ["B-DH"]),
        ("上海市浦东新区 世纪大道８号", ["B-JZ"]),
        ("世纪大道 8 号", ["B-JZ"]),
        ("上海浦东新区世纪大道8號", ["B-JZ"]),
        ("ｌｊｚ０１", ["EX-2"]),
        ("浦东新区", ["B-DH", "B-JZ", "CP-XX", "EX-1", "EX-2"]),
        ("no such place", []),
    ],
)
def test_site_search_by_code_name_and_normalised_address(
    api: Api, text: str, expected: list[str]
) -> None:
    got = api.data(SITES, key="crm-key", q=text)
    assert [s["id"] for s in _sites(got)] == expected
    assert got["sites"]["totalCount"] == len(expected)


def test_site_search_finds_a_site_written_after_the_index_was_built(api: Api) -> None:
    assert _sites(api.data(SITES, q="齐爱佳苑")) == []
    create = """mutation { upsertElements(input: {elements: [{kind: "Site", id: "B-QA",
        name: "齐爱佳苑", fields: {code: "B0009", address: "上海市浦东新区齐爱路１号"}}]})
        { __typename } }"""
    assert api.data(create)["upsertElements"]["__typename"] == "UpsertSuccess"
    got = _sites(api.data(SITES, q="齐爱路1号"))
    assert got == [
        {"id": "B-QA", "name": "齐爱佳苑", "code": "B0009", "address": "上海市浦东新区齐爱路１号"}
    ]


def test_kinds_other_modules_register_come_back_as_generic_elements(api: Api) -> None:
    from datetime import UTC, datetime

    from pboss.provisioning.model import Order

    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    order = Order(
        id="ORD-T1", crm_order_id="T1", product="FTTH-100M", technology="ftth", site="B-JZ",
        customer="H-1", created_at=now, updated_at=now,
    )  # fmt: skip
    api.client.app.state.pboss["store"].upsert([order], actor="test", reason="test")
    query = '{ element(id: "ORD-T1") { __typename ... on GenericElement { kind fields } } }'
    got = api.data(query)["element"]
    assert (got["__typename"], got["kind"]) == ("GenericElement", "Order")
    assert got["fields"]["crm_order_id"] == "T1"
    assert got["fields"]["created_at"].startswith("2026-01-02T03:04:05")
    hidden = api.data('{ element(id: "ORD-T1") { __typename } }', key="tt-key")["element"]
    assert hidden == {"__typename": "NotFound"}
