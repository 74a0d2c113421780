"""Issue 19's done-when for resolution: resolving an incident resolves and closes its tickets, and
CRM's real receiver gets the events through the hub, signed and in order; Tietong's listener
hears of the repair dispatched to it, in its view, and of nothing about customers. Both stores."""

from __future__ import annotations

from datetime import timedelta

from pboss.assurance.model import Incident, TicketState, TroubleTicket
from pboss.assurance.repair import RepairService
from pboss.assurance.repair_events import (
    INCIDENT_STATE,
    REPAIR_CREATE,
    REPAIR_EVENT_TYPES,
    REPAIR_STATE,
    TICKET_STATE,
)
from pboss.hub.service import Caller, HubService
from pboss.inventory.store import GraphStore
from pboss.provisioning.model import WorkOrder
from tests.assurance.repair_network import T0, Clock, open_incident, ticket
from tests.hub.conftest import Workers, listen, wait_for
from tests.hub.receiver import ReceiverServer

TIETONG = Caller(role="partner", name="tietong", partner_id="P-TT")


def test_resolving_an_incident_closes_its_tickets_and_crm_hears_it(
    demo_store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    store, clock = demo_store, Clock()
    crm = listen(hub, receiver, "/crm", types=sorted(REPAIR_EVENT_TYPES))
    tietong = listen(hub, receiver, "/tietong", caller=TIETONG, types=[REPAIR_CREATE, REPAIR_STATE])
    workers.start(owner="deliverer")
    tickets = [ticket("SVC-E1-LL", 1), ticket("SVC-E1-LL", 2)]
    open_incident(store, "INC-1", "PL-1", tickets)
    svc = RepairService(store, clock=clock)
    wo = svc.dispatch_incident("INC-1")
    clock.now = T0 + timedelta(hours=3)
    # Tietong repaired its link and says so with its own key
    svc.resolve_incident("INC-1", actor="tietong", note="fibre spliced", partner="P-TT")
    clock.now = T0 + timedelta(hours=4)
    svc.close_incident("INC-1", actor="eng-1", note="customer confirmed")

    expected = [
        REPAIR_CREATE,
        TICKET_STATE,  # TT-1 inProgress
        TICKET_STATE,  # TT-2 inProgress
        REPAIR_STATE,  # completed
        TICKET_STATE,  # TT-1 resolved
        TICKET_STATE,  # TT-2 resolved
        INCIDENT_STATE,  # resolved
        TICKET_STATE,  # TT-1 closed
        TICKET_STATE,  # TT-2 closed
        INCIDENT_STATE,  # closed
    ]
    wait_for(lambda: len(receiver.receiver.accepted("/crm")) >= len(expected), 30, "CRM's events")
    wait_for(lambda: len(receiver.receiver.accepted("/tietong")) >= 2, 30, "Tietong's events")
    hits = receiver.receiver.accepted("/crm")
    assert all(h.valid for h in hits), [h.why for h in hits if not h.valid]
    logged = store.events_after(crm.cursor, where=crm.where, first=50)
    assert [e.type for e in logged] == expected
    assert list(dict.fromkeys(h.event_id for h in hits)) == [e.id for e in logged]
    states = [
        (e.body["event"]["troubleTicket"]["externalId"], e.body["event"]["troubleTicket"]["state"])
        for e in logged
        if e.type == TICKET_STATE
    ]
    assert states == [
        ("1", "inProgress"),
        ("2", "inProgress"),
        ("1", "resolved"),
        ("2", "resolved"),
        ("1", "closed"),
        ("2", "closed"),
    ]
    for tid in ("TT-1", "TT-2"):
        t = store.get(tid)
        assert isinstance(t, TroubleTicket) and t.state == TicketState.CLOSED
        assert t.resolved_at == T0 + timedelta(hours=3)
        assert [e.event for e in t.entries()] == ["repairDispatched", "resolved", "closed"]
    inc = store.get("INC-1")
    done = store.get(wo.id)
    assert isinstance(inc, Incident) and inc.state == "closed"
    assert isinstance(done, WorkOrder) and done.state == "done"
    assert done.completed_at == T0 + timedelta(hours=3)
    assert "tietong" in [e.actor for e in inc.entries()]

    partner_hits = receiver.receiver.accepted("/tietong")
    assert all(h.valid for h in partner_hits)
    bodies = [h.body for h in partner_hits]
    assert [b["eventType"] for b in bodies] == [REPAIR_CREATE, REPAIR_STATE]  # type: ignore[index]
    assert bodies[0]["event"]["repairWorkOrder"]["id"] == wo.id  # type: ignore[index]
    text = str(bodies)
    assert "'E-1'" not in text and "'TT-1'" not in text and "13800000000" not in text
    assert store.events_after(tietong.cursor, where=tietong.where, first=50)[0].id == (
        partner_hits[0].event_id
    )
