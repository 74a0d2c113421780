"""Dispatching work orders to crews on a store: read what is open, optimise, write in one go.

`Dispatcher.assign_open` reads the open work orders without a crew and the active crews with
what is booked in their shifts (the store's `due_ids`, `get_many`, `find`), places them together
(`assignment.assign`) and writes every placement in one write transaction: `crew`, `assignee`,
the planned shift, history, an `ASSIGNED_TO` edge and a `WorkOrderAssignedEvent` each. Under the
lock it re-checks each order (still open, still without a crew) and each crew (still active, its
shifts not filled meanwhile); a placement that no longer holds is left out and reported. Held
jobs assigned to a crew are released in the same transaction (their slot goes to others; the job
is placed again once resumed). `assign_one` checks a person's choice (skill, area, owner, shift
room: typed errors, nothing written); `reassign_crew` moves a sick (unavailable) crew's open work
to the others. Time comes from the injected clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pboss.field.assignment import (
    AssignmentError,
    CrewPlan,
    Job,
    Placement,
    Result,
    assign,
    check_manual,
    remaining_capacity,
    shifts_between,
)
from pboss.field.model import Crew, CrewState
from pboss.inventory.events import NewEvent
from pboss.inventory.model import SELF, Edge, Element, Site
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.errors import InvalidState, NotFound
from pboss.provisioning.model import (
    Event,
    Order,
    Technology,
    WorkOrder,
    WorkOrderState,
    WorkPurpose,
)

#: The event a crew's (and a partner's) systems hear when a work order is assigned to a crew.
WORK_ORDER_ASSIGNED = "WorkOrderAssignedEvent"
#: How far ahead crews' shifts are planned.
HORIZON = timedelta(days=7)
#: The skill a construction order needs, by the technology of its order.
SKILL_BY_TECHNOLOGY = {
    Technology.FTTH: "ftthInstall",
    Technology.MSTP: "mstpSdh",
    Technology.CABLE: "cableTv",
}
#: Open work orders read per dispatch at most (the sweeper's page size times ten).
MAX_OPEN = 100_000
#: Work-order attrs the dispatcher keeps: the planned shift (ISO-8601) and the job's slots.
PLANNED_START, PLANNED_END, SLOTS = "planned_start", "planned_end", "slots"


class CrewUnavailable(AssignmentError):
    """The crew is not active (sick, on leave): it takes no new work."""

    code = "crew_unavailable"


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


def _time(hhmm: str) -> time:
    """A stored "HH:MM" as a time of day."""
    h, m = hhmm.split(":")
    return time(int(h), int(m))


def _planned_end(wo: Element) -> datetime | None:
    """The end of the shift a work order is planned in, if the dispatcher planned it."""
    raw = wo.attrs.get(PLANNED_END)
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def _slots(wo: Element) -> int:
    """How many shift slots a work order takes (1 unless its attrs say more)."""
    raw = wo.attrs.get(SLOTS)
    return raw if isinstance(raw, int) and raw >= 1 else 1


def crew_plan(
    crew: Crew, base: Site | None, assigned: Iterable[WorkOrder], now: datetime
) -> CrewPlan:
    """A stored crew as the optimiser sees it: its shifts from now to the horizon (the one under
    way with only its unelapsed share), what its open assigned work books in them, its base."""
    tz = ZoneInfo(crew.timezone)
    days_off = [date.fromisoformat(d) for d in crew.days_off]
    work_days = [d - 1 for d in crew.work_days]  # ISO 1..7 -> Python's 0..6
    shifts = shifts_between(
        _time(crew.shift_start), _time(crew.shift_end), work_days, days_off, now, now + HORIZON, tz
    )
    booked = [0] * len(shifts)
    if shifts:
        booked[0] = crew.capacity_per_shift - remaining_capacity(
            crew.capacity_per_shift, shifts[0], now
        )
    ends = {s.end: i for i, s in enumerate(shifts)}
    for wo in assigned:
        end = _planned_end(wo)
        i = ends.get(end) if end is not None else None
        if i is not None:
            booked[i] += _slots(wo)
    return CrewPlan(
        id=crew.id,
        owner=crew.owner,
        skills=frozenset(str(s) for s in crew.skills),
        areas=frozenset(crew.areas),
        capacity=crew.capacity_per_shift,
        shifts=shifts,
        booked=tuple(booked),
        lat=base.lat if base else None,
        lon=base.lon if base else None,
    )


def job_of(wo: WorkOrder, site: Site | None, order: Order | None) -> Job | str:
    """The optimiser's view of a work order, or why it cannot be placed (no site, no skill)."""
    skill = wo.skill
    if skill is None and wo.purpose == WorkPurpose.REPAIR:
        skill = "repair"
    if skill is None and order is not None:
        skill = SKILL_BY_TECHNOLOGY.get(Technology(order.technology))
    if skill is None:
        return "the work order names no skill and has no order to derive one from"
    if site is None:
        return "the work order names no site"
    priority = wo.attrs.get("priority")
    return Job(
        id=wo.id,
        skill=skill,
        site=site.id,
        due_at=wo.due_at,
        areas=frozenset({site.region} if site.region else ()),
        lat=site.lat,
        lon=site.lon,
        slots=_slots(wo),
        priority=priority if isinstance(priority, str) and priority in _PRIORITIES else "medium",
        partner=wo.assignee if wo.assignee_type == "partner" else None,
    )


_PRIORITIES = frozenset({"critical", "high", "medium", "low"})


def site_of(wo: WorkOrder, order: Order | None) -> str | None:
    """The site a work order is done at: its own, else its order's customer end."""
    if wo.site:
        return wo.site
    if order is None:
        return None
    return order.z_site or order.site or order.a_site


class Dispatcher:
    """Assigns work orders to crews on one store, with one clock."""

    def __init__(self, store: GraphStore, clock: Callable[[], datetime] | None = None):
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- reads --------------------------------------------------------------------------------

    def _open_work(self) -> list[WorkOrder]:
        """Every open or held work order (`due_ids`, then one `get_many`)."""
        ids = self.store.due_ids(
            "WorkOrder",
            states=[WorkOrderState.OPEN, WorkOrderState.HELD],
            time_field="due_at",
            until=None,
            limit=MAX_OPEN,
        )
        got = self.store.get_many(ids)
        return [w for i in ids if isinstance(w := got.get(i), WorkOrder)]

    def _crews(self) -> list[Crew]:
        """Every crew, paged by id."""
        out: list[Crew] = []
        after: str | None = None
        while True:
            page = self.store.find(FindQuery(kind="Crew", after=after, limit=1000))
            out += [c for c in page.items if isinstance(c, Crew)]
            if not page.next_cursor:
                return out
            after = page.next_cursor

    def _context(
        self, work: Sequence[WorkOrder], crews: Sequence[Crew]
    ) -> tuple[dict[str, Order], dict[str, Site]]:
        """The orders of construction work without a site or skill, and every site needed."""
        order_ids = sorted({w.order for w in work if w.order and not (w.site and w.skill)})
        orders = {k: v for k, v in self.store.get_many(order_ids).items() if isinstance(v, Order)}
        site_ids = {site_of(w, orders.get(w.order or "")) for w in work}
        site_ids |= {c.site for c in crews}
        got = self.store.get_many(sorted(s for s in site_ids if s))
        return orders, {k: v for k, v in got.items() if isinstance(v, Site)}

    def plan(self, only: Sequence[str] | None = None, exclude_crews: Sequence[str] = ()) -> Inputs:
        """The jobs to place (open, no crew; or the `only` ones, open), the active crews with
        their bookings, the orders that cannot be placed and why, and the held ones to release."""
        now = self.clock()
        work = self._open_work()
        crews = [c for c in self._crews() if c.id not in set(exclude_crews)]
        orders, sites = self._context(work, crews)
        by_crew: dict[str, list[WorkOrder]] = defaultdict(list)
        for w in work:
            if w.crew and w.state == WorkOrderState.OPEN and (only is None or w.id not in only):
                by_crew[w.crew].append(w)
        plans = [
            crew_plan(c, sites.get(c.site or ""), by_crew.get(c.id, ()), now)
            for c in crews
            if c.state == CrewState.ACTIVE
        ]
        wanted = set(only) if only is not None else None
        jobs: list[Job] = []
        refused: dict[str, str] = {}
        held: list[WorkOrder] = []
        for w in work:
            if w.state == WorkOrderState.HELD:
                if w.crew:
                    held.append(w)
                continue
            if (wanted is None and w.crew) or (wanted is not None and w.id not in wanted):
                continue
            order = orders.get(w.order or "")
            got = job_of(w, sites.get(site_of(w, order) or ""), order)
            if isinstance(got, str):
                refused[w.id] = got
            else:
                jobs.append(got)
        seen = {cid: _booked(ws) for cid, ws in by_crew.items()}
        return Inputs(jobs, plans, refused, held, seen)

    # -- writes -------------------------------------------------------------------------------

    def assign_open(
        self, *, actor: str, reason: str = "dispatch", only: Sequence[str] | None = None
    ) -> Dispatch:
        """Place every open work order without a crew (or the `only` ones) and write all
        placements in one transaction; held jobs give their slots back."""
        if only is not None:
            self._check_open(only)
        got = self.plan(only)
        result = _with_refusals(assign(got.jobs, got.crews), got.refused)
        now = self.clock()

        def work(tx: GraphTx) -> Dispatch:
            out = Dispatch(result=result)
            locked = tx.lock(_lock_set(got, result))  # all at once, in sorted-id order
            others = _others(tx, got, result.placements, locked)  # every read before a write
            out.released = _release(tx, got.held, locked, now, actor)
            _write(tx, got, result.placements, locked, others, now, actor, out)
            return out

        return self.store.transact(work, actor=actor, reason=reason)

    def _check_open(self, ids: Sequence[str]) -> None:
        """Refuse unknown ids and work orders that are not open (typed, before anything)."""
        got = self.store.get_many(list(ids))
        for i in ids:
            wo = got.get(i)
            if not isinstance(wo, WorkOrder):
                raise NotFound(i, "WorkOrder")
            if wo.state != WorkOrderState.OPEN:
                raise InvalidState(f"{i} is {wo.state}, only open work orders are assigned")

    def assign_one(self, work_order: str, crew: str, *, actor: str, reason: str = "") -> Placement:
        """A person's choice: `crew` takes `work_order` if it has the skill, covers the site,
        belongs to the work's owner and has room in a shift; else a typed error, nothing written."""
        now = self.clock()

        def work(tx: GraphTx) -> Placement:
            got = tx.lock(sorted({work_order, crew}))
            wo, cr = got.get(work_order), got.get(crew)
            if not isinstance(wo, WorkOrder):
                raise NotFound(work_order, "WorkOrder")
            if not isinstance(cr, Crew):
                raise NotFound(crew, "Crew")
            if wo.state != WorkOrderState.OPEN:
                raise InvalidState(f"{wo.id} is {wo.state}, only open work orders are assigned")
            if cr.state != CrewState.ACTIVE:
                raise CrewUnavailable(f"{cr.id} cannot take {wo.id}", [f"crew is {cr.state}"])
            order = tx.peek([wo.order]).get(wo.order) if wo.order else None
            order = order if isinstance(order, Order) else None
            site_id = site_of(wo, order)
            peeked = tx.peek([s for s in (site_id, cr.site) if s])
            site = peeked.get(site_id or "")
            job = job_of(wo, site if isinstance(site, Site) else None, order)
            if isinstance(job, str):
                raise AssignmentError(f"{wo.id} cannot be assigned", [job])
            booked = [
                w
                for _e, w in tx.linked(cr.id, "ASSIGNED_TO", "in")
                if isinstance(w, WorkOrder) and w.state == WorkOrderState.OPEN and w.id != wo.id
            ]
            base = peeked.get(cr.site or "")
            plan = crew_plan(cr, base if isinstance(base, Site) else None, booked, now)
            placed = check_manual(job, plan)
            _assign(tx, wo, placed, plan, now, actor, note=reason or placed.why,
                    site=job.site, skill=job.skill)  # fmt: skip
            return placed

        return self.store.transact(work, actor=actor, reason=reason or "assign work order")

    def reassign_crew(self, crew: str, *, actor: str, reason: str = "crew unavailable") -> Dispatch:
        """Move an unavailable crew's open work to the other crews (optimised together); work no
        crew can take is left without a crew and reported."""
        cr = self.store.get(crew)
        if not isinstance(cr, Crew):
            raise NotFound(crew, "Crew")
        if cr.state == CrewState.ACTIVE:
            raise InvalidState(f"{crew} is active; mark it unavailable before moving its work")
        mine = [
            w.id for w in self._open_work() if w.crew == crew and w.state == WorkOrderState.OPEN
        ]
        got = self.plan(only=mine, exclude_crews=[crew])
        result = _with_refusals(assign(got.jobs, got.crews), got.refused)
        now = self.clock()

        def work(tx: GraphTx) -> Dispatch:
            out = Dispatch(result=result)
            locked = tx.lock(_lock_set(got, result))  # all at once, in sorted-id order
            others = _others(tx, got, result.placements, locked)  # every read before a write
            _write(tx, got, result.placements, locked, others, now, actor, out, old=crew)
            return out

        return self.store.transact(work, actor=actor, reason=reason)


def _lock_set(got: Inputs, result: Result) -> list[str]:
    """Every node a dispatch writes or decides on: the work orders, held ones, chosen crews."""
    ids = {p.order for p in result.placements} | {w.id for w in got.held}
    ids |= {p.crew for p in result.placements if p.crew}
    return sorted(ids)


def _with_refusals(result: Result, refused: Mapping[str, str]) -> Result:
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


def _release(
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
        new = cur.model_copy(deep=True)
        tx.unlink("ASSIGNED_TO", cur.id, cur.crew)
        new.crew = None
        new.attrs = {k: v for k, v in cur.attrs.items() if k not in (PLANNED_START, PLANNED_END)}
        new.history = [
            *cur.history,
            Event(
                at=now,
                event="released",
                state=str(cur.state),
                note=f"held: its slot with {cur.crew} goes to other work",
                actor=actor,
            ).dumps(),
        ]
        tx.put(new)
        out.append(cur.id)
    return out


def _write(
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
                _unassign(tx, wo, now, actor, p.why)
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
        _assign(tx, wo, p, plan, now, actor, note=p.why, site=sites.get(p.order),
                skill=skills.get(p.order))  # fmt: skip
        out.written.append(p.order)


def _others(
    tx: GraphTx, got: Inputs, placements: Sequence[Placement], locked: Mapping[str, Element]
) -> dict[str, dict[datetime, int]]:
    """Per chosen crew still active (locked), the slots others booked in its shifts since the
    dispatch read them (per shift end)."""
    out: dict[str, dict[datetime, int]] = {}
    for cid in sorted({p.crew for p in placements if p.crew}):
        cur = locked.get(cid)
        if isinstance(cur, Crew) and cur.state == CrewState.ACTIVE:
            now_booked = _booked(
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


def _booked(work: Iterable[WorkOrder]) -> dict[datetime, int]:
    """Slots booked per planned shift end by open work orders."""
    out: dict[datetime, int] = defaultdict(int)
    for w in work:
        end = _planned_end(w)
        if end is not None and w.state == WorkOrderState.OPEN:
            out[end] += _slots(w)
    return dict(out)


def _assign(
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
    new = wo.model_copy(deep=True)
    if wo.crew and wo.crew != p.crew:
        tx.unlink("ASSIGNED_TO", wo.id, wo.crew)
    new.crew = p.crew
    new.site = wo.site or site
    new.skill = wo.skill or skill
    if wo.assignee_type != "partner":
        new.assignee = p.crew
    first = p.shifts_used[0] if p.shifts_used else p.shift
    new.attrs = {
        **wo.attrs,
        PLANNED_START: first.start.astimezone(UTC).isoformat(),
        PLANNED_END: p.shift.end.astimezone(UTC).isoformat(),
    }
    event = "reassigned" if wo.crew else "assigned"
    new.history = [
        *wo.history,
        Event(at=now, event=event, state=str(wo.state), note=note[:2000], actor=actor).dumps(),
    ]
    tx.put(new)
    tx.link(Edge(type="ASSIGNED_TO", src=wo.id, dst=p.crew))
    tx.emit(_event(new, p, plan, now, previous=wo.crew))


def _unassign(tx: GraphTx, wo: WorkOrder, now: datetime, actor: str, why: str) -> None:
    """Take an open work order off its crew when no other crew can take it."""
    assert wo.crew is not None
    new = wo.model_copy(deep=True)
    tx.unlink("ASSIGNED_TO", wo.id, wo.crew)
    new.crew = None
    new.attrs = {k: v for k, v in wo.attrs.items() if k not in (PLANNED_START, PLANNED_END)}
    new.history = [
        *wo.history,
        Event(
            at=now, event="unassigned", state=str(wo.state), note=why[:2000], actor=actor
        ).dumps(),
    ]
    tx.put(new)


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
