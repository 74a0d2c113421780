"""Issue 17 item 3: a partner key reads the events of the orders whose holds use its resources,
from the hold on (reservation, construction milestones, release, cancel), in the partner view,
and never another partner's or the operator's own; the filter arguments (subjects, sites,
products) narrow everyone's stream. On each store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, PARTNER_OC, PARTNER_TT, Api, api_settings
from tests.api.test_events import EVENTS, RESERVE, SUBMIT, events, order_flow
from tests.provisioning.conftest import add_ports

MILESTONE = """mutation($id: ID!, $m: Milestone!) {
  recordMilestone(workOrderId: $id, milestone: $m) { __typename } }"""
CANCEL = """mutation($id: ID!) { cancelOrder(orderId: $id) { __typename } }"""
FILTERED = """query($subjects: [String!], $sites: [String!], $products: [String!]) {
  events(subjects: $subjects, sites: $sites, products: $products) {
    __typename ... on EventConnection { edges { node { sequence subject } } } } }"""
#: What the partner view of an order event may hold (`hub.views.PARTNER_ORDER_FIELDS`).
PARTNER_FIELDS = {"@type", "id", "state", "pbossEvent", "workOrderId", "milestone", "jeopardyAlert"}


def with_free_e1(store: GraphStore) -> GraphStore:
    """The reference network plus free E1 ports on every NE (the demo's are all busy), so a
    leased line can be held."""
    sites = {"NE-A": "CP-XX", "NE-1": "EX-1", "NE-2": "EX-2", "NE-Z": "B-DH"}
    for ne, site in sites.items():
        add_ports(store, ne, site, "PORT-E1", 2, "E1F")
    return store


@pytest.fixture
def api(demo_store: GraphStore) -> Iterator[Api]:
    """The app on the reference network with free E1 ports, on each store."""
    with TestClient(create_app(api_settings(), store=with_free_e1(demo_store))) as client:
        yield Api(client)


def leased_line(api: Api, crm: str) -> str:
    """Submit and reserve a leased line CP-XX—B-DH, routed over P-TT's PL-1; the order id."""
    made = api.data(
        SUBMIT,
        key=CRM,
        input={
            "crmOrderId": crm,
            "product": "MSTP-LL",
            "aSite": "CP-XX",
            "zSite": "B-DH",
            "customer": f"E-{crm}",
            "customerType": "enterprise",
        },
    )["submitOrder"]
    held = api.data(RESERVE, key=CRM, id=made["id"])["reserve"]
    assert held["__typename"] == "Reservation", held
    return made["id"]


def nodes(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of one page."""
    assert page["__typename"] == "EventConnection", page
    return [e["node"] for e in page["edges"]]


def test_a_partner_sees_its_orders_events_in_the_partner_view_and_no_others(api: Api) -> None:
    order_flow(api, "PV0")  # FTTH on own fibre: no partner's
    order = leased_line(api, "PV1")
    assert api.data(MILESTONE, key=PARTNER_TT, id="WO-PV1-1", m="SURVEY")
    api.data(CANCEL, key=CRM, id=order)
    everything = nodes(events(api, key=CRM))
    mine = nodes(events(api, key=PARTNER_TT))
    assert [n["body"]["event"]["productOrder"]["pbossEvent"] for n in mine] == [
        "resourcesReserved",
        "constructionDispatched",
        "survey",
        "cancelled",
    ]
    assert {n["subject"] for n in mine} == {order}
    # the operator's copy of the same events carries what the partner view drops
    whole = {n["id"]: n["body"] for n in everything}
    for n in mine:
        shown = n["body"]["event"]["productOrder"]
        assert set(shown) <= PARTNER_FIELDS, shown
        full = whole[n["id"]]["event"]["productOrder"]
        assert full["externalId"] == "PV1" and "externalId" not in shown
        assert n["body"]["eventId"] == n["id"]
    assert any("note" in whole[n["id"]]["event"]["productOrder"] for n in mine)
    assert "reservationId" in whole[mine[0]["id"]]["event"]["productOrder"]
    assert nodes(events(api, key=PARTNER_OC)) == []  # not P-OC's resources


def test_the_partner_scope_ends_with_the_hold(api: Api) -> None:
    """Released, the order goes back to pending: its later events are not the partner's."""
    order = leased_line(api, "PV2")
    release = 'mutation { release(reservationId: "RSV-PV2-1") { __typename } }'
    assert api.data(release, key=CRM)["release"]["__typename"] == "Reservation"
    api.data(CANCEL, key=CRM, id=order)
    seen = [
        n["body"]["event"]["productOrder"]["pbossEvent"] for n in nodes(events(api, key=PARTNER_TT))
    ]
    assert seen == ["resourcesReserved", "constructionDispatched", "reservationReleased"]
    crm = [n["body"]["event"]["productOrder"]["pbossEvent"] for n in nodes(events(api, key=CRM))]
    assert crm[-1] == "cancelled"


def test_subjects_sites_and_products_filter_the_stream(api: Api) -> None:
    order_flow(api, "FL1")  # FTTH-100M at B-JZ: 3 events
    order = leased_line(api, "FL2")  # MSTP-LL CP-XX—B-DH: 3 events
    by_subject = nodes(api.data(FILTERED, key=CRM, subjects=[order])["events"])
    assert [n["subject"] for n in by_subject] == [order] * 3
    by_site = nodes(api.data(FILTERED, key=CRM, sites=["B-JZ"])["events"])
    assert {n["subject"] for n in by_site} == {"ORD-FL1"} and len(by_site) == 3
    by_product = nodes(api.data(FILTERED, key=CRM, products=["MSTP-LL"])["events"])
    assert {n["subject"] for n in by_product} == {order}
    both = api.data(FILTERED, key=CRM, sites=["B-DH"], products=["FTTH-100M"])["events"]
    assert nodes(both) == []
    partner = nodes(api.data(FILTERED, key=PARTNER_TT, sites=["B-DH"])["events"])
    assert [n["subject"] for n in partner] == [order, order]  # from the hold on


def test_empty_or_oversized_filter_lists_are_refused(api: Api) -> None:
    for args in ({"types": []}, {"subjects": []}, {"sites": [f"S{i}" for i in range(101)]}):
        [error] = api.errors(EVENTS if "types" in args else FILTERED, key=CRM, **args)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert next(iter(args)) in error["message"]
