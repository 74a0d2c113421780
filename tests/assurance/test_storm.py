"""Batch correlation (issue 19's storm), on both stores: a ticket is answered with the incident
known on its path without taking correlation's locks, the correlator drains waiting tickets and
alarms into the right incident in one transaction per batch, two correlators at once count each
record once, and a storm through the service with the correlator thread ends in one incident."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from pboss.assurance.alarms import AlarmOp
from pboss.assurance.model import (
    Alarm,
    AlarmType,
    Incident,
    Severity,
    Symptom,
    TroubleTicket,
)
from pboss.assurance.pending import Drained, waiting
from pboss.assurance.seam import default_correlator
from pboss.assurance.service import AssuranceService
from pboss.assurance.tallies import CauseTally, tally_id
from pboss.assurance.tickets import TicketRequest, open_ticket, resolve
from pboss.inventory.errors import Issue, ValidationFailed
from pboss.inventory.model import Element
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import AlreadyExists
from tests.assurance.network import T0, active, build


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> Any:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def net(store: GraphStore) -> GraphStore:
    """The assurance network in a fresh store of each kind."""
    build(store)
    return store


@pytest.fixture
def svc(net: GraphStore) -> AssuranceService:
    """The assurance service over it, with a clock ticking a second per call."""
    return AssuranceService(net, _Clock())


def _req(spl: str, home: int) -> TicketRequest:
    return TicketRequest(f"{spl}-{home}", Symptom.NO_SYNC, service=f"SVC-{spl}-{home}")


def _alarm(resource: str) -> AlarmOp:
    return AlarmOp(
        action="raise",
        resource=resource,
        alarm_type=AlarmType.COMMUNICATIONS,
        probable_cause="LOS",
        at=T0,
        severity=Severity.CRITICAL,
    )


class _Spy:
    """A GraphTx passing everything through, remembering the ids locked."""

    def __init__(self, tx: Any):
        self.tx = tx
        self.locked: list[str] = []

    def lock(self, ids: Iterable[str]) -> dict[str, Element]:
        ids = list(ids)
        self.locked += ids
        return self.tx.lock(ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tx, name)


def _records(store: GraphStore, kind: str) -> list[Any]:
    return list(store.find(FindQuery(kind=kind, limit=1000)).items)


def test_an_opened_ticket_is_answered_with_the_known_incident_without_its_locks(
    net: GraphStore, svc: AssuranceService
) -> None:
    for h in range(1, 6):
        assert svc.open_ticket(_req("SPL-A2a", h), actor="crm").incident is None
    assert [t.correlate_due is not None for t in _records(net, "TroubleTicket")] == [True] * 5
    assert active(net) == []  # nothing correlated inside the opening
    assert svc.correlate_pending() == Drained(tickets=5, alarms=0, batches=1)
    [inc] = active(net)
    assert inc.suspected == "SPL-A2a" and len(inc.tickets) == 5
    req = _req("SPL-A2a", 6)
    subject = resolve(net, req)
    spy: list[_Spy] = []

    def work(tx: Any) -> Any:
        spy.append(_Spy(tx))
        return open_ticket(spy[-1], req, subject, now=T0, actor="crm", correlator=svc.correlator)

    opened = net.transact(work, actor="crm", reason="ticket")
    assert opened.incident is not None and opened.incident.id == inc.id
    assert not [i for i in spy[-1].locked if i.startswith(("INC-", "CT:"))], spy[-1].locked
    stored = net.get(opened.ticket.id)
    assert isinstance(stored, TroubleTicket)
    assert stored.incident is None and stored.correlate_due is not None
    assert svc.correlate_pending().tickets == 1
    after = net.get(opened.ticket.id)
    assert isinstance(after, TroubleTicket) and after.incident == inc.id
    assert after.correlate_due is None
    [again] = active(net)
    assert again.id == inc.id and len(again.tickets) == 6


@pytest.mark.parametrize("batch", [200, 2])
def test_the_correlator_drains_an_olt_outage_into_the_one_right_incident(
    net: GraphStore, svc: AssuranceService, batch: int
) -> None:
    for port in ("OLT-A/1", "OLT-A/2", "OLT-A/3"):
        svc.apply_alarm(_alarm(port), actor="nms")
    for spl, h in (("SPL-A1a", 3), ("SPL-A2a", 4), ("SPL-A3a", 5), ("SPL-A1b", 6)):
        svc.open_ticket(_req(spl, h), actor="crm")
    assert active(net) == [] and len(waiting(net)) == 7
    drained = svc.correlate_pending(batch=batch)
    assert (drained.tickets, drained.alarms) == (4, 3)
    assert drained.batches == (1 if batch == 200 else 4)
    assert waiting(net) == []
    [inc] = active(net)
    assert (inc.suspected, len(inc.tickets), len(inc.alarms)) == ("OLT-A", 4, 3)
    members = [*_records(net, "TroubleTicket"), *_records(net, "Alarm")]
    assert all(m.incident == inc.id and m.correlate_due is None for m in members)
    grouped = {el.id for _, el in net.neighbours(inc.id, "in", ["GROUPED_IN"])}
    assert grouped == {m.id for m in members}
    cancelled = [i for i in _records(net, "Incident") if i.state == "cancelled"]
    assert cancelled  # the port incidents made on the way were absorbed
    for c in cancelled:
        assert net.neighbours(c.id, "in", ["GROUPED_IN"]) == []
        assert any(e.note.startswith(f"absorbed into {inc.id}") for e in c.entries())
    olt = net.get(tally_id("OLT-A"))
    assert isinstance(olt, CauseTally)
    assert (olt.complaints, olt.alarms, olt.suspected_by) == (4, 3, [inc.id])
    assert [el.id for _, el in net.neighbours(inc.id, "out", ["SUSPECTS"])] == ["OLT-A"]


def test_a_cleared_alarm_waits_and_then_leaves_its_incident(
    net: GraphStore, svc: AssuranceService
) -> None:
    svc.apply_alarm(_alarm("OLT-A/2"), actor="nms")
    svc.correlate_pending()
    [inc] = active(net)
    clear = replace(_alarm("OLT-A/2"), action="clear", at=T0 + timedelta(minutes=5))
    out = svc.apply_alarm(clear, actor="nms")
    assert out.outcome == "cleared" and out.incident is not None and out.incident.id == inc.id
    assert svc.correlate_pending().alarms == 1
    stored = net.get(inc.id)
    assert isinstance(stored, Incident) and stored.state == "resolved" and stored.alarms == []


def test_two_correlators_at_once_count_each_record_once(
    net: GraphStore, svc: AssuranceService
) -> None:
    homes = [("SPL-A1a", h) for h in range(1, 19)] + [("SPL-A1b", h) for h in range(1, 13)]
    for spl, h in homes:
        svc.open_ticket(_req(spl, h), actor="crm")
    other = AssuranceService(net, _Clock())  # another process's service
    start = threading.Barrier(2)

    def drain(s: AssuranceService) -> Drained:
        start.wait()
        return s.correlate_pending(batch=7)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(drain, [svc, other]))
    assert sum(r.tickets for r in results) == len(homes)
    [inc] = active(net)
    assert inc.suspected == "OLT-A/1" and len(inc.tickets) == len(homes)
    for res, n in (("SPL-A1a", 18), ("SPL-A1b", 12), ("OLT-A/1", 30), ("OLT-A", 30)):
        ct = net.get(tally_id(res))
        assert isinstance(ct, CauseTally) and ct.complaints == n, (res, ct)
    assert len(net.neighbours(inc.id, "in", ["GROUPED_IN"])) == len(homes)


def test_a_storm_through_the_service_ends_in_one_incident(
    net: GraphStore, svc: AssuranceService
) -> None:
    homes = [
        (spl, h)
        for spl, n in (("SPL-A1a", 12), ("SPL-A1b", 10), ("SPL-A2a", 8), ("SPL-A3a", 8))
        for h in range(1, n + 1)
    ]
    runner = svc.start_correlator(interval=0.05, batch=25)
    try:
        with ThreadPoolExecutor(6) as pool:
            alarms = list(
                pool.map(lambda p: svc.apply_alarm(_alarm(p), actor="nms"), ["OLT-A/1", "OLT-A"])
            )
            opened = list(pool.map(lambda sh: svc.open_ticket(_req(*sh), actor="crm"), homes))
        assert all(o.created for o in opened) and all(a.outcome == "raised" for a in alarms)
        deadline = time.monotonic() + 60
        while waiting(net) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting(net) == []
    finally:
        svc.stop_correlator()
    assert not runner.running
    [inc] = active(net)
    assert (inc.suspected, len(inc.tickets), len(inc.alarms)) == ("OLT-A", len(homes), 2)
    tickets = [t for t in _records(net, "TroubleTicket") if isinstance(t, TroubleTicket)]
    assert len(tickets) == len(homes) and all(t.incident == inc.id for t in tickets)
    alarmed = [a for a in _records(net, "Alarm") if isinstance(a, Alarm)]
    assert all(a.incident == inc.id for a in alarmed)
    olt = net.get(tally_id("OLT-A"))
    assert isinstance(olt, CauseTally) and (olt.complaints, olt.alarms) == (len(homes), 2)


@pytest.mark.parametrize(
    "refusal",
    [
        lambda tid: ValidationFailed([Issue(tid, "refused for the test", "path")]),
        lambda tid: AlreadyExists(f"INC-{tid} refused for the test"),
    ],
    ids=["typed", "id-taken"],
)
def test_a_record_whose_correlation_is_refused_is_set_aside_not_blocking_the_rest(
    net: GraphStore, refusal: Any
) -> None:
    live = default_correlator()

    def refuse_second(tx: Any, ticket: TroubleTicket, **kw: Any) -> Incident | None:
        if ticket.crm_ticket_id == "SPL-A2a-2":
            raise refusal(ticket.id)
        return live.correlate_ticket(tx, ticket, **kw)

    svc = AssuranceService(net, _Clock(), correlator=replace(live, correlate_ticket=refuse_second))
    for h in (1, 2, 3):
        svc.open_ticket(_req("SPL-A2a", h), actor="crm")
    drained = svc.correlate_pending()
    assert drained.tickets == 2 and waiting(net) == []
    [inc] = active(net)
    assert sorted(inc.tickets) == ["TT-SPL-A2a-1", "TT-SPL-A2a-3"]
    bad = net.get("TT-SPL-A2a-2")
    assert isinstance(bad, TroubleTicket) and bad.incident is None and bad.correlate_due is None
    [entry] = [e for e in bad.entries() if e.event == "notCorrelated"]
    assert "refused for the test" in entry.note
