"""Resolution (issue 19 item 4): by an engineer, by the partner the repair went to (only its
own), or by the repair work order's completion; closing follows; bad steps are typed and write
nothing. Both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pboss.assurance.model import Incident, TicketState, TroubleTicket
from pboss.assurance.repair import RepairService
from pboss.assurance.repair_errors import NotYours, RepairRefused
from pboss.inventory.store import GraphStore
from pboss.provisioning.model import WorkOrder, WorkOrderState
from tests.assurance.repair_network import T0, Clock, open_incident, open_tickets, ticket


def test_the_work_orders_completion_resolves_the_incident(demo_store: GraphStore) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-1", "SPL-JZ-2A", [ticket("SVC-H1-BB", 1), ticket("SVC-H2-BB", 2)])
    svc = RepairService(store, clock=clock)
    wo = svc.dispatch_incident("INC-1")
    clock.now = T0 + timedelta(hours=2)
    svc.complete_work_order(wo.id, actor="crew-7", note="splitter replaced")
    inc = store.get("INC-1")
    assert isinstance(inc, Incident) and inc.state == "resolved"
    assert "splitter replaced" in inc.entries()[-1].note
    for tid in ("TT-1", "TT-2"):
        t = store.get(tid)
        assert isinstance(t, TroubleTicket) and t.state == TicketState.RESOLVED
    done = store.get(wo.id)
    assert isinstance(done, WorkOrder) and done.state == WorkOrderState.DONE


def test_a_work_order_completed_elsewhere_is_resolved_by_the_sweep(
    demo_store: GraphStore,
) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-2", "SPL-JZ-2A", [ticket("SVC-H1-BB", 3)])
    svc = RepairService(store, clock=clock)
    wo = svc.dispatch_incident("INC-2")

    def field_app(tx):  # type: ignore[no-untyped-def]  # the field app's acceptance step
        w = tx.lock([wo.id])[wo.id]
        tx.put(w.model_copy(update={"state": WorkOrderState.DONE, "completed_at": T0}))

    store.transact(field_app, actor="crew-7", reason="acceptance")
    report = svc.sweep()
    assert report.resolved == ["INC-2"] and report.dispatched == []
    assert store.get("INC-2").state == "resolved"  # type: ignore[union-attr]
    assert svc.sweep().resolved == []


def test_a_partner_resolves_only_repairs_dispatched_to_it(demo_store: GraphStore) -> None:
    store = demo_store
    open_incident(store, "INC-3", "SPL-JZ-2A", [ticket("SVC-H1-BB", 4)])
    open_incident(store, "INC-4", "PL-1", [ticket("SVC-E1-LL", 5)])
    svc = RepairService(store, clock=Clock())
    svc.sweep()
    before = store.last_event_seq()
    with pytest.raises(NotYours):
        svc.resolve_incident("INC-3", actor="tietong", partner="P-TT")
    with pytest.raises(NotYours):
        svc.resolve_incident("INC-4", actor="oc", partner="P-OC")
    assert store.last_event_seq() == before
    assert store.get("INC-3").state == "open"  # type: ignore[union-attr]
    assert svc.resolve_incident("INC-4", actor="tietong", partner="P-TT").state == "resolved"


def test_bad_resolutions_are_refused_and_write_nothing(demo_store: GraphStore) -> None:
    store = demo_store
    open_incident(store, "INC-5", "SPL-JZ-2A", [ticket("SVC-H1-BB", 6)])
    svc = RepairService(store, clock=Clock())
    before = store.last_event_seq()
    with pytest.raises(RepairRefused, match="resolve it before closing"):
        svc.close_incident("INC-5", actor="eng-1")
    assert store.last_event_seq() == before
    svc.resolve_incident("INC-5", actor="eng-1")
    seq = store.last_event_seq()
    assert svc.resolve_incident("INC-5", actor="eng-1").state == "resolved"  # a repeat: nothing
    assert store.last_event_seq() == seq
    svc.close_incident("INC-5", actor="eng-1")
    with pytest.raises(RepairRefused, match="cannot be resolved"):
        svc.resolve_incident("INC-5", actor="eng-1")


def test_a_lone_tickets_repair_completion_resolves_it(demo_store: GraphStore) -> None:
    store = demo_store
    open_tickets(store, [ticket("SVC-H5-CB", 7)])
    svc = RepairService(store, clock=Clock())
    wo = svc.dispatch_ticket("TT-7")
    with pytest.raises(NotYours):
        svc.complete_work_order(wo.id, actor="tietong", partner="P-TT")
    svc.complete_work_order(wo.id, actor="oc", partner="P-OC", note="amplifier reset")
    t = store.get("TT-7")
    assert isinstance(t, TroubleTicket) and t.state == TicketState.RESOLVED
    assert store.get(wo.id).state == "done"  # type: ignore[union-attr]
