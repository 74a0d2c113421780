"""`events(after:, types:, first:)`: CRM pages the durable event log and resumes from its last
cursor, also against a new app on the same store (a restart); a partner reads only what concerns
it (test_events_partners.py); on each store."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_TT, Api, api_settings

SUBMIT = """mutation($input: SubmitOrderInput!) {
  submitOrder(input: $input) { ... on Order { id } } }"""
RESERVE = """mutation($id: ID!) {
  reserve(orderId: $id) { __typename ... on Reservation { id } } }"""
RELEASE = """mutation($id: ID!) { release(reservationId: $id) { __typename } }"""
EVENTS = """query($after: String, $types: [String!], $first: Int) {
  events(after: $after, types: $types, first: $first) {
    __typename
    ... on EventConnection {
      edges { cursor node { id sequence eventType eventTime subject body } }
      pageInfo { hasNextPage endCursor }
    }
    ... on Forbidden { code message role }
  }
}"""


def order_flow(api: Api, crm: str) -> None:
    """Submit, reserve and release one FTTH order: three events."""
    made = api.data(
        SUBMIT,
        key=CRM,
        input={"crmOrderId": crm, "product": "FTTH-100M", "site": "B-JZ", "customer": f"H-{crm}"},
    )
    held = api.data(RESERVE, key=CRM, id=made["submitOrder"]["id"])["reserve"]
    assert held["__typename"] == "Reservation", held
    assert api.data(RELEASE, key=CRM, id=held["id"])["release"]["__typename"] == "Reservation"


def events(api: Api, key: str = CRM, **args: Any) -> dict[str, Any]:
    """One page of the event log, as a role."""
    return api.data(EVENTS, key=key, **args)["events"]


def test_crm_resumes_from_its_last_cursor_and_gets_exactly_the_later_events(api: Api) -> None:
    order_flow(api, "EV1")
    first = events(api, first=2)
    assert first["__typename"] == "EventConnection" and first["pageInfo"]["hasNextPage"]
    rest = events(api, after=first["pageInfo"]["endCursor"], first=50)
    seen = [e["node"] for e in first["edges"] + rest["edges"]]
    assert [n["sequence"] for n in seen] == [1, 2, 3]
    assert [n["body"]["event"]["productOrder"]["pbossEvent"] for n in seen] == [
        "acknowledged",
        "resourcesReserved",
        "reservationReleased",
    ]
    assert all(n["subject"] == "ORD-EV1" and n["body"]["eventId"] == n["id"] for n in seen)
    assert seen[0]["eventType"] == "ProductOrderCreateEvent"
    assert not rest["pageInfo"]["hasNextPage"]
    cursor = rest["pageInfo"]["endCursor"]
    nothing = events(api, after=cursor)
    assert nothing["edges"] == [] and nothing["pageInfo"]["endCursor"] == cursor  # keep it
    order_flow(api, "EV2")
    later = events(api, after=cursor)
    assert [e["node"]["sequence"] for e in later["edges"]] == [4, 5, 6]
    assert {e["node"]["subject"] for e in later["edges"]} == {"ORD-EV2"}


def test_a_new_app_on_the_same_store_resumes_from_the_cursor(demo_store: GraphStore) -> None:
    """The restart case: the cursor CRM kept from one app instance works on the next."""
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        api = Api(client)
        order_flow(api, "RS1")
        cursor = events(api)["pageInfo"]["endCursor"]
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        api = Api(client)
        order_flow(api, "RS2")
        after = events(api, after=cursor)
    assert [e["node"]["sequence"] for e in after["edges"]] == [4, 5, 6]
    assert {e["node"]["subject"] for e in after["edges"]} == {"ORD-RS2"}


def test_types_filter_the_stream(api: Api) -> None:
    order_flow(api, "TY1")
    created = events(api, types=["ProductOrderCreateEvent"])
    assert [e["node"]["eventType"] for e in created["edges"]] == ["ProductOrderCreateEvent"]
    changes = events(api, types=["ProductOrderStateChangeEvent"])
    assert [e["node"]["sequence"] for e in changes["edges"]] == [2, 3]


def test_engineers_and_admins_read_events_a_partner_only_what_concerns_it(api: Api) -> None:
    order_flow(api, "RO1")
    for key in (ENGINEER, ADMIN):
        assert len(events(api, key=key)["edges"]) == 3
    partner = events(api, key=PARTNER_TT)  # an FTTH order on own fibre: nothing of P-TT's
    assert partner["__typename"] == "EventConnection" and partner["edges"] == []


def test_bad_cursors_and_page_sizes_are_refused(api: Api) -> None:
    for args in ({"after": "bm90IGEgY3Vyc29y"}, {"after": "!!"}, {"first": 0}, {"first": 501}):
        [error] = api.errors(EVENTS, key=CRM, **args)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    order_cursor = "b3JkZXI6T1JELTE="  # base64 of "order:ORD-1", another list's cursor
    [error] = api.errors(EVENTS, key=CRM, after=order_cursor)
    assert "invalid cursor" in error["message"]
    negative = "ZXZlbnQ6LTE="  # "event:-1"
    [error] = api.errors(EVENTS, key=CRM, after=negative)
    assert "invalid cursor" in error["message"]
