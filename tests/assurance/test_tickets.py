"""Trouble tickets on both stores: opening for a service, a customer or an address, idempotency,
typed refusals writing nothing, state changes with history and events, the known incident."""

from __future__ import annotations

from typing import Any

import pytest

from pboss.assurance.errors import (
    AddressUnresolved,
    NoServiceToTrace,
    TicketConflict,
    TicketStateRefused,
)
from pboss.assurance.model import Incident, Priority, Symptom, TicketState, TroubleTicket
from pboss.assurance.record_events import TICKET_CREATED, TICKET_STATE_CHANGED
from pboss.assurance.seam import STAND_IN
from pboss.assurance.service import AssuranceService, TicketFilter
from pboss.assurance.tickets import TicketRequest
from pboss.hub.views import body_for
from pboss.inventory.demo import demo_network
from pboss.inventory.errors import NotFound
from pboss.inventory.model import Customer, Edge
from pboss.inventory.store import GraphStore
from tests.assurance.conftest import T0, Clock


def _counts(store: GraphStore) -> tuple[int, int]:
    c = store.counts()
    return c.get("TroubleTicket", 0), store.last_event_seq()


def test_ticket_for_a_service_carries_its_path_scope_and_tier(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    req = TicketRequest(
        "CRM-1", Symptom.NO_SYNC, service="SVC-H2-BB", priority=Priority.HIGH,
        contact_name="王芳", contact_phone="13822222222",
    )  # fmt: skip
    opened = assurance.open_ticket(req, actor="crm")
    t = opened.ticket
    assert opened.created and t.id == "TT-CRM-1" and t.state == TicketState.ACKNOWLEDGED
    assert t.path == [
        "ONT-2", "SPL-JZ-2A:2", "SPL-JZ-2A", "SPL-JZ-1:1", "SPL-JZ-1", "OLT-1/0/1", "OLT-1",
    ]  # fmt: skip
    assert (t.customer, t.product, t.sla_tier) == ("H-2", "FTTH-1000M", "gold")
    assert t.sites == ["B-JZ", "EX-1"] and t.products == ["FTTH-1000M"] and t.partners == []
    stored = demo_store.get("TT-CRM-1")
    assert isinstance(stored, TroubleTicket) and stored.path == t.path
    about = {el.id for _, el in demo_store.neighbours("TT-CRM-1", "out", ["ABOUT"])}
    assert about == {"SVC-H2-BB", "H-2"}
    [event] = demo_store.events_after(0, types=[TICKET_CREATED])
    tt = event.body["event"]["troubleTicket"]
    assert (event.subject, tt["externalId"], tt["slaTier"]) == ("TT-CRM-1", "CRM-1", "gold")
    assert event.sites == ["B-JZ", "EX-1"]
    assert [e.event for e in stored.entries()] == ["opened"]
    # the riders of the splitter are unchanged: a ticket is no dependant
    assert demo_store.riders(["SPL-JZ-1"]).totals.services == 5


def test_ticket_over_a_partner_link_is_scoped_to_the_partner(assurance: AssuranceService) -> None:
    t = assurance.open_ticket(
        TicketRequest("CRM-LL", Symptom.LEASED_LINE_DOWN, customer="E-1", priority="critical"),
        actor="crm",
    ).ticket
    assert t.service == "SVC-E1-LL" and t.sla_tier == "platinum"
    assert t.path[0] == "CIR-1" and "PL-1" in t.path and t.partners == ["P-TT"]


def test_customer_ticket_picks_the_service_the_symptom_names(assurance: AssuranceService) -> None:
    tv = assurance.open_ticket(TicketRequest("A", Symptom.TV, customer="H-1"), actor="crm")
    bb = assurance.open_ticket(TicketRequest("B", Symptom.SLOW, customer="H-1"), actor="crm")
    voice = assurance.open_ticket(TicketRequest("C", Symptom.VOICE, customer="H-3"), actor="crm")
    assert (tv.ticket.service, bb.ticket.service) == ("SVC-H1-TV", "SVC-H1-BB")
    assert voice.ticket.service == "SVC-H3-VO"


def test_address_is_normalised_and_must_name_one_customer(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    # full-width digits, the city prefix and 號 for 号: the same address as E-1's "CP-XX 1号"
    t = assurance.open_ticket(
        TicketRequest("ADR", Symptom.LEASED_LINE_DOWN, address="上海市ＣＰ-ＸＸ １號"), actor="crm"
    ).ticket
    assert (t.subject, t.customer, t.service, t.address) == (
        "address", "E-1", "SVC-E1-LL", "上海市ＣＰ-ＸＸ １號",
    )  # fmt: skip
    before = _counts(demo_store)
    with pytest.raises(AddressUnresolved) as many:
        assurance.open_ticket(TicketRequest("X", Symptom.SLOW, address="B-JZ 1号"), actor="crm")
    assert many.value.candidates == 3
    with pytest.raises(AddressUnresolved) as none:
        assurance.open_ticket(TicketRequest("Y", Symptom.SLOW, address="无此路 9号"), actor="crm")
    assert none.value.candidates == 0
    assert _counts(demo_store) == before


def test_same_id_same_request_returns_the_ticket_different_request_conflicts(
    assurance: AssuranceService, demo_store: GraphStore, clock: Clock
) -> None:
    req = TicketRequest("DUP", Symptom.NO_SYNC, service="SVC-H1-BB", contact_phone="1381111")
    first = assurance.open_ticket(req, actor="crm")
    clock.advance(minutes=5)
    before = _counts(demo_store)
    again = assurance.open_ticket(req, actor="crm")
    assert not again.created and again.ticket == first.ticket
    with pytest.raises(TicketConflict) as exc:
        assurance.open_ticket(
            TicketRequest("DUP", Symptom.SLOW, service="SVC-H1-BB", contact_phone="1381111"),
            actor="crm",
        )
    assert exc.value.fields == ["symptom"]
    assert _counts(demo_store) == before


def test_unknown_subjects_are_typed_not_found_and_write_nothing(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    before = _counts(demo_store)
    for req, kind in (
        (TicketRequest("N1", Symptom.SLOW, service="SVC-NOPE"), "Service"),
        (TicketRequest("N2", Symptom.SLOW, service="ONT-1"), "Service"),
        (TicketRequest("N3", Symptom.SLOW, customer="H-404"), "Customer"),
    ):
        with pytest.raises(NotFound) as exc:
            assurance.open_ticket(req, actor="crm")
        assert exc.value.kind == kind
    demo_store.upsert([Customer(id="H-9", name="无服务")], actor="t", reason="a customer")
    before = _counts(demo_store)
    with pytest.raises(NoServiceToTrace):
        assurance.open_ticket(TicketRequest("N4", Symptom.SLOW, customer="H-9"), actor="crm")
    assert _counts(demo_store) == before


def test_states_follow_the_table_with_history_and_events(
    assurance: AssuranceService, demo_store: GraphStore, clock: Clock
) -> None:
    tid = assurance.open_ticket(
        TicketRequest("S", Symptom.SLOW, service="SVC-H4-BB"), actor="crm"
    ).ticket.id
    clock.advance(minutes=10)
    assurance.set_ticket_state(tid, TicketState.IN_PROGRESS, actor="eng")
    clock.advance(hours=1)
    t = assurance.set_ticket_state(tid, TicketState.RESOLVED, actor="eng", note="fibre spliced")
    assert t.resolved_at == clock.now
    assert assurance.set_ticket_state(tid, TicketState.RESOLVED, actor="eng") == t  # no change
    seq = demo_store.last_event_seq()
    with pytest.raises(TicketStateRefused) as exc:
        assurance.set_ticket_state(tid, TicketState.HELD, actor="eng")
    assert exc.value.allowed == ["closed", "inProgress"]
    assert demo_store.last_event_seq() == seq
    assurance.set_ticket_state(tid, TicketState.CLOSED, actor="crm")
    with pytest.raises(TicketStateRefused):
        assurance.set_ticket_state(tid, TicketState.IN_PROGRESS, actor="eng")
    stored = assurance.ticket("S")
    assert [(e.event, e.state, e.actor) for e in stored.entries()] == [
        ("opened", "acknowledged", "crm"),
        ("state", "inProgress", "eng"),
        ("state", "resolved", "eng"),
        ("state", "closed", "crm"),
    ]
    states = [
        e.body["event"]["troubleTicket"]["state"]
        for e in demo_store.events_after(0, types=[TICKET_STATE_CHANGED])
    ]
    assert states == ["inProgress", "resolved", "closed"]
    with pytest.raises(NotFound):
        assurance.set_ticket_state("TT-NONE", TicketState.CLOSED, actor="eng")


def test_the_stand_in_answers_with_a_known_incident_on_the_path(
    demo_store: GraphStore, clock: Clock
) -> None:
    """Without correlation (the seam's stand-in), an active incident suspecting a resource on
    the path is still the answer."""
    assurance = AssuranceService(demo_store, clock, correlator=STAND_IN)
    restore = T0.replace(hour=14)
    inc = Incident(
        id="INC-1", suspected="SPL-JZ-1", created_at=T0, updated_at=T0,
        estimated_restoration=restore,
    )  # fmt: skip
    demo_store.upsert(
        [inc], [Edge(type="SUSPECTS", src="INC-1", dst="SPL-JZ-1")], actor="t", reason="incident"
    )
    opened = assurance.open_ticket(TicketRequest("K", Symptom.NO_SYNC, customer="H-3"), actor="crm")
    assert opened.incident is not None and opened.incident.id == "INC-1"
    assert opened.incident.estimated_restoration == restore
    [event] = demo_store.events_after(0, types=[TICKET_CREATED])
    known = event.body["event"]["troubleTicket"]["knownIncident"]
    assert known["id"] == "INC-1" and known["suspected"] == "SPL-JZ-1"
    other = assurance.open_ticket(TicketRequest("L", Symptom.SLOW, customer="H-4"), actor="crm")
    assert other.incident is None


def test_tickets_are_correlated_and_answered_with_their_incident(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    """With correlation (pboss.assurance.incidents, run by the batch correlator): tickets under
    one splitter share an incident, and a later caller's answer names it at once."""
    assert assurance.correlator.live
    first = assurance.open_ticket(TicketRequest("A", Symptom.NO_SYNC, customer="H-1"), actor="crm")
    second = assurance.open_ticket(TicketRequest("B", Symptom.NO_SYNC, customer="H-3"), actor="crm")
    assert first.incident is None and first.ticket.correlate_due is not None  # nothing known yet
    assert assurance.correlate_pending().tickets == 2
    a, b = demo_store.get("TT-A"), demo_store.get("TT-B")
    assert isinstance(a, TroubleTicket) and isinstance(b, TroubleTicket)
    assert b.incident is not None and a.incident == b.incident
    stored = demo_store.get(b.incident)
    assert isinstance(stored, Incident) and {"TT-A", "TT-B"} <= set(stored.tickets)
    assert stored.suspected in second.ticket.path
    third = assurance.open_ticket(TicketRequest("C", Symptom.NO_SYNC, customer="H-2"), actor="crm")
    assert third.incident is not None and third.incident.id == stored.id
    events = demo_store.events_after(0, types=[TICKET_CREATED])
    assert events[-1].body["event"]["troubleTicket"]["knownIncident"]["id"] == stored.id
    # a ticket leaving the open states leaves the evidence
    assurance.set_ticket_state("TT-A", TicketState.CANCELLED, actor="crm")
    after = demo_store.get(stored.id)
    assert isinstance(after, Incident) and "TT-A" not in after.tickets


def test_ticket_lists_filter_and_count(assurance: AssuranceService) -> None:
    services = ("SVC-H1-BB", "SVC-H2-BB", "SVC-H4-BB", "SVC-E1-LL")
    for crm, svc in zip("1234", services, strict=True):
        assurance.open_ticket(TicketRequest(crm, Symptom.SLOW, service=svc), actor="crm")
    assurance.set_ticket_state("TT-3", TicketState.CANCELLED, actor="crm")
    on_spl = assurance.tickets(TicketFilter(resource="SPL-JZ-1"))
    assert [t.id for t in on_spl.items] == ["TT-1", "TT-2"] and on_spl.total == 2
    page = assurance.tickets(TicketFilter(states=["acknowledged"]), first=2)
    assert [t.id for t in page.items] == ["TT-1", "TT-2"] and page.total == 3 and page.has_next
    rest = assurance.tickets(TicketFilter(states=["acknowledged"]), after="TT-2", first=2)
    assert [t.id for t in rest.items] == ["TT-4"] and not rest.has_next
    assert [t.id for t in assurance.tickets(TicketFilter(partner="P-TT")).items] == ["TT-4"]
    assert assurance.tickets(TicketFilter(site="B-DH")).total == 2  # TT-3 and TT-4 (NE-Z)


def test_partners_hear_of_tickets_on_their_resources_without_household_data(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    req = TicketRequest("P", Symptom.LEASED_LINE_DOWN, customer="E-1", contact_name="张经理",
                        contact_phone="13900000000", description="专线中断")  # fmt: skip
    assurance.open_ticket(req, actor="crm")
    [event] = demo_store.events_after(0, types=[TICKET_CREATED])
    assert event.partners == ["P-TT"]
    seen = body_for(event, "P-TT")["event"]["troubleTicket"]
    assert seen["id"] == "TT-P" and seen["symptom"] == "leasedLineDown"
    hidden = {"customer", "contactName", "contactPhone", "description", "path", "service"}
    assert not hidden & set(seen)
    assert body_for(event, None)["event"]["troubleTicket"]["contactPhone"] == "13900000000"


@pytest.mark.neo4j
def test_opening_a_ticket_on_neo4j_costs_six_statements_whatever_is_known(
    neo4j_store_session: Any,
) -> None:
    """A storm's answer time is its statements: the trace and the customer, the lock, the
    path's tallies, the incident they name or the path's suspects (one read for every hop),
    and the write with its event; the same with an incident known or not."""
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network(), actor="t", reason="demo")
    assurance = AssuranceService(store, Clock())
    cost = {}
    for crm_id, service in (("R1", "SVC-H1-BB"), ("R2", "SVC-H3-BB"), ("R3", "SVC-H2-BB")):
        if crm_id == "R3":
            assurance.correlate_pending()  # R1 and R2 make an incident R3's path passes
        before = store.queries_run
        opened = assurance.open_ticket(
            TicketRequest(crm_id, Symptom.NO_SYNC, service=service), actor="crm"
        )
        cost[crm_id] = (store.queries_run - before, opened.incident is not None)
    assert cost == {"R1": (6, False), "R2": (6, False), "R3": (6, True)}
    store.clear()
