"""Issue 18's "events to a real local receiver": a cutover plan's announcements (approval with the
affected customers and the window, scheduling, completion, rollback) reach a CRM listener through
the hub's deliverer, in order and signed, on both stores."""

from __future__ import annotations

from datetime import timedelta

from pboss.cutover.events import CUTOVER_EVENT_TYPES
from pboss.cutover.service import CutoverService
from pboss.hub.service import HubService
from pboss.inventory.store import GraphStore
from tests.cutover.network import WINDOW, Clock, full_splitter
from tests.hub.conftest import Workers, listen, wait_for
from tests.hub.receiver import ReceiverServer


def test_a_plans_announcements_reach_crm_in_order_and_signed(
    demo_store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    store = demo_store
    full_splitter(store)
    listener = listen(hub, receiver, "/crm", types=sorted(CUTOVER_EVENT_TYPES.values()))
    workers.start(owner="deliverer")
    clock = Clock()
    svc = CutoverService(store, clock)
    svc.plan_rehome(
        source="SPL-JZ-2A",
        target="SPL-JZ-3",
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        reason="SPL-JZ-2A is full",
        actor="eng-1",
        plan_id="CUT-HUB-1",
    )
    svc.approve("CUT-HUB-1", actor="lead")
    svc.schedule("CUT-HUB-1", actor="lead")
    clock.now = WINDOW[0] + timedelta(minutes=5)
    svc.execute("CUT-HUB-1", actor="eng-1")
    svc.rollback("CUT-HUB-1", actor="eng-1", note="customers report no sync")

    expected = [
        "CutoverPlanApprovedEvent",
        "CutoverPlanScheduledEvent",
        "CutoverPlanCompletedEvent",
        "CutoverPlanRolledBackEvent",
    ]
    wait_for(lambda: len(receiver.receiver.accepted("/crm")) >= 4, 30, "the plan's events")
    hits = receiver.receiver.accepted("/crm")
    assert all(h.valid for h in hits), [h.why for h in hits if not h.valid]
    logged = store.events_after(listener.cursor, where=listener.where, first=50)
    assert [e.type for e in logged] == expected
    assert list(dict.fromkeys(h.event_id for h in hits)) == [e.id for e in logged]
    approved = logged[0].body["event"]["cutoverPlan"]
    assert [c["id"] for c in approved["affectedCustomers"]] == ["H-1", "H-2", "H-3"]
    assert approved["windowStart"] == WINDOW[0].isoformat()
