"""Dispatching work orders to crews on a store: read what is open, optimise, write in one go.

`Dispatcher.assign_open` reads the open work orders without a crew and the active crews with
what is booked in their shifts (the store's `due_ids`, `get_many`, `find`), places them together
(`assignment.assign`) and writes every placement in one write transaction (`dispatch_writes`:
re-checked under lock, a placement that no longer holds left out and reported). Held
jobs assigned to a crew are released in the same transaction (their slot goes to others; the job
is placed again once resumed). `assign_one` checks a person's choice (skill, area, owner, shift
room: typed errors, nothing written); `reassign_crew` moves a sick (unavailable) crew's open work
to the others. Time comes from the injected clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pboss.field.assignment import (
    AssignmentError,
    CrewPlan,
    Job,
    Placement,
    assign,
    check_manual,
    remaining_capacity,
    shifts_between,
)
from pboss.field.dispatch_writes import (
    PLANNED_END,
    PLANNED_START,
    SLOTS,
    WORK_ORDER_ASSIGNED,
    Dispatch,
    Inputs,
    Skipped,
    booked,
    booked_by_others,
    lock_set,
    planned_end,
    release_held,
    slots_of,
    with_refusals,
    write_assignment,
    write_placements,
)
from pboss.field.model import Crew, CrewState
from pboss.inventory.model import Site
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.errors import InvalidState, NotFound
from pboss.provisioning.model import (
    Order,
    Technology,
    WorkOrder,
    WorkOrderState,
    WorkPurpose,
)

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


class CrewUnavailable(AssignmentError):
    """The crew is not active (sick, on leave): it takes no new work."""

    code = "crew_unavailable"


def _time(hhmm: str) -> time:
    """A stored "HH:MM" as a time of day."""
    h, m = hhmm.split(":")
    return time(int(h), int(m))


def crew_plan(
    crew: Crew, base: Site | None, assigned: Iterable[WorkOrder], now: datetime
) -> CrewPlan:
    """A stored crew as the optimiser sees it: its shifts from now to the horizon (the one under
    way with only its unelapsed share), what its open assigned work books in them (work assigned
    without a planned shift takes the earliest room), its base."""
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
    unplanned = 0
    for wo in assigned:
        end = planned_end(wo)
        if end is None:  # assigned without a planned shift (by a load): the earliest room
            unplanned += slots_of(wo)
        elif (i := ends.get(end)) is not None:
            booked[i] += slots_of(wo)
    for i in range(len(shifts)):
        take = min(unplanned, max(0, crew.capacity_per_shift - booked[i]))
        booked[i] += take
        unplanned -= take
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
        slots=slots_of(wo),
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

    def plan(
        self,
        only: Sequence[str] | None = None,
        exclude_crews: Sequence[str] = (),
        moving: bool = False,
    ) -> Inputs:
        """The jobs to place (open, no crew; or the `only` ones, open), the active crews with
        their bookings, the orders that cannot be placed and why, and the held ones to release.
        `moving`: the `only` ones are being moved off their crew, so their bookings do not count
        (otherwise an assigned one keeps its slot and the write reports it already assigned)."""
        now = self.clock()
        work = self._open_work()
        gone = set(exclude_crews)
        crews = [c for c in self._crews() if c.id not in gone]
        orders, sites = self._context(work, crews)
        moved = set(only or ()) if moving else set()
        by_crew: dict[str, list[WorkOrder]] = defaultdict(list)
        for w in work:
            if w.crew and w.state == WorkOrderState.OPEN and w.id not in moved:
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
        seen = {cid: booked(ws) for cid, ws in by_crew.items()}
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
        result = with_refusals(assign(got.jobs, got.crews), got.refused)
        now = self.clock()

        def work(tx: GraphTx) -> Dispatch:
            out = Dispatch(result=result)
            locked = tx.lock(lock_set(got, result))  # all at once, in sorted-id order
            others = booked_by_others(tx, got, result.placements, locked)  # reads first
            out.released = release_held(tx, got.held, locked, now, actor)
            write_placements(tx, got, result.placements, locked, others, now, actor, out)
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
            write_assignment(tx, wo, placed, plan, now, actor, note=reason or placed.why,
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
        got = self.plan(only=mine, exclude_crews=[crew], moving=True)
        result = with_refusals(assign(got.jobs, got.crews), got.refused)
        now = self.clock()

        def work(tx: GraphTx) -> Dispatch:
            out = Dispatch(result=result)
            locked = tx.lock(lock_set(got, result))  # all at once, in sorted-id order
            others = booked_by_others(tx, got, result.placements, locked)  # reads first
            write_placements(tx, got, result.placements, locked, others, now, actor, out, old=crew)
            return out

        return self.store.transact(work, actor=actor, reason=reason)


__all__ = [
    "PLANNED_END",
    "PLANNED_START",
    "SLOTS",
    "WORK_ORDER_ASSIGNED",
    "CrewUnavailable",
    "Dispatch",
    "Dispatcher",
    "Inputs",
    "Skipped",
]


def reassign_released(
    dispatcher: Dispatcher, work_orders: Sequence[str], actor: str
) -> Dispatch | None:
    """Place the open ones of the work orders an unavailable crew gave up (`FieldService`'s
    `reassign` hook), optimised together; held ones wait for their resume."""
    got = dispatcher.store.get_many(list(work_orders))
    open_ids = [
        i
        for i in work_orders
        if isinstance(w := got.get(i), WorkOrder) and w.state == WorkOrderState.OPEN
    ]
    if not open_ids:
        return None
    return dispatcher.assign_open(actor=actor, reason="crew unavailable", only=open_ids)
