"""Dispatch on both stores: optimised batches, manual choices, sick crews, held jobs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from pboss.field.assignment import CrewLacksSkill, CrewNotOwner, CrewOutsideArea, ShiftOverflow
from pboss.field.dispatch import (
    WORK_ORDER_ASSIGNED,
    CrewUnavailable,
    Dispatcher,
)
from pboss.field.model import Crew, CrewState
from pboss.hub.views import body_for
from pboss.inventory.model import Edge, Partner, Region, Site
from pboss.inventory.store import GraphStore
from pboss.provisioning.model import WorkOrder, WorkOrderState, WorkPurpose
from tests.field.first_fit import breaches, first_fit

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # a Sunday


def site(sid: str, region: str, lat: float, lon: float) -> Site:
    """A building in a region."""
    return Site(id=sid, name=sid, region=region, lat=lat, lon=lon)


def crew(cid: str, skills: list[str], areas: list[str], **kw: object) -> Crew:
    """A crew working Mon-Fri 08:00-17:00 UTC from base B1."""
    base: dict[str, object] = {
        "shift_start": "08:00",
        "shift_end": "17:00",
        "work_days": [1, 2, 3, 4, 5],
        "timezone": "UTC",
        "capacity_per_shift": 4,
        "site": "B1",
    }
    return Crew(id=cid, name=cid, skills=skills, areas=areas, **{**base, **kw})  # type: ignore[arg-type]


def work(wid: str, skill: str, at: str, hours: float = 48, **kw: object) -> WorkOrder:
    """An open repair work order at `at`, due `hours` from now."""
    fields: dict[str, object] = {"assignee": "unassigned", **kw}
    return WorkOrder(
        id=wid,
        purpose=WorkPurpose.REPAIR,
        ticket=f"TT-{wid}",
        skill=skill,
        site=at,
        created_at=NOW,
        due_at=NOW + timedelta(hours=hours),
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def field(store: GraphStore) -> GraphStore:
    """Two regions, their buildings, an FTTH crew and two SDH crews (one per region)."""
    store.upsert(
        [
            Region(id="R1", name="north"),
            Region(id="R2", name="south"),
            site("B1", "R1", 31.20, 121.40),
            site("S1", "R1", 31.25, 121.45),
            site("S2", "R2", 31.00, 121.30),
            crew("ftth-1", ["ftthInstall", "splicing"], ["R1", "R2"]),
            crew("sdh-south", ["mstpSdh"], ["R2"]),
            crew("sdh-north", ["mstpSdh", "splicing"], ["R1"]),
        ],
        actor="test",
        reason="field fixture",
    )
    return store


def assigned_to(store: GraphStore, wid: str) -> list[str]:
    """The crews a work order's ASSIGNED_TO edges point at."""
    return [el.id for _e, el in store.neighbours(wid, "out", ["ASSIGNED_TO"])]


def test_mstp_work_goes_to_the_sdh_crew_of_its_area(field: GraphStore) -> None:
    """One transaction: crew, assignee, planned shift, history, edge and an event."""
    field.upsert([work("WO-M", "mstpSdh", "S1")], actor="test", reason="t")
    before = field.last_event_seq()
    got = Dispatcher(field, lambda: NOW).assign_open(actor="dispatcher")
    assert got.written == ["WO-M"] and not got.skipped
    wo = field.get("WO-M")
    assert isinstance(wo, WorkOrder)
    assert wo.crew == "sdh-north" and wo.assignee == "sdh-north"
    assert wo.attrs["planned_end"] == "2026-12-07T17:00:00+00:00"
    assert "sdh-north has mstpSdh" in wo.history[-1] and '"assigned"' in wo.history[-1]
    assert assigned_to(field, "WO-M") == ["sdh-north"]
    events = field.events_after(before, types=[WORK_ORDER_ASSIGNED])
    assert [(e.subject, e.body["event"]["workOrder"]["crew"]) for e in events] == [
        ("WO-M", "sdh-north")
    ]
    assert events[0].sites == ["S1"]
    p = got.result.by_order()["WO-M"]
    reasons = {v.crew: v.reason for v in p.considered}
    assert reasons["ftth-1"].startswith("skill") and reasons["sdh-south"].startswith("area")


def test_manual_choice_without_skill_area_or_room_is_refused_and_writes_nothing(
    field: GraphStore,
) -> None:
    """Each typed refusal leaves the work order, its edges and the event log untouched."""
    monday_only = crew("mon", ["repair"], ["R1"], capacity_per_shift=1, work_days=[1])
    field.upsert(
        [monday_only, work("WO-1", "repair", "S1"), work("WO-2", "repair", "S1"),
         work("WO-3", "mstpSdh", "S2")],
        actor="test", reason="t",
    )  # fmt: skip
    d = Dispatcher(field, lambda: NOW)
    seq = field.last_event_seq()
    with pytest.raises(CrewLacksSkill):
        d.assign_one("WO-1", "sdh-north", actor="eng")
    with pytest.raises(CrewOutsideArea):
        d.assign_one("WO-3", "sdh-north", actor="eng")
    placed = d.assign_one("WO-1", "mon", actor="eng")
    assert placed.crew == "mon" and not placed.breach
    seq = field.last_event_seq()
    before = field.get("WO-2")
    with pytest.raises(ShiftOverflow) as e:
        d.assign_one("WO-2", "mon", actor="eng")
    assert "0 free" in e.value.reasons[0]
    assert field.get("WO-2") == before and assigned_to(field, "WO-2") == []
    assert field.last_event_seq() == seq


def test_partner_work_goes_to_the_partners_crew_only(field: GraphStore) -> None:
    """The nearer own crew is passed over; a manual choice of it is refused."""
    field.upsert(
        [
            Partner(id="P1", name="Oriental Cable"),
            crew("p1-team", ["repair"], ["R1"], owner="P1", site="S2"),
            crew("own", ["repair"], ["R1"]),
            work("WO-P", "repair", "S1", assignee="P1", assignee_type="partner"),
        ],
        actor="test",
        reason="t",
    )
    d = Dispatcher(field, lambda: NOW)
    with pytest.raises(CrewNotOwner):
        d.assign_one("WO-P", "own", actor="eng")
    d.assign_open(actor="dispatcher")
    wo = field.get("WO-P")
    assert isinstance(wo, WorkOrder) and wo.crew == "p1-team" and wo.assignee == "P1"
    ev = field.events_after(0, types=[WORK_ORDER_ASSIGNED])[-1]
    assert ev.partners == ["P1"]
    shown = body_for(ev, "P1")["event"]["workOrder"]
    assert shown["crew"] == "p1-team" and "explanation" not in shown


def test_a_sick_crews_work_moves_to_another_crew(field: GraphStore) -> None:
    """Unavailable: refused new work; its open work moves, the edge re-pointed, history kept."""
    field.upsert(
        [crew("a", ["repair"], ["R1"]), crew("b", ["repair"], ["R1"], site="S2"),
         work("WO-1", "repair", "S1")],
        actor="test", reason="t",
    )  # fmt: skip
    d = Dispatcher(field, lambda: NOW)
    d.assign_open(actor="dispatcher")
    assert assigned_to(field, "WO-1") == ["a"]
    sick = field.get("a")
    assert isinstance(sick, Crew)
    field.upsert([sick.model_copy(update={"state": CrewState.UNAVAILABLE})], actor="t", reason="t")
    with pytest.raises(CrewUnavailable):
        d.assign_one("WO-1", "a", actor="eng")
    moved = d.reassign_crew("a", actor="dispatcher")
    assert moved.written == ["WO-1"]
    wo = field.get("WO-1")
    assert isinstance(wo, WorkOrder) and wo.crew == "b"
    assert assigned_to(field, "WO-1") == ["b"] and '"reassigned"' in wo.history[-1]


def test_a_held_job_gives_its_slot_back(field: GraphStore) -> None:
    """A held job is taken off its crew at the next dispatch; the freed slot takes other work."""
    field.upsert(
        [crew("one", ["repair"], ["R1"], capacity_per_shift=1, work_days=[1]),
         work("WO-H", "repair", "S1")],
        actor="test", reason="t",
    )  # fmt: skip
    d = Dispatcher(field, lambda: NOW)
    d.assign_open(actor="dispatcher")
    held = field.get("WO-H")
    assert isinstance(held, WorkOrder) and held.crew == "one"
    field.upsert(
        [held.model_copy(update={"state": WorkOrderState.HELD}), work("WO-N", "repair", "S1")],
        actor="t",
        reason="t",
    )
    got = d.assign_open(actor="dispatcher")
    assert got.released == ["WO-H"] and got.written == ["WO-N"]
    after = field.get("WO-H")
    assert isinstance(after, WorkOrder) and after.crew is None and assigned_to(field, "WO-H") == []
    assert '"released"' in after.history[-1]


def test_a_shift_filled_meanwhile_is_left_out_not_overfilled(field: GraphStore) -> None:
    """Another assignment commits between the dispatch's read and its write: the placement it
    would overfill is skipped (reported), nothing else changes, the shift stays at capacity."""
    field.upsert(
        [crew("solo", ["repair"], ["R1"], capacity_per_shift=1, work_days=[1]),
         work("WO-1", "repair", "S1"), work("WO-2", "repair", "S1")],
        actor="test", reason="t",
    )  # fmt: skip

    class Racing(Dispatcher):
        """Reads WO-1 as open, then someone assigns WO-2 to the same one-slot shift by hand."""

        def plan(self, only=None, exclude_crews=()):  # type: ignore[no-untyped-def]
            got = super().plan(only, exclude_crews)
            self.assign_one("WO-2", "solo", actor="someone else")
            return got

    got = Racing(field, lambda: NOW).assign_open(actor="dispatcher", only=["WO-1"])
    assert got.written == [] and [s.order for s in got.skipped] == ["WO-1"]
    assert "filled meanwhile" in got.skipped[0].reason
    one = field.get("WO-1")
    assert isinstance(one, WorkOrder) and one.crew is None and assigned_to(field, "WO-1") == []
    assert assigned_to(field, "WO-2") == ["solo"]


def test_200_ftth_orders_on_the_store_no_shift_over_capacity_fewer_breaches_than_first_fit(
    store: GraphStore,
) -> None:
    """200 FTTH orders arriving in one hour, dispatched and written: every crew's shift holds at
    most its capacity, and the predicted breaches are no more than first-fit's (fewer here)."""
    regions = [f"FR{r}" for r in range(5)]
    nodes: list[object] = [Region(id=r, name=r) for r in regions]
    nodes += [site(f"FS{r}", f"FR{r}", 31.0 + r / 10, 121.4) for r in range(5)]
    nodes.append(site("B1", "FR0", 31.0, 121.4))
    nodes += [crew(f"gen-{i}", ["ftthInstall"], regions, capacity_per_shift=20) for i in (1, 2)]
    for r in range(1, 5):
        nodes += [
            crew(f"r{r}-{i}", ["ftthInstall"], [f"FR{r}"], capacity_per_shift=12) for i in (1, 2)
        ]
    nodes += [
        work(f"WO-{n:03}", "ftthInstall", f"FS{n % 5}", hours=48 + (n % 60) / 60)
        for n in range(200)
    ]
    store.upsert(nodes, actor="test", reason="200 orders")  # type: ignore[arg-type]
    d = Dispatcher(store, lambda: NOW)
    inputs = d.plan()
    ff = breaches(inputs.jobs, inputs.crews, first_fit(inputs.jobs, inputs.crews))
    got = d.assign_open(actor="dispatcher")
    assert len(got.written) == 200 and got.result.breaches == 200 - (2 * 20 + 8 * 12)
    assert got.result.breaches < ff
    load: Counter[tuple[str, str]] = Counter()
    for row in store.scan_nodes("WorkOrder"):
        load[(row["crew"], row["planned_end"])] += 1
    cap = {c.id: c.capacity for c in inputs.crews}
    assert max(n - cap[c] for (c, _e), n in load.items()) <= 0


def test_work_assigned_without_a_planned_shift_still_takes_room(field: GraphStore) -> None:
    """A work order a load assigned to a crew (no planned shift) fills its earliest room, so the
    dispatch does not overbook the crew."""
    field.upsert(
        [crew("solo", ["repair"], ["R1"], capacity_per_shift=1, work_days=[1]),
         work("WO-L", "repair", "S1", crew="solo"), work("WO-N", "repair", "S1")],
        [Edge(type="ASSIGNED_TO", src="WO-L", dst="solo")],
        actor="test", reason="t",
    )  # fmt: skip
    got = Dispatcher(field, lambda: NOW).assign_open(actor="dispatcher")
    p = got.result.by_order()["WO-N"]
    assert p.crew is None and p.refusal == "no_room" and got.written == []


def test_naming_an_assigned_order_keeps_its_slot(field: GraphStore) -> None:
    """A batch naming an order already assigned leaves it where it is and does not hand its
    slot to another order (which would overbook the crew)."""
    field.upsert(
        [crew("solo", ["repair"], ["R1"], capacity_per_shift=1, work_days=[1]),
         work("WO-1", "repair", "S1")],
        actor="test", reason="t",
    )  # fmt: skip
    d = Dispatcher(field, lambda: NOW)
    d.assign_open(actor="dispatcher")
    field.upsert([work("WO-2", "repair", "S1")], actor="test", reason="t")
    got = d.assign_open(actor="dispatcher", only=["WO-1", "WO-2"])
    assert got.written == [] and got.result.by_order()["WO-2"].crew is None
    assert [(s.order, s.reason) for s in got.skipped] == [("WO-1", "already assigned to solo")]
