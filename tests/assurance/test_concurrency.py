"""Concurrent repeats on both stores: the same CRM ticket id or the same alarm sent at once by
several callers gives one record, and every caller an answer (no duplicate, no error)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from pboss.assurance.alarms import AlarmOp
from pboss.assurance.model import AlarmType, Severity, Symptom
from pboss.assurance.record_events import ALARM_CREATED, TICKET_CREATED
from pboss.assurance.service import AssuranceService
from pboss.assurance.tickets import TicketRequest
from pboss.inventory.store import GraphStore
from tests.assurance.conftest import T0

CALLERS = 6


def test_the_same_ticket_opened_at_once_is_one_ticket(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    req = TicketRequest("RACE", Symptom.NO_SYNC, service="SVC-H3-BB")
    with ThreadPoolExecutor(CALLERS) as pool:
        opened = list(pool.map(lambda _: assurance.open_ticket(req, actor="crm"), range(CALLERS)))
    assert sum(o.created for o in opened) == 1
    assert {o.ticket.id for o in opened} == {"TT-RACE"}
    assert demo_store.counts().get("TroubleTicket") == 1
    assert len(demo_store.events_after(0, types=[TICKET_CREATED])) == 1


def test_the_same_alarm_raised_at_once_is_one_alarm(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    ops = [
        AlarmOp(
            "raise",
            "OLT-2/0/1",
            AlarmType.COMMUNICATIONS,
            "lossOfSignal",
            T0 + timedelta(seconds=i),
            Severity.CRITICAL,
        )
        for i in range(CALLERS)
    ]
    with ThreadPoolExecutor(CALLERS) as pool:
        results = list(pool.map(lambda op: assurance.apply_alarm(op, actor="nms"), ops))
    assert sorted(r.outcome for r in results) == ["raised"] + ["unchanged"] * (CALLERS - 1)
    assert demo_store.counts().get("Alarm") == 1
    assert len(demo_store.events_after(0, types=[ALARM_CREATED])) == 1
    [alarm] = {r.alarm.id for r in results}
    assert demo_store.get("OLT-2/0/1").status == "faulty"  # type: ignore[union-attr]
    assert assurance.alarm(alarm).previous_status == "available"
