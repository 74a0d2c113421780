"""A naive first-fit assignment: the baseline the optimiser must never do worse than."""

from __future__ import annotations

from collections.abc import Sequence

from pboss.field.assignment import CrewPlan, Job, exclusion


def first_fit(jobs: Sequence[Job], crews: Sequence[CrewPlan]) -> dict[str, tuple[str, int] | None]:
    """Each job in turn to the first able crew (list order) in its earliest shift with room:
    job id -> (crew id, shift index), or None when no able crew has room in the horizon."""
    booked = {c.id: [c.capacity - c.free(i) for i in range(len(c.shifts))] for c in crews}
    out: dict[str, tuple[str, int] | None] = {}
    for j in jobs:
        out[j.id] = None
        for c in crews:
            if exclusion(c, j) is not None:
                continue
            room = [i for i in range(len(c.shifts)) if c.capacity - booked[c.id][i] >= j.slots]
            if room:
                booked[c.id][room[0]] += j.slots
                out[j.id] = (c.id, room[0])
                break
    return out


def breaches(
    jobs: Sequence[Job], crews: Sequence[CrewPlan], placed: dict[str, tuple[str, int] | None]
) -> int:
    """How many of first-fit's placements finish after their deadline (unplaced ones count)."""
    by = {c.id: c for c in crews}
    n = 0
    for j in jobs:
        got = placed[j.id]
        if got is None or by[got[0]].shifts[got[1]].end > j.due_at:
            n += 1
    return n
