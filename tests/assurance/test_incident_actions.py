"""An engineer's actions on incidents, on both stores: confirm (the suspect then holds), re-point
(explanation kept, new evidence finds it), split (named tickets to a new incident); refusals are
typed and write nothing."""

from __future__ import annotations

import pytest

from pboss.assurance.actions import IncidentActionRefused, IncidentDesk
from pboss.assurance.correlation import Correlation
from pboss.assurance.model import Incident
from pboss.inventory.errors import NotFound
from pboss.inventory.store import GraphStore
from tests.assurance.network import T0, active, build, later, open_ticket, raise_alarm


@pytest.fixture
def net(store: GraphStore) -> GraphStore:
    """The assurance network in a fresh store of each kind."""
    build(store)
    return store


def _desk(store: GraphStore) -> IncidentDesk:
    return IncidentDesk(store, clock=lambda: T0)


def _tickets(store: GraphStore, spl: str, homes: range) -> Incident:
    inc = None
    for h in homes:
        inc = open_ticket(store, spl, h, at=later(h))
    assert inc is not None
    return inc


def test_a_confirmed_incident_keeps_its_suspect(net: GraphStore) -> None:
    inc = _tickets(net, "SPL-A1a", range(1, 4))
    done = _desk(net).confirm(inc.id, actor="eng-1")
    assert (done.state, done.confirmed_by, done.suspected) == ("confirmed", "eng-1", "SPL-A1a")
    raise_alarm(net, "OLT-A/1", at=later(30))  # would move an open incident up to the port
    stored = net.get(inc.id)
    assert isinstance(stored, Incident) and stored.suspected == "SPL-A1a"
    assert len(stored.alarms) == 1  # the alarm joined it, the suspect held
    assert _desk(net).confirm(inc.id, actor="eng-2").confirmed_by == "eng-1"  # no change
    events = net.events_after(0, types=["IncidentStateChangeEvent"])
    assert [e.body["event"]["change"] for e in events] == ["confirmed by eng-1"]


def test_repoint_moves_the_suspect_and_keeps_the_explanation(net: GraphStore) -> None:
    inc = _tickets(net, "SPL-A1a", range(1, 4))
    done = _desk(net).repoint(inc.id, "OLT-A/1", actor="eng-1", note="port LEDs dark")
    assert done.suspected == "OLT-A/1" and done.state == "confirmed"
    assert [el.id for _, el in net.neighbours(inc.id, "out", ["SUSPECTS"])] == ["OLT-A/1"]
    corr = Correlation.loads(done.candidates)
    assert corr is not None and corr.chosen == "OLT-A/1"
    assert "re-pointed by eng-1: port LEDs dark" in corr.chosen_summary
    why = {a.resource: a.why_lost for a in corr.alternatives}
    assert why["SPL-A1a"].startswith("the engineer chose OLT-A/1; on the evidence it ranked above")
    # a ticket under the port's other splitter joins it, as the engineer said
    assert open_ticket(net, "SPL-A1b", 2, at=later(40)).id == inc.id  # type: ignore[union-attr]


def test_repoint_refusals_write_nothing(net: GraphStore) -> None:
    inc = _tickets(net, "SPL-A2a", range(1, 3))
    before = net.get(inc.id)
    with pytest.raises(NotFound):
        _desk(net).repoint(inc.id, "NO-SUCH", actor="eng-1", note="x")
    with pytest.raises(IncidentActionRefused, match="is a Service"):
        _desk(net).repoint(inc.id, "SVC-SPL-A2a-1", actor="eng-1", note="x")
    with pytest.raises(NotFound):
        _desk(net).confirm("INC-NONE", actor="eng-1")
    assert net.get(inc.id) == before


def test_split_moves_named_tickets_to_a_new_incident(net: GraphStore) -> None:
    inc = _tickets(net, "SPL-A1a", range(1, 6))
    moved = sorted(inc.tickets)[:2]
    left, new = _desk(net).split(inc.id, moved, actor="eng-1", note="two flats with own faults")
    assert sorted(new.tickets) == moved and len(left.tickets) == 3
    assert new.state == "confirmed" and new.suspected == "SPL-A1a"
    for t in moved:
        assert [el.id for _, el in net.neighbours(t, "out", ["GROUPED_IN"])] == [new.id]
    assert sorted(i.id for i in active(net)) == sorted([inc.id, new.id])
    with pytest.raises(IncidentActionRefused, match="not in the incident"):
        _desk(net).split(inc.id, ["TT-NOPE"], actor="eng-1", note="x")
    with pytest.raises(IncidentActionRefused, match="leaves nothing"):
        _desk(net).split(new.id, moved, actor="eng-1", note="x")
    stored = net.get(inc.id)
    assert isinstance(stored, Incident) and len(stored.tickets) == 3
