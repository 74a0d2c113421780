"""Dispatch of incidents and lone tickets as repair work orders to the owner of the suspected
resource, on the assurance SLA from the catalog (issue 19 item 4), on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pboss.assurance.model import Entry, Incident, TicketState, TroubleTicket
from pboss.assurance.repair import RepairService
from pboss.assurance.repair_errors import RepairRefused
from pboss.assurance.repair_events import REPAIR_CREATE, REPAIR_STATE, TICKET_STATE
from pboss.hub.views import body_for
from pboss.inventory.errors import NotFound
from pboss.inventory.store import GraphStore
from pboss.provisioning.model import WorkOrder
from pboss.provisioning.service import ProvisioningService
from tests.assurance.repair_network import (
    T0,
    Clock,
    open_incident,
    open_tickets,
    repoint,
    ticket,
)


def test_a_gold_leased_line_ticket_over_a_tietong_link_goes_to_tietong_on_4_hours(
    demo_store: GraphStore,
) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-1", "PL-1", [ticket("SVC-E1-LL", 1)])
    svc = RepairService(store, clock=clock)
    clock.now = T0 + timedelta(minutes=10)
    wo = svc.dispatch_incident("INC-1")

    assert wo.purpose == "repair" and wo.incident == "INC-1" and wo.skill == "repair"
    assert (wo.assignee, wo.assignee_type, wo.crew) == ("P-TT", "partner", None)
    assert wo.sla_hours == 4 and wo.due_at == T0 + timedelta(hours=4)  # from the ticket's opening
    inc = store.get("INC-1")
    tt = store.get("TT-1")
    assert isinstance(inc, Incident) and isinstance(tt, TroubleTicket)
    assert inc.work_order == wo.id and inc.due_at == wo.due_at
    assert tt.work_order == wo.id and tt.due_at == wo.due_at
    assert tt.state == TicketState.IN_PROGRESS
    assert "P-TT owns PartnerLink PL-1" in inc.entries()[-1].note

    events = store.events_after(0, first=50)
    assert [e.type for e in events] == [REPAIR_CREATE, TICKET_STATE]
    created = events[0]
    assert created.partners == ["P-TT"]  # Tietong's listener and key hear of it
    seen = body_for(created, "P-TT")["event"]
    assert seen["repairWorkOrder"]["assignee"] == "P-TT"
    assert seen["repairWorkOrder"]["dueAt"] == (T0 + timedelta(hours=4)).isoformat()
    assert "13800000000" not in str(body_for(created, "P-TT"))
    # a repeat dispatch changes nothing
    assert svc.dispatch_incident("INC-1").id == wo.id
    assert len(store.events_after(0, first=50)) == 2


def test_a_household_incident_goes_to_the_area_queue_of_own_crews_on_24_hours(
    demo_store: GraphStore,
) -> None:
    store = demo_store
    open_incident(store, "INC-2", "SPL-JZ-2A", [ticket("SVC-H1-BB", 2)])
    wo = RepairService(store, clock=Clock()).dispatch_incident("INC-2")
    assert (wo.assignee, wo.assignee_type, wo.crew, wo.site) == (
        "crew:B-JZ",
        "own_crew",
        None,
        "B-JZ",
    )
    assert wo.due_at == T0 + timedelta(hours=24)
    assert store.events_after(0, first=5)[0].partners == []


def test_the_incident_takes_the_tightest_of_its_tickets_slas(demo_store: GraphStore) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-3", "SPL-JZ-2A", [ticket("SVC-H1-BB", 3)])
    svc = RepairService(store, clock=clock)
    first = svc.dispatch_incident("INC-3")
    assert first.due_at == T0 + timedelta(hours=24)
    # a gold household's ticket joins an hour later: gold FTTH is not a leased line, still 24 h,
    # but opened later, so the earliest deadline stays the first one
    late = ticket("SVC-H2-BB", 4, at=T0 + timedelta(hours=1), incident="INC-3")
    open_tickets(store, [late])

    def join(tx):  # type: ignore[no-untyped-def]
        inc = tx.lock(["INC-3"])["INC-3"]
        tx.put(inc.model_copy(update={"tickets": [*inc.tickets, late.id]}))

    store.transact(join, actor="pboss-correlation", reason="join")
    again = svc.dispatch_incident("INC-3")
    assert again.id == first.id and again.due_at == T0 + timedelta(hours=24)
    joined = store.get("TT-4")
    assert isinstance(joined, TroubleTicket)
    assert joined.work_order == first.id and joined.due_at == first.due_at
    assert joined.state == TicketState.IN_PROGRESS


def test_a_leased_line_joining_tightens_the_deadline(demo_store: GraphStore) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-4", "NE-2", [ticket("SVC-H1-BB", 5)])
    svc = RepairService(store, clock=clock)
    first = svc.dispatch_incident("INC-4")
    ll = ticket("SVC-E1-LL", 6, at=T0 + timedelta(hours=1), incident="INC-4")
    open_tickets(store, [ll])

    def join(tx):  # type: ignore[no-untyped-def]
        inc = tx.lock(["INC-4"])["INC-4"]
        tx.put(inc.model_copy(update={"tickets": [*inc.tickets, ll.id]}))

    store.transact(join, actor="pboss-correlation", reason="join")
    again = svc.dispatch_incident("INC-4")
    assert again.id == first.id
    assert again.due_at == T0 + timedelta(hours=5) and again.sla_hours == 4
    assert store.get("INC-4").due_at == again.due_at  # type: ignore[union-attr]
    moved = [e for e in store.events_after(0, first=50) if e.type == REPAIR_STATE]
    assert moved and "due moved" in moved[-1].body["event"]["change"]


def test_re_pointing_to_another_owner_cancels_the_old_order_and_dispatches_anew(
    demo_store: GraphStore,
) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-5", "PL-1", [ticket("SVC-E1-LL", 7)])
    svc = RepairService(store, clock=clock)
    old = svc.dispatch_incident("INC-5")
    repoint(store, "INC-5", "TS-2")
    clock.now = T0 + timedelta(minutes=30)
    report = svc.sweep()
    assert "INC-5" in report.dispatched
    inc = store.get("INC-5")
    assert isinstance(inc, Incident) and inc.work_order != old.id
    new = store.get(inc.work_order)
    gone = store.get(old.id)
    assert isinstance(new, WorkOrder) and isinstance(gone, WorkOrder)
    assert gone.state == "cancelled" and "re-dispatched to crew:" in gone.events()[-1].note
    assert (new.assignee_type, new.due_at) == ("own_crew", T0 + timedelta(hours=4))
    assert (new.assignee, new.site) == ("crew:EX-1", "EX-1")  # TS-2 has no site: its first end's
    assert svc.sweep().dispatched == []  # settled: no cancel-and-redispatch loop
    assert [e.event for e in inc.entries()] == ["dispatched", "dispatched"]
    assert f"{old.id} to P-TT cancelled" in inc.entries()[-1].note
    events = store.events_after(0, first=50)
    cancelled = [e for e in events if e.type == REPAIR_STATE]
    assert cancelled[-1].subject == old.id and cancelled[-1].partners == ["P-TT"]
    assert events[-1].type == REPAIR_CREATE and events[-1].partners == []
    tt = store.get("TT-7")
    assert isinstance(tt, TroubleTicket) and tt.work_order == new.id


def test_a_lone_ticket_goes_to_the_owner_of_its_customer_end(demo_store: GraphStore) -> None:
    store = demo_store
    open_tickets(store, [ticket("SVC-H5-CB", 8)])
    svc = RepairService(store, clock=Clock())
    report = svc.sweep()
    assert report.dispatched == ["TT-8"]
    tt = store.get("TT-8")
    assert isinstance(tt, TroubleTicket) and tt.work_order
    wo = store.get(tt.work_order)
    assert isinstance(wo, WorkOrder)
    assert (wo.ticket, wo.incident, wo.assignee, wo.assignee_type) == (
        "TT-8",
        None,
        "P-OC",
        "partner",
    )
    assert [e.event for e in tt.entries()] == ["dispatched"]
    assert svc.sweep().dispatched == []  # once


def test_bad_dispatches_are_typed_and_write_nothing(demo_store: GraphStore) -> None:
    store = demo_store
    open_incident(store, "INC-9", "PL-1", [ticket("SVC-E1-LL", 9)])
    svc = RepairService(store, clock=Clock())
    with pytest.raises(NotFound):
        svc.dispatch_incident("INC-NOPE")
    with pytest.raises(RepairRefused, match="grouped in incident INC-9"):
        svc.dispatch_ticket("TT-9")
    svc.resolve_incident("INC-9", actor="eng-1")
    before = store.last_event_seq()
    with pytest.raises(RepairRefused, match="is resolved"):
        svc.dispatch_incident("INC-9")
    assert store.last_event_seq() == before
    assert [e.event for e in store.get("INC-9").entries()] == ["resolved"]  # type: ignore[union-attr]


def test_the_sweep_gives_tickets_that_joined_the_incidents_repair(demo_store: GraphStore) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-6", "SPL-JZ-2A", [ticket("SVC-H1-BB", 11)])
    svc = RepairService(store, clock=clock)
    svc.sweep()
    late = ticket("SVC-H2-BB", 12, at=T0 + timedelta(hours=1), incident="INC-6")
    open_tickets(store, [late])

    def join(tx):  # type: ignore[no-untyped-def]  # as correlation adds a ticket (no entry)
        inc = tx.lock(["INC-6"])["INC-6"]
        grown = [*inc.tickets, late.id]
        tx.put(inc.model_copy(update={"tickets": grown, "updated_at": late.opened_at}))

    store.transact(join, actor="pboss-correlation", reason="join")
    clock.now = late.opened_at
    svc.sweep()
    inc = store.get("INC-6")
    joined = store.get("TT-12")
    assert isinstance(inc, Incident) and isinstance(joined, TroubleTicket)
    assert joined.work_order == inc.work_order and joined.state == TicketState.IN_PROGRESS
    assert inc.entries()[-1].event == "ticketsJoined"
    seq = store.last_event_seq()
    svc.sweep()  # settled: nothing more
    assert store.last_event_seq() == seq


def test_an_absorbed_incidents_repair_is_cancelled_by_the_sweep(demo_store: GraphStore) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-7", "SPL-JZ-2A", [ticket("SVC-H1-BB", 13)])
    svc = RepairService(store, clock=clock)
    wo = svc.dispatch_incident("INC-7")

    def absorb(tx):  # type: ignore[no-untyped-def]  # as correlation merges it into another
        inc = tx.lock(["INC-7"])["INC-7"]
        entry = Entry(at=T0, event="absorbed", state="cancelled", note="absorbed by INC-8")
        tx.put(
            inc.model_copy(update={"state": "cancelled", "history": [*inc.history, entry.dumps()]})
        )

    store.transact(absorb, actor="pboss-correlation", reason="merge")
    report = svc.sweep()
    assert report.cancelled == [wo.id]
    gone = store.get(wo.id)
    assert isinstance(gone, WorkOrder) and gone.state == "cancelled"
    assert "absorbed by INC-8" in gone.events()[-1].note
    assert store.events_after(0, first=50)[-1].type == REPAIR_STATE
    assert svc.sweep().cancelled == []


def test_provisionings_sweeper_leaves_repair_work_orders_to_the_repair_sweep(
    demo_store: GraphStore,
) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-10", "PL-1", [ticket("SVC-E1-LL", 14)])
    wo = RepairService(store, clock=clock).dispatch_incident("INC-10")
    report = ProvisioningService(store, clock=clock).sweep_expired(T0 + timedelta(days=3))
    assert wo.id not in report.flagged
    kept = store.get(wo.id)
    assert isinstance(kept, WorkOrder) and not kept.breached and kept.history == wo.history
