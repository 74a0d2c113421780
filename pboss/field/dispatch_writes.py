"""The writes of a dispatch, under lock in one transaction, and the records they share.

Every read (the locked work orders and crews, what others booked in the crews' shifts since the
dispatch read them) comes before the first write, as `GraphTx` requires. A placement whose facts
changed meanwhile (the order no longer open or already assigned, the crew no longer active, its
shift filled by others) is left out and reported as `Skipped`; the rest are written: `crew`,
`assignee` (own crews; partner work keeps its partner), the planned shift in `attrs`, the site
and skill it was placed for, history, the `ASSIGNED_TO` edge and a `WorkOrderAssignedEvent`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pboss.field.assignment import CrewPlan, Job, Placement, Result
from pboss.field.model import Crew, CrewState
from pboss.inventory.events import NewEvent
from pboss.inventory.model import SELF, Edge, Element
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.model import Event, WorkOrder, WorkOrderState

#: The event a crew's (and a partner's) systems hear when a work order is assigned to a crew.
WORK_ORDER_ASSIGNED = "WorkOrderAssignedEvent"
#: Work-order attrs the dispatcher keeps: the planned shift (ISO-8601) and the job's slots.
PLANNED_START, PLANNED_END, SLOTS = "planned_start", "planned_end", "slots"


@dataclass(frozen=True)
class Skipped:
    """A placement the write left out because what it was based on changed meanwhile."""

    order: str
    reason: str


@dataclass
class Inputs:
    """What one dispatch plans from: the jobs, the active crews, the work orders that cannot be
    described (why), held jobs to release, and each crew's bookings as read (per shift end)."""

    jobs: list[Job]
    crews: list[CrewPlan]
    refused: dict[str, str]
    held: list[WorkOrder]
    seen: dict[str, dict[datetime, int]]


@dataclass
class Dispatch:
    """What one dispatch wrote: the run's placements, those skipped under lock, and releases."""

    result: Result
    written: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


def planned_end(wo: Element) -> datetime | None:
    """The end of the shift a work order is planned in, if the dispatcher planned it."""
    raw = wo.attrs.get(PLANNED_END)
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def slots_of(wo: Element) -> int:
    """How many shift slots a work order takes (1 unless its attrs say more)."""
    raw = wo.attrs.get(SLOTS)
    return raw if isinstance(raw, int) and raw >= 1 else 1


def lock_set(got: Inputs, result: Result) -> list[str]:
    """Every node a dispatch writes or decides on: the work orders, held ones, chosen crews."""
    ids = {p.order for p in result.placements} | {w.id for w in got.held}
    ids |= {p.crew for p in result.placements if p.crew}
    return sorted(ids)


def with_refusals(result: Result, refused: Mapping[str, str]) -> Result:
    """The run's result with the work orders that could not even be described (no site/skill)."""
    if not refused:
        return result
    extra = tuple(
        Placement(
            order=i,
            crew=None,
            shift=None,
            breach=True,
            travel_km=None,
            why=why,
            considered=(),
            refusal="no_crew",
        )
        for i, why in sorted(refused.items())
    )
    return Result(
        placements=result.placements + extra,
        breaches=result.breaches + len(extra),
        unplaced=result.unplaced + len(extra),
        travel_km=result.travel_km,
    )


def release_held(
    tx: GraphTx,
    held: Sequence[WorkOrder],
    locked: Mapping[str, Element],
    now: datetime,
    actor: str,
) -> list[str]:
    """Take held jobs off their crews (their slots go to others); re-checked under lock."""
    out: list[str] = []
    for w in held:
        cur = locked.get(w.id)
        if not isinstance(cur, WorkOrder) or cur.state != WorkOrderState.HELD or not cur.crew:
            continue
        tx.unlink("ASSIGNED_TO", cur.id, cur.crew)
        entry = Event(
            at=now,
            event="released",
            state=str(cur.state),
            note=f"held: its slot with {cur.crew} goes to other work",
            actor=actor,
        )
        tx.put(_without_crew(cur, entry))
        out.append(cur.id)
    return out


def write_placements(
    tx: GraphTx,
    got: Inputs,
    placements: Sequence[Placement],
    locked: Mapping[str, Element],
    others: Mapping[str, Mapping[datetime, int]],
    now: datetime,
    actor: str,
    out: Dispatch,
    *,
    old: str | None = None,
) -> None:
    """Write the run's placements under lock, leaving out those whose facts changed: the order
    no longer open or assigned meanwhile, the crew no longer active, or its shifts filled by
    others since they were read. `old`: the crew whose work this run moves."""
    crews = {c.id: c for c in got.crews}
    sites = {j.id: j.site for j in got.jobs}
    skills = {j.id: j.skill for j in got.jobs}
    for p in placements:
        wo = locked.get(p.order)
        if not isinstance(wo, WorkOrder) or wo.state != WorkOrderState.OPEN:
            out.skipped.append(Skipped(p.order, "no longer open"))
            continue
        if (wo.crew or None) != old:
            out.skipped.append(Skipped(p.order, f"already assigned to {wo.crew}"))
            continue
        if p.crew is None:
            if old is not None:
                unassign(tx, wo, now, actor, p.why)
            continue
        if p.crew not in others:
            out.skipped.append(Skipped(p.order, f"{p.crew} is no longer active"))
            continue
        plan = crews[p.crew]
        index = {s.end: i for i, s in enumerate(plan.shifts)}
        full = [
            s
            for s in p.shifts_used
            if others[p.crew].get(s.end, 0) > 0
            and _run_use(placements, p.crew, s.end) + others[p.crew][s.end]
            > plan.free(index[s.end])
        ]
        if full:
            end = full[0].end.isoformat(timespec="minutes")
            out.skipped.append(Skipped(p.order, f"{p.crew}'s shift ending {end} filled meanwhile"))
            continue
        write_assignment(tx, wo, p, plan, now, actor, note=p.why, site=sites.get(p.order),
                skill=skills.get(p.order))  # fmt: skip
        out.written.append(p.order)


def booked_by_others(
    tx: GraphTx, got: Inputs, placements: Sequence[Placement], locked: Mapping[str, Element]
) -> dict[str, dict[datetime, int]]:
    """Per chosen crew still active (locked), the slots others booked in its shifts since the
    dispatch read them (per shift end)."""
    out: dict[str, dict[datetime, int]] = {}
    for cid in sorted({p.crew for p in placements if p.crew}):
        cur = locked.get(cid)
        if isinstance(cur, Crew) and cur.state == CrewState.ACTIVE:
            now_booked = booked(
                w for _e, w in tx.linked(cid, "ASSIGNED_TO", "in") if isinstance(w, WorkOrder)
            )
            seen = got.seen.get(cid, {})
            out[cid] = {e: n - seen.get(e, 0) for e, n in now_booked.items()}
    return out


def _run_use(placements: Sequence[Placement], crew: str, end: datetime) -> int:
    """Slots this run places in one shift of one crew."""
    return sum(
        n
        for p in placements
        if p.crew == crew
        for s, n in zip(p.shifts_used, p.slots_used, strict=True)
        if s.end == end
    )


def booked(work: Iterable[WorkOrder]) -> dict[datetime, int]:
    """Slots booked per planned shift end by open work orders."""
    out: dict[datetime, int] = defaultdict(int)
    for w in work:
        end = planned_end(w)
        if end is not None and w.state == WorkOrderState.OPEN:
            out[end] += slots_of(w)
    return dict(out)


def write_assignment(
    tx: GraphTx,
    wo: WorkOrder,
    p: Placement,
    plan: CrewPlan,
    now: datetime,
    actor: str,
    *,
    note: str,
    site: str | None,
    skill: str | None,
) -> None:
    """Write one assignment: crew, assignee, planned shift, the site and skill it was placed
    for (when the work order named none), history, edge and event."""
    assert p.crew is not None and p.shift is not None
    if wo.crew and wo.crew != p.crew:
        tx.unlink("ASSIGNED_TO", wo.id, wo.crew)
    first = p.shifts_used[0] if p.shifts_used else p.shift
    event = "reassigned" if wo.crew else "assigned"
    entry = Event(at=now, event=event, state=str(wo.state), note=note[:2000], actor=actor)
    # a copy with new values of the right types (no deep copy of the history for each order)
    new = wo.model_copy(
        update={
            "crew": p.crew,
            "site": wo.site or site,
            "skill": wo.skill or skill,
            "assignee": wo.assignee if wo.assignee_type == "partner" else p.crew,
            "attrs": {
                **wo.attrs,
                PLANNED_START: first.start.astimezone(UTC).isoformat(),
                PLANNED_END: p.shift.end.astimezone(UTC).isoformat(),
            },
            "history": [*wo.history, entry.dumps()],
        }
    )
    tx.put(new)
    tx.link(Edge(type="ASSIGNED_TO", src=wo.id, dst=p.crew))
    tx.emit(_event(new, p, plan, now, previous=wo.crew))


def unassign(tx: GraphTx, wo: WorkOrder, now: datetime, actor: str, why: str) -> None:
    """Take an open work order off its crew when no other crew can take it."""
    assert wo.crew is not None
    tx.unlink("ASSIGNED_TO", wo.id, wo.crew)
    entry = Event(at=now, event="unassigned", state=str(wo.state), note=why[:2000], actor=actor)
    tx.put(_without_crew(wo, entry))


def _without_crew(wo: WorkOrder, entry: Event) -> WorkOrder:
    """The work order off its crew, its planned shift dropped, `entry` in its history."""
    attrs = {k: v for k, v in wo.attrs.items() if k not in (PLANNED_START, PLANNED_END)}
    return wo.model_copy(
        update={"crew": None, "attrs": attrs, "history": [*wo.history, entry.dumps()]}
    )


def _event(
    wo: WorkOrder, p: Placement, plan: CrewPlan, now: datetime, previous: str | None
) -> NewEvent:
    """The `WorkOrderAssignedEvent` (TMF688 envelope): the work order, its crew and planned
    shift, the prediction and why; scoped to its site and, for partner work, its partner."""
    event_id = f"{wo.id}:assigned:{p.crew}:{now.astimezone(UTC).isoformat()}"
    body: dict[str, Any] = {
        "@type": "WorkOrder",
        "id": wo.id,
        "purpose": str(wo.purpose),
        "state": str(wo.state),
        "crew": p.crew,
        "previousCrew": previous,
        "skill": wo.skill,
        "site": wo.site,
        "dueAt": wo.due_at.astimezone(UTC).isoformat(),
        "plannedStart": wo.attrs.get(PLANNED_START),
        "plannedEnd": wo.attrs.get(PLANNED_END),
        "predictedBreach": p.breach,
        "explanation": p.why,
    }
    return NewEvent(
        id=event_id,
        type=WORK_ORDER_ASSIGNED,
        at=now,
        subject=wo.id,
        body={
            "eventId": event_id,
            "eventTime": now.astimezone(UTC).isoformat(),
            "eventType": WORK_ORDER_ASSIGNED,
            "event": {"workOrder": body},
        },
        sites=[wo.site] if wo.site else [],
        products=[wo.product] if wo.product else [],
        partners=[plan.owner] if plan.owner != SELF else [],
    )
