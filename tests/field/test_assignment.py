"""The assignment optimiser (pure): skills, areas, owners, shift capacity, fewest breaches."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest

from pboss.field.assignment import (
    CrewLacksSkill,
    CrewNotOwner,
    CrewOutsideArea,
    CrewPlan,
    Job,
    Shift,
    ShiftOverflow,
    assign,
    check_manual,
    remaining_capacity,
    shifts_between,
)
from tests.field.first_fit import breaches, first_fit

SUNDAY = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
WEEKDAYS = range(5)


def week(now: datetime = SUNDAY) -> tuple[Shift, ...]:
    """Monday to Friday, 08:00-17:00 UTC, for the week after `now`."""
    return shifts_between(time(8), time(17), WEEKDAYS, [], now, now + timedelta(days=7), UTC)


def crew(
    cid: str,
    skills: set[str],
    areas: set[str],
    capacity: int = 4,
    owner: str = "self",
    at: tuple[float, float] = (31.2, 121.4),
    shifts: tuple[Shift, ...] | None = None,
) -> CrewPlan:
    """A crew with a base at `at` working the standard week."""
    return CrewPlan(
        id=cid,
        owner=owner,
        skills=frozenset(skills),
        areas=frozenset(areas),
        capacity=capacity,
        shifts=week() if shifts is None else shifts,
        lat=at[0],
        lon=at[1],
    )


def job(
    jid: str,
    skill: str = "ftthInstall",
    site: str = "S1",
    region: str = "R1",
    hours: float = 48,
    at: tuple[float, float] = (31.2, 121.4),
    **kw: object,
) -> Job:
    """A job at `site` in `region`, due `hours` after Sunday 09:00."""
    return Job(
        id=jid,
        skill=skill,
        site=site,
        areas=frozenset({region}),
        due_at=SUNDAY + timedelta(hours=hours),
        lat=at[0],
        lon=at[1],
        **kw,  # type: ignore[arg-type]
    )


def test_shifts_follow_working_days_and_days_off() -> None:
    """Mon-Fri 08-17 minus a day off; an overnight shift ends the next day; in-progress prorated."""
    off = [datetime(2026, 12, 8).date()]
    got = shifts_between(time(8), time(17), WEEKDAYS, off, SUNDAY, SUNDAY + timedelta(days=7), UTC)
    assert [s.start.day for s in got] == [7, 9, 10, 11]
    night = shifts_between(time(22), time(6), [6], [], SUNDAY, SUNDAY + timedelta(days=1), UTC)
    assert night == (
        Shift(datetime(2026, 12, 6, 22, tzinfo=UTC), datetime(2026, 12, 7, 6, tzinfo=UTC)),
    )
    monday = got[0]
    assert remaining_capacity(8, monday, monday.start + timedelta(hours=4, minutes=30)) == 4
    assert remaining_capacity(8, monday, SUNDAY) == 8


def test_mstp_order_goes_to_the_sdh_crew_of_its_area() -> None:
    """An MSTP order: the FTTH crew lacks the skill, the other SDH crew covers another region."""
    crews = [
        crew("ftth-r1", {"ftthInstall", "splicing"}, {"R1"}),
        crew("sdh-r2", {"mstpSdh"}, {"R2"}),
        crew("sdh-r1", {"mstpSdh", "splicing"}, {"R1"}, at=(31.3, 121.5)),
    ]
    res = assign([job("WO-1", skill="mstpSdh")], crews)
    p = res.by_order()["WO-1"]
    assert p.crew == "sdh-r1" and not p.breach and p.refusal is None
    verdicts = {v.crew: v for v in p.considered}
    assert verdicts["ftth-r1"].outcome == "excluded" and "skill" in verdicts["ftth-r1"].reason
    assert verdicts["sdh-r2"].outcome == "excluded" and "area" in verdicts["sdh-r2"].reason
    assert verdicts["sdh-r1"].outcome == "chosen" and "on time" in p.why
    assert p.shift == week()[0]


def test_no_skill_or_area_is_a_typed_refusal() -> None:
    """No able crew: the placement refuses with no_crew; a manual choice raises the typed error."""
    crews = [crew("ftth-r1", {"ftthInstall"}, {"R1"}), crew("sdh-r2", {"mstpSdh"}, {"R2"})]
    p = assign([job("WO-1", skill="mstpSdh")], crews).by_order()["WO-1"]
    assert p.crew is None and p.refusal == "no_crew" and p.breach
    assert {v.outcome for v in p.considered} == {"excluded"}
    with pytest.raises(CrewLacksSkill) as e:
        check_manual(job("WO-1", skill="mstpSdh"), crews[0])
    assert e.value.code == "crew_lacks_skill" and "needs mstpSdh" in e.value.reasons[0]
    with pytest.raises(CrewOutsideArea):
        check_manual(job("WO-1", skill="mstpSdh"), crews[1])


def test_manual_assignment_refuses_a_shift_overflow() -> None:
    """A crew whose shifts are all booked refuses; with one free slot it takes the order."""
    shifts = week()[:2]
    full = crew("c", {"repair"}, {"R1"}, capacity=2, shifts=shifts)
    full = CrewPlan(**{**full.__dict__, "booked": (2, 2)})
    with pytest.raises(ShiftOverflow) as e:
        check_manual(job("WO-9", skill="repair"), full)
    assert "0 free" in e.value.reasons[0]
    roomy = CrewPlan(**{**full.__dict__, "booked": (2, 1)})
    p = check_manual(job("WO-9", skill="repair"), roomy)
    assert p.crew == "c" and p.shift == shifts[1] and p.breach


def test_partner_work_goes_to_the_partners_crews_only() -> None:
    """The partner's order skips the nearer operator crew and the other partner's crew."""
    crews = [
        crew("own", {"ftthInstall"}, {"R1"}),
        crew("p2-team", {"ftthInstall"}, {"R1"}, owner="P2"),
        crew("p1-team", {"ftthInstall"}, {"R1"}, owner="P1", at=(31.6, 121.9)),
    ]
    jobs = [job("WO-P", partner="P1"), job("WO-O")]
    res = assign(jobs, crews).by_order()
    assert res["WO-P"].crew == "p1-team"
    assert res["WO-O"].crew == "own"
    reasons = {v.crew: v.reason for v in res["WO-P"].considered}
    assert reasons["own"].startswith("owner") and reasons["p2-team"].startswith("owner")
    with pytest.raises(CrewNotOwner):
        check_manual(job("WO-P", partner="P1"), crews[0])


def test_travel_breaks_ties_and_the_loser_says_farther() -> None:
    """Two able crews with room: the nearer wins; the other lost on distance."""
    crews = [
        crew("far", {"repair"}, {"R1"}, at=(31.9, 121.4)),
        crew("near", {"repair"}, {"R1"}, at=(31.21, 121.4)),
    ]
    p = assign([job("WO-1", skill="repair")], crews).by_order()["WO-1"]
    assert p.crew == "near"
    lost = next(v for v in p.considered if v.crew == "far")
    assert lost.outcome == "lost" and lost.reason.startswith("farther")


def test_first_fit_breaches_where_the_optimiser_does_not() -> None:
    """An order two crews could do arrives first and takes the slot of the only crew the second
    order has; the optimiser
    sends the first to the other, farther crew, and both are on time."""
    shifts = week()
    a = crew("a", {"repair"}, {"R1", "R2"}, capacity=1, shifts=shifts)
    b = crew("b", {"repair"}, {"R2"}, capacity=1, shifts=shifts, at=(31.5, 121.4))
    jobs = [job("loose", skill="repair", region="R2"), job("tight", skill="repair")]
    ff = first_fit(jobs, [a, b])
    assert ff["loose"] == ("a", 0) and breaches(jobs, [a, b], ff) == 1
    res = assign(jobs, [a, b])
    assert res.breaches == 0
    assert res.by_order()["tight"].crew == "a" and res.by_order()["loose"].crew == "b"
    lost = next(v for v in res.by_order()["loose"].considered if v.crew == "a")
    assert lost.reason.startswith("full before the deadline")


def _ftth_hour() -> tuple[list[Job], list[CrewPlan]]:
    """200 FTTH orders arriving in one hour over five regions; two generalist crews listed first,
    two specialists per region R1-R4, none for R0; one on-time shift (Monday) each."""
    rng = random.Random(20)
    crews = [crew(f"gen-{i}", {"ftthInstall"}, {f"R{r}" for r in range(5)}, 20) for i in (1, 2)]
    crews += [
        crew(f"r{r}-{i}", {"ftthInstall"}, {f"R{r}"}, 12) for r in range(1, 5) for i in (1, 2)
    ]
    jobs = []
    for n in range(200):
        r = n % 5
        at = (31.0 + rng.random(), 121.0 + rng.random())
        jobs.append(
            job(f"WO-{n:03}", site=f"S{r}-{n % 7}", region=f"R{r}", hours=48 + rng.random(), at=at)
        )
    rng.shuffle(jobs)
    return jobs, crews


def test_200_ftth_orders_in_an_hour_fewest_breaches_no_crew_over_capacity() -> None:
    """The optimiser reaches the lower bound (200 - 136 on-time slots = 64 breaches) with no
    shift over capacity; first-fit, filling the generalists with orders others could take,
    breaches more."""
    jobs, crews = _ftth_hour()
    res = assign(jobs, crews)
    load = Counter((p.crew, p.shift) for p in res.placements)
    cap = {c.id: c.capacity for c in crews}
    assert all(n <= cap[c] for (c, _s), n in load.items())
    assert res.unplaced == 0
    on_time_slots = 2 * 20 + 8 * 12
    assert res.breaches == 200 - on_time_slots
    ff = breaches(jobs, crews, first_fit(jobs, crews))
    assert ff > res.breaches
    late = [p for p in res.placements if p.breach]
    assert all("predicted to breach" in p.why for p in late)


def test_a_long_job_stays_with_one_crew() -> None:
    """A three-slot job never splits over crews; it may span two shifts of one crew."""
    shifts = week()
    a = crew("a", {"splicing"}, {"R1"}, capacity=2, shifts=shifts)
    b = crew("b", {"splicing"}, {"R1"}, capacity=2, shifts=shifts, at=(31.21, 121.4))
    res = assign([job("big", skill="splicing", slots=3, hours=200)], [a, b])
    p = res.by_order()["big"]
    assert p.crew == "a" and p.shifts_used == shifts[:2] and not p.breach


def test_duplicate_ids_and_bad_jobs_are_refused() -> None:
    """A listing twice, a zero-slot job or an unknown priority is a ValueError, not a guess."""
    c = crew("a", {"repair"}, {"R1"})
    with pytest.raises(ValueError, match="listed twice"):
        assign([job("x"), job("x")], [c])
    with pytest.raises(ValueError, match="slots"):
        job("x", slots=0)
    with pytest.raises(ValueError, match="priority"):
        job("x", priority="urgent")


def test_nothing_to_place_places_nothing() -> None:
    """An empty queue (the demo network has no open work) is an empty answer, not an error."""
    from pboss.field.assignment import assign

    result = assign([], [])
    assert (result.placements, result.breaches, result.unplaced) == ((), 0, 0)
