"""What CRM meets on the API (issue 15, items 8 and 9): a refused order says why in its history;
orders by address; field names as the GraphQL input spells them; an answer, not an error, for an
unknown address; the other product family where the asked one cannot be sold; customers found by
phone, never by a partner. Every test runs on the memory store and on Neo4j."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api, api_settings

SUBMIT = """mutation($input: SubmitOrderInput!) {
  submitOrder(input: $input) {
    __typename
    ... on Order { id siteId aSiteId zSiteId state }
    ... on Error { message code }
    ... on ValidationError { issues { item field reason } }
  }
}"""
RESERVE = """mutation($id: ID!) { reserve(orderId: $id) {
  __typename ... on NoCapacity { message reasons } } }"""
ORDER = """query($id: ID!) { order(id: $id) { ... on Order {
  state reservations { id } history { event state note reasons } } } }"""
AVAILABILITY = """query($site: ID, $address: String, $product: String) {
  availability(site: $site, address: $address, product: $product) {
    __typename
    ... on Availability {
      site { id } address qualificationResult reasons options { product { id } }
      otherFamilies { product { id serviceType } network freeCapacity }
    }
    ... on Error { message code }
    ... on ValidationError { issues { item field reason } }
  }
}"""


def _submit(api: Api, **fields: Any) -> dict[str, Any]:
    base = {"crmOrderId": "C1", "product": "FTTH-100M", "customer": "H-C1"}
    return api.data(SUBMIT, key=CRM, input={**base, **fields})["submitOrder"]


# ---- item 8: a refused order says why ----------------------------------------------------------


def test_a_refused_reservation_is_in_the_order_history_with_its_reasons(api: Api) -> None:
    order = _submit(api, site="CP-XX")  # an office tower: no splitter for FTTH
    refused = api.data(RESERVE, key=CRM, id=order["id"])["reserve"]
    assert refused["__typename"] == "NoCapacity"
    got = api.data(ORDER, key=CRM, id=order["id"])["order"]
    assert got["state"] == "ACKNOWLEDGED" and got["reservations"] == []
    last = got["history"][-1]
    assert last["event"] == "reservationRefused" and last["state"] == "acknowledged"
    assert last["note"] == refused["message"]
    assert last["reasons"] == refused["reasons"]
    assert "CP-XX: no splitter at this site" in last["reasons"]
    assert got["history"][0]["reasons"] == []


# ---- item 9: orders by address, GraphQL field names --------------------------------------------


def test_submit_order_takes_an_address_resolved_as_availability_resolves_it(api: Api) -> None:
    by_address = _submit(api, product="CABLE-BB", address="东方路１号")
    assert (by_address["__typename"], by_address["siteId"]) == ("Order", "B-DH")
    asked = api.data(AVAILABILITY, key=CRM, address="东方路１号", product="CABLE-BB")
    assert asked["availability"]["site"] == {"id": "B-DH"}
    line = _submit(
        api,
        crmOrderId="C2",
        product="MSTP-LL",
        aAddress="信息技术大厦",
        zSite="B-DH",
        customer="E-9",
    )
    assert (line["aSiteId"], line["zSiteId"]) == ("CP-XX", "B-DH")


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"address": "北京市海淀区"}, "address", "no site in our inventory matches the address"),
        ({"address": "浦东新区"}, "address", "matches 5 sites"),
        ({"site": "B-JZ", "address": "东方路1号"}, "address", "not both"),
        ({"product": "MSTP-LL", "aSite": "CP-XX"}, "zSite", "a Z-end site is missing"),
        ({"product": "MSTP-LL", "zAddress": "都华名苑"}, "aSite", "an A-end site is missing"),
        ({"product": "MSTP-LL", "aSite": "B-DH", "zSite": "B-DH"}, "zSite", "both B-DH"),
        ({"site": "B-JZ", "crmOrderId": "X" * 201}, "crmOrderId", "at most 200 characters"),
        ({"site": "B-JZ", "customerType": "alien"}, "customerType", "'household' or"),
        ({"site": "B-JZ", "product": "NOPE"}, "product", "'NOPE' is not in the catalog"),
        ({}, "site", "a site is missing"),
    ],
)
def test_refused_orders_name_the_graphql_input_fields(
    api: Api, fields: dict[str, Any], field: str, reason: str
) -> None:
    got = _submit(api, **fields)
    assert got["__typename"] == "ValidationError", got
    [issue] = got["issues"]
    assert (issue["item"], issue["field"]) == ("input", field)
    assert reason in issue["reason"] and reason in got["message"]
    for python_name in ("a_site", "z_site", "crm_order_id", "customer_type", "OrderRequest"):
        assert python_name not in got["message"]


def test_an_argument_error_names_the_argument_once(api: Api) -> None:
    got = api.data(AVAILABILITY, key=CRM, site="B-JZ", product="DSL")["availability"]
    assert got["__typename"] == "ValidationError"
    assert got["message"].startswith("1 invalid item(s): product: unknown product 'DSL'")
    assert got["issues"] == [
        {"item": "product", "field": "product", "reason": got["message"].split(": ", 2)[2]}
    ]


# ---- item 9: availability answers ----------------------------------------------------------------


def test_an_unknown_address_is_an_unqualified_answer_with_the_reason(api: Api) -> None:
    got = api.data(AVAILABILITY, key=CRM, address="北京市海淀区中关村")["availability"]
    assert got["__typename"] == "Availability"
    assert (got["site"], got["address"], got["qualificationResult"]) == (
        None,
        "北京市海淀区中关村",
        "unqualified",
    )
    assert got["reasons"] == [
        "no site in our inventory matches the address '北京市海淀区中关村': check the "
        "spelling, or give the site id"
    ]
    assert got["options"] == [] and got["otherFamilies"] == []


def test_ftth_at_a_tower_without_gpon_names_the_leased_line_sellable_there(api: Api) -> None:
    ports = """mutation { upsertElements(input: {
        elements: [{kind: "Port", id: "NE-A/GE-9", site: "CP-XX", spec: "PORT-GE"}],
        edges: [{type: PART_OF, src: "NE-A/GE-9", dst: "NE-A"}]}) { __typename } }"""
    api.data(ports, key=ENGINEER)
    got = api.data(AVAILABILITY, key=CRM, site="CP-XX", product="FTTH-100M")["availability"]
    assert got["qualificationResult"] == "unqualified" and got["options"] == []
    assert got["otherFamilies"] == [
        {
            "product": {"id": "MSTP-LL", "serviceType": "leased_line"},
            "network": "self",
            "freeCapacity": 1,
        }
    ]
    assert (
        "sellable here instead: the leased line family: MSTP-LL "
        "(Enterprise leased line, n x 2 Mb/s (MSTP))"
    ) in got["reasons"]


# ---- item 9: customers by phone -----------------------------------------------------------------

BY_TEXT = """query($t: String!) { elements(text: $t, first: 20) {
  totalCount edges { node { id kind } } } }"""


@pytest.mark.parametrize("typed", ["13855555555", "138 5555 5555", "+86 138-5555-5555", "55555555"])
def test_crm_finds_a_customer_by_phone_number(api: Api, typed: str) -> None:
    for key in (CRM, ENGINEER, ADMIN):
        got = api.data(BY_TEXT, key=key, t=typed)["elements"]
        assert [e["node"] for e in got["edges"]] == [{"id": "H-5", "kind": "Customer"}]
        assert got["totalCount"] == 1


def test_a_partner_cannot_probe_phone_numbers(
    demo_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[FindQuery] = []
    find = demo_store.find

    def spy(query: FindQuery) -> Any:
        asked.append(query)
        return find(query)

    monkeypatch.setattr(demo_store, "find", spy)  # before the app wraps the store's methods
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        api = Api(client)
        for key in (PARTNER_TT, PARTNER_OC):
            for typed in ("13855555555", "138 5555 5555", "55555555"):
                got = api.data(BY_TEXT, key=key, t=typed)["elements"]
                assert got == {"totalCount": 0, "edges": []}
        assert asked and all(q.phone is None and q.owner is not None for q in asked)
        api.data(BY_TEXT, key=CRM, t="13855555555")
        assert asked[-1].phone == "13855555555"


def test_a_bad_argument_of_reserve_is_named_as_graphql_spells_it(api: Api) -> None:
    order = _submit(api, site="B-JZ")
    bad = """mutation($id: ID!) { reserve(orderId: $id, ttlSeconds: 0) {
      __typename ... on ValidationError { message issues { item field reason } } } }"""
    got = api.data(bad, key=CRM, id=order["id"])["reserve"]
    assert got["__typename"] == "ValidationError"
    assert got["issues"] == [{"item": "ttlSeconds", "field": "ttlSeconds", "reason": "got 0"}]
    assert "ttl_seconds" not in got["message"] and "ttlSeconds: got 0" in got["message"]
