"""Correlation into incidents inside the write transaction, on both stores: the issue's Done-when
outcomes (one splitter, two splitters of a port, a port alarm with fewer callers, an OLT outage,
unrelated clusters), moving up and absorbing, clearing, and the events emitted."""

from __future__ import annotations

import pytest

from pboss.assurance.correlation import Correlation
from pboss.assurance.model import Incident
from pboss.assurance.tallies import CauseTally, tally_id
from pboss.inventory.store import GraphStore
from tests.assurance.network import active, build, later, open_ticket, raise_alarm


@pytest.fixture
def net(store: GraphStore) -> GraphStore:
    """The assurance network in a fresh store of each kind."""
    build(store)
    return store


def _incident(store: GraphStore, iid: str) -> Incident:
    inc = store.get(iid)
    assert isinstance(inc, Incident)
    return inc


def test_twenty_tickets_on_one_splitter_make_one_incident_on_it(net: GraphStore) -> None:
    ids = {open_ticket(net, "SPL-A1a", h, at=later(h)).id for h in range(1, 21)}  # type: ignore[union-attr]
    incs = active(net)
    assert len(incs) == 1 and ids == {incs[0].id}
    inc = incs[0]
    assert inc.suspected == "SPL-A1a" and len(inc.tickets) == 20
    corr = Correlation.loads(inc.candidates)
    assert corr is not None and corr.chosen == "SPL-A1a"
    win = corr.winner
    assert win is not None and (win.complaints, win.riders, win.affected) == (20, 24, 20)
    why = {a.resource: a.why_lost for a in corr.alternatives}
    assert why["OLT-A/1"].startswith("less specific: 40 riders vs 24")
    assert [el.id for _, el in net.neighbours(inc.id, "out", ["SUSPECTS"])] == ["SPL-A1a"]
    grouped = net.neighbours(inc.id, "in", ["GROUPED_IN"])
    assert len(grouped) == 20
    ct = net.get(tally_id("SPL-A1a"))
    assert isinstance(ct, CauseTally) and ct.complaints == 20 and ct.incidents == [inc.id]


def test_tickets_across_two_splitters_of_a_port_point_at_the_port(net: GraphStore) -> None:
    for h in range(1, 5):
        open_ticket(net, "SPL-A1a", h, at=later(h))
    first = active(net)
    assert [i.suspected for i in first] == ["SPL-A1a"]
    for h in range(1, 4):
        open_ticket(net, "SPL-A1b", h, at=later(10 + h))
    incs = active(net)
    assert len(incs) == 1
    inc = incs[0]
    assert inc.suspected == "OLT-A/1" and len(inc.tickets) == 7
    notes = [e.note for e in inc.entries() if e.event == "suspectChanged"]
    assert any(n.startswith("SPL-A1a -> OLT-A/1") for n in notes)
    why = {a.resource: a.why_lost for a in Correlation.loads(inc.candidates).alternatives}  # type: ignore[union-attr]
    assert why["SPL-A1a"] == "explains less: 4 vs 7 complaints and alarms"
    assert why["OLT-A/1/S1"].startswith("same evidence and riders: a PonPort is taken before")


def test_a_port_alarm_with_fewer_callers_points_at_the_port(net: GraphStore) -> None:
    open_ticket(net, "SPL-A1b", 1, at=later(1))
    open_ticket(net, "SPL-A1b", 2, at=later(2))
    assert [i.suspected for i in active(net)] == ["SPL-A1b"]
    inc = raise_alarm(net, "OLT-A/1", at=later(3))
    assert inc is not None
    incs = active(net)
    assert [(i.suspected, len(i.tickets), len(i.alarms)) for i in incs] == [("OLT-A/1", 2, 1)]
    win = Correlation.loads(incs[0].candidates).winner  # type: ignore[union-attr]
    assert win is not None and win.affected == 40 and win.alarm_weight == 1.0
    # a new caller under the alarmed port joins it
    assert open_ticket(net, "SPL-A1a", 5, at=later(4)).id == incs[0].id  # type: ignore[union-attr]


def test_unrelated_clusters_make_separate_incidents(net: GraphStore) -> None:
    for h in range(1, 4):
        open_ticket(net, "SPL-A2a", h, at=later(h))
        open_ticket(net, "SPL-B1a", h, at=later(10 + h))
    assert sorted(i.suspected for i in active(net)) == ["SPL-A2a", "SPL-B1a"]


def test_an_olt_outage_points_at_the_olt_and_absorbs_the_port_incidents(net: GraphStore) -> None:
    for port in ("OLT-A/1", "OLT-A/2"):
        raise_alarm(net, port, at=later(1))
    assert sorted(i.suspected for i in active(net)) == ["OLT-A/1", "OLT-A/2"]
    raise_alarm(net, "OLT-A/3", at=later(2))
    for spl, h in (("SPL-A1a", 3), ("SPL-A2a", 4), ("SPL-A3a", 5), ("SPL-A1b", 6)):
        open_ticket(net, spl, h, at=later(10 + h))
    incs = active(net)
    assert [(i.suspected, len(i.tickets), len(i.alarms)) for i in incs] == [("OLT-A", 4, 3)]
    cancelled = [
        i for i in net.find(__import__("pboss.inventory.results", fromlist=["FindQuery"]).FindQuery(
            kind="Incident")).items if isinstance(i, Incident) and i.state == "cancelled"
    ]  # fmt: skip
    assert cancelled and all(
        any(e.note.startswith(f"absorbed into {incs[0].id}") for e in c.entries())
        for c in cancelled
    )


def test_a_cleared_alarm_leaves_and_an_empty_incident_resolves(net: GraphStore) -> None:
    inc = raise_alarm(net, "OLT-A/2", at=later(1))
    assert inc is not None and inc.suspected == "OLT-A/2"
    out = raise_alarm(net, "OLT-A/2", state="cleared", at=later(60))
    assert out is not None and out.id == inc.id
    stored = _incident(net, inc.id)
    assert stored.state == "resolved" and stored.alarms == []
    ct = net.get(tally_id("OLT-A/2"))
    assert isinstance(ct, CauseTally) and (ct.alarms, ct.alarm_weight, ct.incidents) == (0, 0, [])


def test_correlation_emits_incident_events(net: GraphStore) -> None:
    open_ticket(net, "SPL-A2a", 1, at=later(1))
    open_ticket(net, "SPL-A2a", 2, at=later(2))
    events = net.events_after(0, types=["IncidentCreateEvent", "IncidentAttributeValueChangeEvent"])
    kinds = [e.type for e in events]
    assert kinds == ["IncidentCreateEvent", "IncidentAttributeValueChangeEvent"]
    body = events[1].body["event"]
    assert body["incident"]["suspected"] == "SPL-A2a" and body["incident"]["tickets"] == 2
    assert "B-9" in events[1].sites


def test_concurrent_first_tickets_make_each_tally_once(net: GraphStore) -> None:
    """Eight households of one splitter call at once on a quiet network: every transaction
    waits for the path's locks, then sees the tallies the first one made (none is made twice,
    which Neo4j would refuse as AlreadyExists)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda h: open_ticket(net, "SPL-A1a", h, at=later(h)), range(1, 9)))
    assert all(inc is not None for inc in got)
    incs = active(net)
    assert [(i.suspected, len(i.tickets)) for i in incs] == [("SPL-A1a", 8)]
    ct = net.get(tally_id("OLT-A"))
    assert isinstance(ct, CauseTally) and ct.complaints == 8
