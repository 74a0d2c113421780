"""Nested fields cost what docs/api.md says: counted through the app's store-call metrics for a
list of N parents (an order's reservations and work orders: one batched read for all of them)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from tests.api.conftest import CRM, ENGINEER, Api

_SAMPLE = re.compile(r"^pboss_store_call_seconds_count\{(?P<labels>[^}]*)\} (?P<n>\S+)$", re.M)


def _store_calls(api: Api) -> Counter[str]:
    """Store calls made so far, by method, from /metrics."""
    out: Counter[str] = Counter()
    for m in _SAMPLE.finditer(api.client.get("/metrics").text):
        method = re.search(r'method="([^"]+)"', m["labels"])
        assert method is not None
        out[method.group(1)] += int(float(m["n"]))
    return out


def _calls_of(api: Api, query: str, key: str = ENGINEER, **variables: Any) -> Counter[str]:
    """The store calls one operation makes, and checks that it succeeded."""
    before = _store_calls(api)
    api.data(query, key=key, **variables)
    return _store_calls(api) - before


SUBMIT = """mutation($input: SubmitOrderInput!) {
  submitOrder(input: $input) { ... on Order { id } } }"""
RESERVE = "mutation($id: ID!) { reserve(orderId: $id) { __typename } }"
ORDERS = """{ orders(first: 50) { edges { node { id
    reservations { id state items { id } }
    workOrders { id assignee } } } } }"""


def _orders(api: Api) -> list[str]:
    """Three orders, each reserved: two FTTH at 财富国际金座 and one on 东方有线's cable pool
    (which also gets a construction order for the partner)."""
    wanted = [
        ("B1", "FTTH-100M", "B-JZ", "H-1"),
        ("B2", "FTTH-1000M", "B-JZ", "H-2"),
        ("B3", "CABLE-BB", "B-DH", "H-5"),
    ]
    ids = []
    for crm, product, site, customer in wanted:
        made = api.data(
            SUBMIT,
            key=CRM,
            input={"crmOrderId": crm, "product": product, "site": site, "customer": customer},
        )
        ids.append(made["submitOrder"]["id"])
        held = api.data(RESERVE, key=CRM, id=ids[-1])["reserve"]
        assert held["__typename"] == "Reservation", held
    return ids


def test_reservations_and_work_orders_of_a_page_of_orders_are_one_read(api: Api) -> None:
    ids = _orders(api)
    data = api.data(ORDERS, key=CRM)["orders"]["edges"]
    assert [e["node"]["id"] for e in data] == sorted(ids)
    assert all(len(e["node"]["reservations"]) == 1 for e in data)
    assert sum(len(e["node"]["workOrders"]) for e in data) == 1
    calls = _calls_of(api, ORDERS, key=CRM)
    # one page of orders, then one get_many for every reservation and work order on it
    assert calls == Counter({"find": 1, "get_many": 1}), calls


def test_a_nested_answer_after_a_write_in_the_same_request_is_fresh(api: Api) -> None:
    """Loaders cache for one request; a write in that request must not be hidden by the cache."""
    [order, *_] = _orders(api)
    both = """mutation($id: ID!, $input: SubmitOrderInput!) {
      again: submitOrder(input: $input) { ... on Order { reservations { state } } }
      cancel: cancelOrder(orderId: $id) { ... on Order { state reservations { state } } }
    }"""
    same = {"crmOrderId": "B1", "product": "FTTH-100M", "site": "B-JZ", "customer": "H-1"}
    got = api.data(both, key=CRM, id=order, input=same)
    assert got["again"]["reservations"] == [{"state": "HELD"}]
    assert got["cancel"] == {"state": "CANCELLED", "reservations": [{"state": "RELEASED"}]}


HISTORY = """{ elements(kind: "OLT", first: 50) { edges { node { id history { toStatus } } } }
  again: element(id: "OLT-1") { ... on Element { history { toStatus } } } }"""


def test_history_is_one_call_for_every_element_asked_about(api: Api) -> None:
    """The loader asks the store for the history of every element a query mentions at once
    (`history_many`), however often a query asks."""
    for olt in ("OLT-1", "OLT-2"):
        change = """mutation($id: ID!) { setStatus(id: $id, status: MAINTENANCE, reason: "x") {
            __typename } }"""
        api.data(change, id=olt)
    calls = _calls_of(api, HISTORY)
    # the list, the lookup, and one history read for both OLTs (OLT-1 asked twice)
    assert calls == Counter({"find": 1, "get_many": 1, "history_many": 1}), calls
