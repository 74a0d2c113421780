"""Issue 19's done-when through the real flow, on both stores: a Tietong link alarm and a gold
(platinum) leased-line ticket correlate into one incident on the link, which the repair sweep
dispatches to Tietong on the 4 h clock; resolving it resolves the ticket and gives the evidence
back, so a later ticket on the same path opens a new incident."""

from __future__ import annotations

from datetime import datetime, timedelta

from pboss.assurance.alarms import AlarmOp
from pboss.assurance.incidents import correlate_ticket, riders_of
from pboss.assurance.model import (
    AlarmType,
    Incident,
    Priority,
    Severity,
    Symptom,
    TicketState,
    TroubleTicket,
)
from pboss.assurance.repair import RepairService
from pboss.assurance.service import AssuranceService
from pboss.assurance.tickets import TicketRequest
from pboss.inventory.model import Edge
from pboss.inventory.store import GraphStore
from pboss.provisioning.model import WorkOrder
from tests.assurance.network import path_of, raise_alarm
from tests.assurance.repair_network import T0, Clock, ticket


def open_ticket(store: GraphStore, service: str, n: int, at: datetime) -> Incident | None:
    """Open a ticket as the ticket opening does: its trace as path, correlated in its write."""
    t = ticket(service, n, at=at)
    t.path = path_of(store, service)
    riders = riders_of(store, t.path, ttl=0)

    def work(tx):  # type: ignore[no-untyped-def]
        inc = correlate_ticket(tx, t, riders=riders, now=at)
        tx.put(t, new=True)
        tx.link(Edge(type="ABOUT", src=t.id, dst=service))
        return inc

    return store.transact(work, actor="crm", reason="fault report")


def test_a_leased_line_ticket_over_a_tietong_link_goes_to_tietong_on_4_hours(
    demo_store: GraphStore,
) -> None:
    store, clock = demo_store, Clock()
    svc = RepairService(store, clock=clock)
    first = raise_alarm(store, "PL-1", at=T0)
    assert first is not None and first.suspected == "PL-1"
    svc.sweep()  # the alarm alone: Tietong's repair on the catch-all term
    wo = store.get(str(store.get(first.id).work_order))  # type: ignore[union-attr]
    assert isinstance(wo, WorkOrder) and (wo.assignee, wo.sla_hours) == ("P-TT", 24)

    clock.now = T0 + timedelta(minutes=10)
    inc = open_ticket(store, "SVC-E1-LL", 1, clock.now)
    assert inc is not None and inc.id == first.id and inc.suspected == "PL-1"
    svc.sweep()  # the leased line joined: the same order, now on its 4 h clock
    inc = store.get(first.id)
    tt = store.get("TT-1")
    wo = store.get(wo.id)
    assert isinstance(inc, Incident) and isinstance(tt, TroubleTicket)
    assert isinstance(wo, WorkOrder) and wo.state == "open"
    assert (wo.assignee, wo.assignee_type, wo.sla_hours) == ("P-TT", "partner", 4)
    assert wo.due_at == clock.now + timedelta(hours=4) == inc.due_at == tt.due_at
    assert tt.work_order == wo.id and tt.state == TicketState.IN_PROGRESS

    clock.now = T0 + timedelta(hours=2)
    svc.resolve_incident(first.id, actor="tietong", partner="P-TT", note="fibre spliced")
    tt = store.get("TT-1")
    assert isinstance(tt, TroubleTicket) and tt.state == TicketState.RESOLVED
    # the evidence was given back: a new complaint on the path opens a new incident
    again = open_ticket(store, "SVC-E1-LL", 2, T0 + timedelta(hours=3))
    assert again is not None and again.id != first.id


def test_the_whole_flow_through_ticket_opening_and_alarm_ingest(demo_store: GraphStore) -> None:
    """CRM opens the ticket and the NMS raises the alarm through the assurance service; the
    repair sweep dispatches to Tietong on 4 h; Tietong resolves; the ticket is resolved and the
    incident's events follow."""
    store, clock = demo_store, Clock()
    assurance = AssuranceService(store, clock)
    repair = RepairService(store, clock=clock)
    assurance.apply_alarm(
        AlarmOp(
            action="raise",
            resource="PL-1",
            alarm_type=AlarmType.COMMUNICATIONS,
            probable_cause="LOS",
            at=T0,
            severity=Severity.CRITICAL,
        ),
        actor="nms",
    )
    assurance.correlate_pending()  # the batch correlator's work (a thread in a server)
    clock.now = T0 + timedelta(minutes=5)
    opened = assurance.open_ticket(
        TicketRequest(
            crm_ticket_id="CRM-TT-9",
            symptom=Symptom.LEASED_LINE_DOWN,
            service="SVC-E1-LL",
            priority=Priority.CRITICAL,
        ),
        actor="crm",
    )
    assert opened.incident is not None and opened.incident.suspected == "PL-1"
    assurance.correlate_pending()
    clock.now = T0 + timedelta(minutes=6)
    repair.sweep()
    inc = store.get(opened.incident.id)
    assert isinstance(inc, Incident) and inc.work_order
    wo = store.get(inc.work_order)
    assert isinstance(wo, WorkOrder)
    assert (wo.assignee, wo.assignee_type, wo.sla_hours) == ("P-TT", "partner", 4)
    assert wo.due_at == T0 + timedelta(minutes=5, hours=4) == inc.estimated_restoration
    # the next caller on that line hears of the incident and when it should be restored
    again = assurance.open_ticket(
        TicketRequest(
            crm_ticket_id="CRM-TT-10", symptom=Symptom.LEASED_LINE_DOWN, service="SVC-E1-LL"
        ),
        actor="crm",
    )
    assert again.incident is not None and again.incident.id == inc.id
    assert again.incident.estimated_restoration == wo.due_at
    assurance.correlate_pending()
    assert assurance.ticket(opened.ticket.id).state == TicketState.IN_PROGRESS
    clock.now = T0 + timedelta(hours=1)
    repair.resolve_incident(inc.id, actor="tietong", partner="P-TT", note="spliced")
    assert assurance.ticket(opened.ticket.id).state == TicketState.RESOLVED
