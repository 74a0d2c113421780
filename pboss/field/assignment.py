"""Assigning work orders to crews together: a min-cost flow over crews' shifts, explained per order.

Pure (no store): `assign` takes the open work orders (`Job`), the crews with their free shifts
(`CrewPlan`) and a travel function, and returns one `Placement` per order. The problem is a
min-cost flow solved by OR-Tools' `SimpleMinCostFlow` (networkx's network simplex solves the same
flow, but took 9-12 s for 2,000 orders over 100 crews here; OR-Tools takes a fraction of one):

    order --(on time: travel)--> (crew, last shift ending by the deadline) --+
    order --(late: breach + travel)--> (crew, last shift in the horizon) ----+--> sink
    order --(unplaceable: more than any breach)----------------------------> sink
    (crew, shift i) --> (crew, shift i-1)   free, unbounded: a job that fits shift i fits earlier
    (crew, shift i) --> sink                capacity = the shift's free slots

so a flow uses each crew's shifts up to their free slots, an order reaching (crew, i) is served
in a shift no later than i, and the costs put predicted breaches first (weighted so that one more
breach always costs more than any priority mix or any travel), travel second. Each order's slots
are flow units; the per-crew split into shifts is recovered earliest-deadline-first, which is exact
for these nested "shift <= i" choices. An order of several slots whose units the flow spreads over
two crews is pinned to the crew carrying most of them and the flow solved again (rare: it needs a
crew's last free slots to be contended).

Each placement says which crews were considered, why each lost (owner, skill, area, no shift in
the horizon, full, farther, finishes after the deadline) and why the chosen crew won, like path
choice. `check_manual` checks one chosen crew for a manual assignment and raises a typed error.
Size: the model (jobs, crews, shifts), the flow, its decomposition and the explanations are one
algorithm whose parts share the same cost terms; split, each part would re-derive them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from ortools.graph.python import min_cost_flow

from pboss.inventory.errors import PbossError
from pboss.inventory.model import SELF

#: Extra weight of a breach by priority (a tie-break among equal breach counts).
PRIORITY_WEIGHT: Mapping[str, int] = {"critical": 3, "high": 2, "medium": 1, "low": 0}

#: Travel is costed in units of 100 m.
_TRAVEL_UNITS_PER_KM = 10


@dataclass(frozen=True)
class Shift:
    """One working shift of a crew: when it starts and ends."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Job:
    """A work order to place: what it needs, where, by when, how long, and whose work it is."""

    id: str
    skill: str
    site: str
    due_at: datetime
    areas: frozenset[str] = frozenset()
    lat: float | None = None
    lon: float | None = None
    slots: int = 1
    priority: str = "medium"
    partner: str | None = None

    def __post_init__(self) -> None:
        """Refuse a job that no crew could ever take (no slot to do, unknown priority)."""
        if self.slots < 1:
            raise ValueError(f"{self.id}: slots must be at least 1, got {self.slots}")
        if self.priority not in PRIORITY_WEIGHT:
            raise ValueError(f"{self.id}: unknown priority {self.priority!r}")

    @property
    def coverage(self) -> frozenset[str]:
        """Every area id a crew may name to cover this job: the site itself and its regions."""
        return self.areas | {self.site}


@dataclass(frozen=True)
class CrewPlan:
    """A crew as assignment sees it: owner (`SELF` for the operator's own, or a partner id),
    skills, areas, slots per shift, the shifts ahead and what is booked in them already."""

    id: str
    owner: str
    skills: frozenset[str]
    areas: frozenset[str]
    capacity: int
    shifts: tuple[Shift, ...]
    booked: tuple[int, ...] = ()
    lat: float | None = None
    lon: float | None = None

    def free(self, index: int) -> int:
        """Slots still free in shift `index` (capacity minus what is already booked there)."""
        used = self.booked[index] if index < len(self.booked) else 0
        return max(0, self.capacity - used)


@dataclass(frozen=True, slots=True)
class CrewVerdict:
    """One crew considered for one order: chosen, excluded before costing, or lost, and why."""

    crew: str
    outcome: str  # "chosen" | "excluded" | "lost"
    reason: str
    travel_km: float | None = None
    on_time: bool | None = None


@dataclass(frozen=True)
class Placement:
    """Where one order went (or why nowhere), when it is expected to finish, and why."""

    order: str
    crew: str | None
    shift: Shift | None
    breach: bool
    travel_km: float | None
    why: str
    considered: tuple[CrewVerdict, ...]
    refusal: str | None = None  # "no_crew" | "no_room" when crew is None
    #: Crews left out of `considered`: neither the skill nor the site's area.
    others: int = 0
    shifts_used: tuple[Shift, ...] = ()
    #: Slots taken in each of `shifts_used` (one shift unless the job spans several).
    slots_used: tuple[int, ...] = ()

    @property
    def completes_at(self) -> datetime | None:
        """The predicted finish: the end of the last shift the order uses."""
        return None if self.shift is None else self.shift.end


@dataclass(frozen=True)
class Result:
    """All placements of one run, in the jobs' order, with the run's totals."""

    placements: tuple[Placement, ...]
    breaches: int
    unplaced: int
    travel_km: float

    def by_order(self) -> dict[str, Placement]:
        """The placements keyed by order id."""
        return {p.order: p for p in self.placements}


class AssignmentError(PbossError):
    """A manual assignment the crew cannot take; `reasons` say why; nothing is written."""

    code = "assignment_refused"

    def __init__(self, message: str, reasons: list[str] | None = None):
        self.reasons = list(reasons or [])
        self.message = message
        super().__init__(message if not self.reasons else f"{message}: {'; '.join(self.reasons)}")


class CrewLacksSkill(AssignmentError):
    """The crew has not the skill the work order needs."""

    code = "crew_lacks_skill"


class CrewOutsideArea(AssignmentError):
    """The crew does not cover the work order's site or region."""

    code = "crew_outside_area"


class CrewNotOwner(AssignmentError):
    """Partner work to another owner's crew, or the operator's work to a partner's crew."""

    code = "crew_not_owner"


class ShiftOverflow(AssignmentError):
    """No shift of the crew in the horizon has room for the work order's slots."""

    code = "shift_overflow"


TravelFn = Callable[[CrewPlan, Job], float | None]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points (degrees)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def straight_line(crew: CrewPlan, job: Job) -> float | None:
    """Default travel: straight-line km from the crew's base to the site; None if one is unknown."""
    if None in (crew.lat, crew.lon, job.lat, job.lon):
        return None
    return haversine_km(crew.lat, crew.lon, job.lat, job.lon)  # type: ignore[arg-type]


def shifts_between(
    start: time,
    end: time,
    work_days: Iterable[int],
    days_off: Iterable[date],
    now: datetime,
    horizon: datetime,
    tz: tzinfo,
) -> tuple[Shift, ...]:
    """The shifts of a crew working `start`-`end` local time on `work_days` (0 = Monday), except
    `days_off`, that end after `now` and start before `horizon`; overnight shifts end next day."""
    days = set(work_days)
    off = set(days_off)
    local_now = now.astimezone(tz)
    day = local_now.date() - timedelta(days=1)
    last = horizon.astimezone(tz).date()
    out: list[Shift] = []
    while day <= last:
        if day.weekday() in days and day not in off:
            s = datetime.combine(day, start, tzinfo=tz)
            e_day = day if end > start else day + timedelta(days=1)
            e = datetime.combine(e_day, end, tzinfo=tz)
            if e > now and s < horizon:
                out.append(Shift(s, e))
        day += timedelta(days=1)
    return tuple(out)


def remaining_capacity(capacity: int, shift: Shift, now: datetime) -> int:
    """A shift's slots usable at `now`: all before it starts, the unelapsed share during it."""
    if now <= shift.start:
        return capacity
    total = (shift.end - shift.start).total_seconds()
    left = (shift.end - now).total_seconds()
    return max(0, math.floor(capacity * left / total)) if total > 0 else 0


# -- eligibility ---------------------------------------------------------------------------------


def exclusion(crew: CrewPlan, job: Job) -> str | None:
    """Why `crew` can never take `job` (owner, skill, area, no shift), or None if it can."""
    owner = job.partner or SELF
    if crew.owner != owner:
        whose = f"partner {job.partner}'s work" if job.partner else "the operator's own work"
        return f"owner: crew belongs to {crew.owner}, the order is {whose}"
    if job.skill not in crew.skills:
        return f"skill: has {', '.join(sorted(crew.skills)) or 'none'}, needs {job.skill}"
    if not (crew.areas & job.coverage):
        where = " or ".join(sorted(job.coverage))
        return f"area: covers {', '.join(sorted(crew.areas)) or 'nothing'}, not {where}"
    if not crew.shifts:
        return "no shift in the horizon"
    return None


def _last_on_time(crew: CrewPlan, job: Job) -> int:
    """Index of the crew's last shift ending by the job's deadline, or -1 if none does."""
    idx = -1
    for i, s in enumerate(crew.shifts):
        if s.end <= job.due_at:
            idx = i
        else:
            break
    return idx


# -- the flow ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Costs:
    """The integer cost terms of the flow: one breach outweighs all travel and any priority mix
    of fewer breaches; an unplaced order outweighs any breach."""

    scale: int  # lcm of the jobs' slots: per-unit costs stay integral
    breach_base: int  # more than all travel together
    weight: int  # breach count weight: (k + 1) * weight > k * (weight + 3) for every k <= jobs
    km_per_unit: float = 1 / _TRAVEL_UNITS_PER_KM

    def travel(self, km: float | None) -> int:
        """A travel's cost in units (100 m unless a huge run needs coarser); unknown costs 0."""
        return 0 if km is None else round(km / self.km_per_unit)

    def breach(self, job: Job) -> int:
        """The cost of one predicted breach of `job` (the count first, then its priority)."""
        return self.breach_base * (self.weight + PRIORITY_WEIGHT[job.priority])

    @property
    def unplaced(self) -> int:
        """The cost of leaving an order unplaced: more than its worst breach."""
        return 2 * self.breach_base * (self.weight + 3)


#: The solver's costs are int64 and it multiplies them by the node count: stay well below.
_COST_CEILING = 2**62


def _costs(jobs: Sequence[Job], max_km: float, nodes: int) -> _Costs:
    """The weights for `jobs` whose longest single travel is `max_km` in a flow of `nodes`;
    travel is costed coarser (1 km, 10 km ...) only when 100 m units would overflow."""
    scale = 1
    for d in {j.slots for j in jobs}:
        scale = scale * d // math.gcd(scale, d)
    n = max(1, len(jobs))
    km_per_unit = 1 / _TRAVEL_UNITS_PER_KM
    while True:
        top = round(max_km / km_per_unit)
        costs = _Costs(scale, top * n + 1, 3 * n + 1, km_per_unit)
        if costs.unplaced * scale * (nodes + 1) < _COST_CEILING or top == 0:
            return costs
        km_per_unit *= 10


@dataclass
class _Options:
    """One job's eligible crews: travel, last on-time shift, and the excluded crews' reasons."""

    travel: dict[str, float | None] = field(default_factory=dict)
    on_time: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, CrewVerdict] = field(default_factory=dict)
    others: int = 0  # crews with neither the skill nor the area


def _options(
    jobs: Sequence[Job], crews: Sequence[CrewPlan], travel: TravelFn
) -> dict[str, _Options]:
    """Each job's able crews with their travel and last on-time shift, and the near misses
    (crews with the skill or covering the site, that cannot take it) with their reasons; crews
    with neither are only counted."""
    by_skill: dict[str, list[CrewPlan]] = defaultdict(list)
    by_area: dict[str, list[CrewPlan]] = defaultdict(list)
    for c in crews:
        for sk in c.skills:
            by_skill[sk].append(c)
        for a in c.areas:
            by_area[a].append(c)
    out: dict[str, _Options] = {}
    said: dict[tuple[str, str, object], CrewVerdict] = {}  # one verdict object per wording

    def excluded(c: CrewPlan, j: Job, key: tuple[str, str, object]) -> CrewVerdict:
        got = said.get(key)
        if got is None:
            got = said[key] = CrewVerdict(c.id, "excluded", exclusion(c, j) or "")
        return got

    for j in jobs:
        o = _Options()
        owner, coverage = j.partner or SELF, j.coverage
        near = {c.id: c for c in by_skill.get(j.skill, ())}
        for a in coverage:
            near.update((c.id, c) for c in by_area.get(a, ()))
        for cid in sorted(near):
            c = near[cid]
            # the common case (able) checked inline; `exclusion` words the others
            if c.owner != owner:
                o.excluded[cid] = excluded(c, j, (cid, "owner", owner))
            elif j.skill not in c.skills:
                o.excluded[cid] = excluded(c, j, (cid, "skill", j.skill))
            elif c.areas.isdisjoint(coverage):
                o.excluded[cid] = excluded(c, j, (cid, "area", coverage))
            elif not c.shifts:
                o.excluded[cid] = excluded(c, j, (cid, "shift", None))
            else:
                o.travel[cid] = travel(c, j)
                o.on_time[cid] = _last_on_time(c, j)
        o.others = len(crews) - len(near)
        out[j.id] = o
    return out


_SINK = ("sink",)
_UNIT = _Costs(1, 0, 0)  # travel costed at 100 m, for explanations


def _solve(
    jobs: Sequence[Job],
    crews: Mapping[str, CrewPlan],
    options: Mapping[str, _Options],
    costs: _Costs,
    pinned: Mapping[str, str],
) -> dict[str, list[tuple[str, int, int]]]:
    """One min-cost flow: per job, the (crew, entry shift, units) it is sent to."""
    index: dict[tuple[str, int], int] = {}
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    unit_costs: list[int] = []

    def arc(tail: int, head: int, cap: int, cost: int) -> None:
        tails.append(tail)
        heads.append(head)
        caps.append(cap)
        unit_costs.append(cost)

    sink = 0
    supplies = [0]
    all_slots = sum(j.slots for j in jobs)
    for c in crews.values():
        for i in range(len(c.shifts)):
            index[(c.id, i)] = node = len(supplies)
            supplies.append(0)
            arc(node, sink, c.free(i), 0)
            if i:
                arc(node, node - 1, all_slots, 0)
    first_job_arc: list[int] = []
    for j in jobs:
        units = j.slots
        src = len(supplies)
        supplies.append(units)
        supplies[sink] -= units
        per = costs.scale // units  # per-unit costs: a whole order costs the same at any size
        first_job_arc.append(len(tails))
        arc(src, sink, units, costs.unplaced * per)
        o = options[j.id]
        only = pinned.get(j.id)
        for cid, km in o.travel.items():
            if only is not None and cid != only:
                continue
            t = costs.travel(km)
            last = len(crews[cid].shifts) - 1
            ok = o.on_time[cid]
            if ok >= 0:
                arc(src, index[(cid, ok)], units, t * per)
            if ok < last:
                arc(src, index[(cid, last)], units, (t + costs.breach(j)) * per)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, unit_costs)
    flow.set_nodes_supplies(list(range(len(supplies))), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:  # every job has its unplaced arc: only a cost overflow gets here
        raise RuntimeError(f"assignment flow not solved: {status}")
    where = {node: key for key, node in index.items()}
    sent: dict[str, list[tuple[str, int, int]]] = {}
    ends = [*first_job_arc[1:], len(tails)][: len(first_job_arc)]  # no jobs: no arcs to read
    for j, a, b in zip(jobs, first_job_arc, ends, strict=True):
        sent[j.id] = [(*where[heads[x]], f) for x in range(a + 1, b) if (f := flow.flow(x))]
    return sent


def _shifts_of(
    jobs: Mapping[str, Job],
    sent: Mapping[str, list[tuple[str, int, int]]],
    crews: Mapping[str, CrewPlan],
) -> tuple[dict[str, tuple[str, tuple[tuple[int, int], ...]]], dict[tuple[str, int], int]]:
    """Per job, its crew and the shift indexes its units use, and the slots left per shift:
    each crew's entries earliest deadline first into its earliest free slots. Exact for "no
    later than shift i" entries, and never later than the flow's own shifts (same cost)."""
    per_crew: dict[str, list[tuple[int, datetime, int, str, int]]] = defaultdict(list)
    for jid, parts in sent.items():
        for cid, entry, units in parts:
            j = jobs[jid]
            per_crew[cid].append((entry, j.due_at, -PRIORITY_WEIGHT[j.priority], jid, units))
    out: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {}
    room = {(c.id, i): c.free(i) for c in crews.values() for i in range(len(c.shifts))}
    for cid, entries in per_crew.items():
        cursor = 0
        for _entry, _due, _p, jid, units in sorted(entries):
            used: list[tuple[int, int]] = []
            while units:
                while room[(cid, cursor)] == 0:
                    cursor += 1
                take = min(units, room[(cid, cursor)])
                room[(cid, cursor)] -= take
                units -= take
                used.append((cursor, take))
            out[jid] = (cid, tuple(used))
    return out, room


def assign(
    jobs: Sequence[Job],
    crews: Sequence[CrewPlan],
    travel: TravelFn = straight_line,
) -> Result:
    """Place all `jobs` on `crews` together: fewest predicted breaches, then least travel, no
    shift over its free slots; one explained `Placement` per job, in the jobs' order."""
    ids = [j.id for j in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError("assign: a work order is listed twice")
    crew_by = {c.id: c for c in crews}
    if len(crew_by) != len(crews):
        raise ValueError("assign: a crew is listed twice")
    job_by = {j.id: j for j in jobs}
    options = _options(jobs, crews, travel)
    max_km = max(
        (km or 0.0 for o in options.values() for km in o.travel.values()),
        default=0.0,
    )
    shifts = sum(len(c.shifts) for c in crews)
    costs = _costs(jobs, max_km, 1 + shifts + len(jobs))
    pinned: dict[str, str] = {}
    for _round in range(len(jobs) + 1):
        sent = _solve(jobs, crew_by, options, costs, pinned)
        split = {jid: parts for jid, parts in sent.items() if len({p[0] for p in parts}) > 1}
        if not split:
            break
        for jid, parts in split.items():
            units: dict[str, int] = defaultdict(int)
            for cid, _e, u in parts:
                units[cid] += u
            pinned[jid] = max(sorted(units), key=lambda cid: units[cid])
    where, room = _shifts_of(job_by, sent, crew_by)
    for c in crews:
        total = 0
        for i in range(len(c.shifts)):
            total += room[(c.id, i)]
            room[(c.id, -1 - i)] = total
    placements = tuple(
        _explain(job_by[jid], where.get(jid), options[jid], crew_by, room) for jid in ids
    )
    return Result(
        placements=placements,
        breaches=sum(1 for p in placements if p.breach),
        unplaced=sum(1 for p in placements if p.crew is None),
        travel_km=round(sum(p.travel_km or 0.0 for p in placements), 3),
    )


# -- explanations ---------------------------------------------------------------------------------


def _at(t: datetime) -> str:
    """A time as people read it in an explanation."""
    return t.isoformat(timespec="minutes")


def _km(km: float | None) -> str:
    """A distance as people read it (unknown when a site or base has no coordinates)."""
    return "distance unknown" if km is None else f"{km:.1f} km"


def _room_until(crew: CrewPlan, last: int, room: Mapping[tuple[str, int], int]) -> int:
    """Free slots left, after the run, in the crew's shifts 0..last (`room` also holds the
    running totals under (crew, -1 - i))."""
    return room[(crew.id, -1 - last)]


def _lost(
    job: Job,
    cid: str,
    opts: _Options,
    crews: Mapping[str, CrewPlan],
    room: Mapping[tuple[str, int], int],
    chosen_km: float | None,
    chosen_breach: bool,
) -> str:
    """Why an eligible crew lost to the chosen one."""
    crew = crews[cid]
    km, ok = opts.travel[cid], opts.on_time[cid]
    cost, chosen_cost = _UNIT.travel(km), _UNIT.travel(chosen_km)
    free_on_time = ok >= 0 and _room_until(crew, ok, room) >= job.slots
    if ok < 0 and not chosen_breach:
        return (
            f"late: its first shift ends {_at(crew.shifts[0].end)}, "
            f"after the deadline {_at(job.due_at)}"
        )
    if ok >= 0 and not free_on_time and (chosen_breach or cost <= chosen_cost):
        return (
            f"full before the deadline: its shifts until {_at(crew.shifts[ok].end)} "
            "went to orders with fewer or dearer alternatives"
        )
    if chosen_breach and _room_until(crew, len(crew.shifts) - 1, room) < job.slots:
        return f"full through the horizon ({_at(crew.shifts[-1].end)})"
    if cost > chosen_cost:
        return f"farther: {_km(km)} against {_km(chosen_km)}"
    return f"as good ({_km(km)}): equal cost, the solver kept the other"


def _explain(
    job: Job,
    got: tuple[str, tuple[tuple[int, int], ...]] | None,
    opts: _Options,
    crews: Mapping[str, CrewPlan],
    room: Mapping[tuple[str, int], int],
) -> Placement:
    """One order's placement with the verdict of every crew considered (able ones and near
    misses) and why the chosen crew won."""
    excluded = list(opts.excluded.values())
    if got is None:
        if not opts.travel:
            return Placement(
                order=job.id,
                crew=None,
                shift=None,
                breach=True,
                travel_km=None,
                why=f"no crew can take it: none has {job.skill}, covers {job.site} "
                f"and belongs to {job.partner or SELF}",
                considered=tuple(excluded),
                refusal="no_crew",
                others=opts.others,
            )
        full = [
            CrewVerdict(cid, "lost", f"full through the horizon ({_at(crews[cid].shifts[-1].end)})")
            for cid in opts.travel
        ]
        return Placement(
            order=job.id,
            crew=None,
            shift=None,
            breach=True,
            travel_km=None,
            why=f"no room: every crew able to take it is full through the horizon "
            f"({len(full)} considered); predicted to breach {_at(job.due_at)}",
            considered=tuple(full + excluded),
            refusal="no_room",
            others=opts.others,
        )
    cid, used = got
    crew = crews[cid]
    shifts = tuple(crew.shifts[i] for i, _n in used)
    last = shifts[-1]
    breach = last.end > job.due_at
    km = opts.travel[cid]
    lost = [
        CrewVerdict(
            o,
            "lost",
            _lost(job, o, opts, crews, room, km, breach),
            travel_km=opts.travel[o],
            on_time=opts.on_time[o] >= 0,
        )
        for o in opts.travel
        if o != cid
    ]
    area = ", ".join(sorted(crew.areas & job.coverage))
    when = f"shift {_at(last.start)} to {_at(last.end)}"
    if breach:
        verdict = (
            f"predicted to breach: the earliest room left is {when}, after the deadline "
            f"{_at(job.due_at)}"
        )
    else:
        verdict = f"on time: {when}, by the deadline {_at(job.due_at)}"
    why = (
        f"{cid} has {job.skill}, covers {area}, {_km(km)} away; {verdict}; "
        f"best of {len(lost) + 1} able crews (fewest breaches overall, then least travel)"
    )
    chosen = CrewVerdict(cid, "chosen", why, travel_km=km, on_time=not breach)
    return Placement(
        order=job.id,
        crew=cid,
        shift=last,
        breach=breach,
        travel_km=km,
        why=why,
        considered=(chosen, *lost, *excluded),
        others=opts.others,
        shifts_used=shifts,
        slots_used=tuple(n for _i, n in used),
    )


def check_manual(job: Job, crew: CrewPlan, travel: TravelFn = straight_line) -> Placement:
    """Check a person's choice of `crew` for `job`: the crew's earliest room, or a typed error
    (`CrewNotOwner`, `CrewLacksSkill`, `CrewOutsideArea`, `ShiftOverflow`)."""
    owner = job.partner or SELF
    if crew.owner != owner:
        raise CrewNotOwner(f"{crew.id} cannot take {job.id}", [exclusion(crew, job) or ""])
    if job.skill not in crew.skills:
        raise CrewLacksSkill(f"{crew.id} cannot take {job.id}", [exclusion(crew, job) or ""])
    if not (crew.areas & job.coverage):
        raise CrewOutsideArea(f"{crew.id} cannot take {job.id}", [exclusion(crew, job) or ""])
    used: list[tuple[int, int]] = []
    units = job.slots
    for i in range(len(crew.shifts)):
        if units and crew.free(i):
            take = min(units, crew.free(i))
            units -= take
            used.append((i, take))
    if units:
        free = sum(crew.free(i) for i in range(len(crew.shifts)))
        raise ShiftOverflow(
            f"{crew.id} cannot take {job.id}",
            [
                f"needs {job.slots} slot(s); {free} free in its {len(crew.shifts)} shift(s) "
                f"of {crew.capacity} before the horizon"
            ],
        )
    shifts = tuple(crew.shifts[i] for i, _n in used)
    last = shifts[-1]
    breach = last.end > job.due_at
    km = travel(crew, job)
    state = "predicted to breach" if breach else "on time"
    why = (
        f"assigned by hand to {crew.id}: has {job.skill}, covers "
        f"{', '.join(sorted(crew.areas & job.coverage))}, {_km(km)} away; {state}: "
        f"shift {_at(last.start)} to {_at(last.end)}, deadline {_at(job.due_at)}"
    )
    return Placement(
        order=job.id,
        crew=crew.id,
        shift=last,
        breach=breach,
        travel_km=km,
        why=why,
        considered=(CrewVerdict(crew.id, "chosen", why, travel_km=km, on_time=not breach),),
        shifts_used=shifts,
        slots_used=tuple(n for _i, n in used),
    )
