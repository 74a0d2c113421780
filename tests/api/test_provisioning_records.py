"""Orders, reservations and construction orders are written only by the order mutations: the
inventory mutations refuse them (and their HOLDS / FOR_ORDER edges) for every role, so nobody can
forge a hold or delete one behind provisioning's locks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ADMIN, CRM, ENGINEER, Api

SUBMIT = """
mutation($input: SubmitOrderInput!) { submitOrder(input: $input) { ... on Order { id } } }
"""
RESERVE = """
mutation($id: ID!) { reserve(orderId: $id) {
  __typename ... on Reservation { id state items { id } } } }
"""
UPSERT = """
mutation Up($in: UpsertInput!) {
  upsertElements(input: $in) {
    __typename
    ... on UpsertSuccess { nodesAdded edgesAdded }
    ... on ValidationError { issues { reason } }
    ... on Forbidden { code message action role }
  }
}
"""
DELETE = """
mutation Del($ids: [ID!]!, $cascade: Boolean!) {
  deleteElements(ids: $ids, cascade: $cascade) {
    __typename
    ... on Deleted { ids }
    ... on HasDependants { dependants }
    ... on Forbidden { code message action role }
  }
}
"""
RESERVATION = """query($id: ID!) { reservation(id: $id) {
  __typename ... on Reservation { state items { id } } } }"""
USE_ORDER_MUTATIONS = "use the order mutations"

NOW = "2030-01-01T00:00:00+00:00"
FORGED_ORDER = {
    "kind": "Order",
    "id": "ORD-FORGED",
    "fields": {
        "crm_order_id": "FORGED",
        "product": "FTTH-100M",
        "technology": "ftth",
        "customer": "H-1",
        "created_at": NOW,
        "updated_at": NOW,
    },
    "site": "B-JZ",
}
FORGED_HOLD = {
    "kind": "Reservation",
    "id": "RSV-FORGED",
    "fields": {
        "order": "ORD-FORGED",
        "technology": "ftth",
        "valid_from": NOW,
        "valid_until": "2031-01-01T00:00:00+00:00",
    },
}
FORGED_WORK = {
    "kind": "WorkOrder",
    "id": "WO-FORGED",
    "fields": {
        "order": "ORD-FORGED",
        "reservation": "RSV-FORGED",
        "assignee": "crew-1",
        "created_at": NOW,
        "due_at": NOW,
    },
}


def _upsert(api: Api, key: str = ENGINEER, **batch: Any) -> dict[str, Any]:
    return api.data(UPSERT, key=key, **{"in": batch})["upsertElements"]


def _refused(got: dict[str, Any]) -> None:
    assert got["__typename"] == "Forbidden", got
    assert got["code"] == "FORBIDDEN"
    assert USE_ORDER_MUTATIONS in got["message"], got["message"]


def _count(api: Api, kind: str) -> int:
    query = "query($k: String) { elements(kind: $k, first: 1) { totalCount } }"
    return api.data(query, k=kind)["elements"]["totalCount"]


@pytest.mark.parametrize("key", [ENGINEER, ADMIN])
@pytest.mark.parametrize(
    "batch",
    [
        {"elements": [FORGED_ORDER]},
        {"elements": [FORGED_ORDER, FORGED_HOLD]},
        {"elements": [FORGED_ORDER, FORGED_HOLD, FORGED_WORK]},
        {"elements": [FORGED_HOLD, FORGED_ORDER]},
        {
            "elements": [FORGED_ORDER, FORGED_HOLD],
            "edges": [
                {"type": "HOLDS", "src": "RSV-FORGED", "dst": "SPL-JZ-2A:3"},
                {"type": "FOR_ORDER", "src": "RSV-FORGED", "dst": "ORD-FORGED"},
            ],
        },
    ],
    ids=["order", "order+hold", "order+hold+work", "hold-first", "with-edges"],
)
def test_provisioning_records_cannot_be_upserted(api: Api, key: str, batch: dict) -> None:
    _refused(_upsert(api, key, **batch))
    assert (_count(api, "Order"), _count(api, "Reservation"), _count(api, "WorkOrder")) == (0, 0, 0)


def test_holds_and_order_edges_cannot_be_added_or_hijacked(api: Api) -> None:
    order = api.data(
        SUBMIT,
        key=CRM,
        input={"crmOrderId": "G1", "product": "FTTH-100M", "site": "B-JZ", "customer": "H-1"},
    )["submitOrder"]["id"]
    held = api.data(RESERVE, key=CRM, id=order)["reserve"]
    assert held["state"] == "HELD"
    [item] = held["items"]
    for edge in (
        {"type": "HOLDS", "src": held["id"], "dst": "SPL-JZ-2A:4"},  # grab another port
        {"type": "FOR_ORDER", "src": "SVC-H1-BB", "dst": order},  # pin a service on it
        {"type": "FOR", "src": order, "dst": "H-2"},  # hand the order to another customer
    ):
        _refused(_upsert(api, edges=[edge]))
    # nor re-written over the stored record, merged or not
    for merge in (False, True):
        rewrite = {"kind": "Reservation", "id": held["id"], "attrs": {"note": "mine now"}}
        _refused(_upsert(api, elements=[rewrite], merge=merge))
    unchanged = api.data(RESERVATION, key=CRM, id=held["id"])["reservation"]
    assert unchanged == {"__typename": "Reservation", "state": "HELD", "items": [item]}


@pytest.mark.parametrize("cascade", [False, True])
def test_provisioning_records_cannot_be_deleted_behind_the_order_mutations(
    api: Api, cascade: bool
) -> None:
    order = api.data(
        SUBMIT,
        key=CRM,
        input={"crmOrderId": "G2", "product": "FTTH-100M", "site": "B-JZ", "customer": "H-1"},
    )["submitOrder"]["id"]
    held = api.data(RESERVE, key=CRM, id=order)["reserve"]
    key = ADMIN if cascade else ENGINEER
    for ids in ([held["id"]], [order], ["OLT-2", held["id"]]):
        got = api.data(DELETE, key=key, ids=ids, cascade=cascade)["deleteElements"]
        _refused(got)
    still = api.data(RESERVATION, key=CRM, id=held["id"])["reservation"]
    assert still["state"] == "HELD"
    assert api.data('{ element(id: "OLT-2") { __typename } }')["element"]["__typename"] == "OLT"
