"""Assurance SLAs (issue 19 item 4): jeopardy, breach and escalation along the catalog rule's
chain, once each, with time from the injectable clock, on both stores; two sweepers act once."""

from __future__ import annotations

import threading
from datetime import timedelta

from pboss.assurance.model import Incident, TroubleTicket
from pboss.assurance.repair import RepairService
from pboss.assurance.repair_events import INCIDENT_JEOPARDY, TICKET_JEOPARDY
from pboss.hub.views import body_for
from pboss.inventory.store import GraphStore
from pboss.provisioning.model import WorkOrder
from tests.assurance.repair_network import T0, Clock, open_incident, open_tickets, ticket


def alerts(store: GraphStore, after: int = 0) -> list[tuple[str, str | None, int | None]]:
    """(name, escalation queue, level) of the SLA alerts logged after a sequence number."""
    out = []
    for e in store.events_after(after, first=200):
        if e.type in (INCIDENT_JEOPARDY, TICKET_JEOPARDY):
            a = e.body["event"]["jeopardyAlert"][0]
            out.append((a["name"], a.get("escalationQueue"), a.get("escalationLevel")))
    return out


def test_a_gold_leased_line_incident_raises_jeopardy_breach_and_escalates_once_each(
    demo_store: GraphStore,
) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-1", "PL-1", [ticket("SVC-E1-LL", 1)])
    svc = RepairService(store, clock=clock)
    svc.sweep()  # dispatches
    clock.now = T0 + timedelta(hours=1, minutes=59)
    assert svc.sweep().alerted == [] and alerts(store) == []
    clock.now = T0 + timedelta(hours=2)  # the rule's jeopardy share is 0.5 of 4 h
    assert svc.sweep().alerted == ["INC-1"]
    assert svc.sweep().alerted == []
    assert alerts(store) == [("jeopardy", None, None)]
    clock.now = T0 + timedelta(hours=4)
    svc.sweep()
    assert alerts(store)[1:] == [("slaBreached", None, None), ("escalated", "supervisor", 1)]
    clock.now = T0 + timedelta(hours=5, minutes=59)
    assert svc.sweep().alerted == []
    clock.now = T0 + timedelta(hours=6)  # a further half of the SLA
    svc.sweep()
    clock.now = T0 + timedelta(hours=30)  # the sweeper was away: the last step, once
    svc.sweep()
    svc.sweep()
    assert alerts(store)[3:] == [
        ("escalated", "partner-manager", 2),
        ("escalated", "regional-manager", 3),
    ]
    inc = store.get("INC-1")
    tt = store.get("TT-1")
    assert isinstance(inc, Incident) and isinstance(tt, TroubleTicket)
    wo = store.get(str(inc.work_order))
    assert isinstance(wo, WorkOrder)
    assert (inc.jeopardy, inc.breached, inc.escalation) == (True, True, 3)
    assert (wo.jeopardy, wo.breached, wo.escalation) == (True, True, 3)
    assert (tt.jeopardy, tt.breached) == (True, True)
    # Tietong hears its repair breached, in its view (no ticket, no customer)
    breach = [e for e in store.events_after(0, first=200) if e.type == INCIDENT_JEOPARDY][1]
    assert breach.partners == ["P-TT"]
    shown = body_for(breach, "P-TT")["event"]
    assert shown["jeopardyAlert"][0]["jeopardyType"] == "critical"
    assert shown["repairWorkOrder"]["id"] == wo.id and "troubleTicket" not in shown


def test_a_household_incident_runs_on_24_hours(demo_store: GraphStore) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-2", "SPL-JZ-2A", [ticket("SVC-H1-BB", 2)])
    svc = RepairService(store, clock=clock)
    svc.sweep()
    clock.now = T0 + timedelta(hours=17, minutes=59)  # jeopardy at 0.75 of 24 h
    svc.sweep()
    assert alerts(store) == []
    clock.now = T0 + timedelta(hours=18)
    svc.sweep()
    assert alerts(store) == [("jeopardy", None, None)]
    assert store.events_after(0, first=50)[-1].partners == []


def test_a_lone_tickets_sla_escalates_on_its_work_order(demo_store: GraphStore) -> None:
    store, clock = demo_store, Clock()
    open_tickets(store, [ticket("SVC-H5-CB", 3)])
    svc = RepairService(store, clock=clock)
    svc.sweep()
    clock.now = T0 + timedelta(hours=24)
    svc.sweep()
    svc.sweep()
    assert alerts(store) == [
        ("jeopardy", None, None),
        ("slaBreached", None, None),
        ("escalated", "supervisor", 1),
    ]
    tt = store.get("TT-3")
    assert isinstance(tt, TroubleTicket) and tt.breached
    wo = store.get(str(tt.work_order))
    assert isinstance(wo, WorkOrder) and wo.escalation == 1
    assert store.events_after(0, first=50)[-1].partners == ["P-OC"]


def test_two_sweepers_at_once_raise_each_alert_once(demo_store: GraphStore) -> None:
    store, clock = demo_store, Clock()
    open_incident(store, "INC-3", "PL-1", [ticket("SVC-E1-LL", 10)])
    open_incident(store, "INC-4", "SPL-JZ-2A", [ticket("SVC-H1-BB", 20)])
    RepairService(store, clock=clock).sweep()
    clock.now = T0 + timedelta(hours=24)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait()
            for _ in range(3):
                RepairService(store, clock=clock).sweep()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    logged = alerts(store)
    subjects = [e.subject for e in store.events_after(0, first=200) if e.type == INCIDENT_JEOPARDY]
    assert (subjects.count("INC-3"), subjects.count("INC-4")) == (5, 3)
    # INC-3 (4 h): jeopardy, breach, 3 escalations by 24 h; INC-4 (24 h): jeopardy, breach, 1
    assert sorted(logged) == sorted(
        [
            ("jeopardy", None, None),
            ("slaBreached", None, None),
            ("escalated", "supervisor", 1),
            ("escalated", "partner-manager", 2),
            ("escalated", "regional-manager", 3),
            ("jeopardy", None, None),
            ("slaBreached", None, None),
            ("escalated", "supervisor", 1),
        ]
    )
