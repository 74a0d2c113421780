"""Field KPIs and partner scorecards, per crew, partner, product and month (the talk judges
partners' service quality).

For the work orders closed in a month (done or failed): the on-time rate against each job's SLA,
median and p90 hours to complete (time held for the customer not counted), the first-time-right
rate (no trouble ticket for the same customer within 30 days of completion), jobs per shift (per
crew and partner, from the crews' calendars) and the average customer rating. Computed from a few
reads: the month's work orders (`GraphStore.records`), the tickets opened since it began, and the
orders, repair tickets and crews they name (`get_many`), never element by element.
"""

from __future__ import annotations

import calendar
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pboss.inventory.store import GraphStore

GroupBy = Literal["crew", "partner", "product"]
#: A repeat ticket within this many days of completion spoils first-time-right.
REPEAT_WINDOW = timedelta(days=30)
#: Work states that close a job.
CLOSED_STATES = ("done", "failed")
#: How a partner's scorecard weighs on-time, first-time-right and rating (out of 100).
SCORE_WEIGHTS = {"on_time": 50.0, "first_time_right": 30.0, "rating": 20.0}


@dataclass(frozen=True)
class Job:
    """One closed work order as the KPIs see it."""

    id: str
    crew: str | None
    partner: str
    product: str | None
    done: bool
    on_time: bool
    hours: float | None
    customer: str | None
    completed_at: datetime | None
    rating: int | None
    ticket: str | None = None


@dataclass
class KpiRow:
    """The KPIs of one group (a crew, a partner or a product) in one month."""

    key: str
    month: str
    jobs: int = 0
    done: int = 0
    on_time: int = 0
    first_time_right: int = 0
    hours: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    shifts: int | None = None

    @property
    def on_time_rate(self) -> float | None:
        """Share of closed jobs done within their SLA."""
        return self.on_time / self.jobs if self.jobs else None

    @property
    def first_time_right_rate(self) -> float | None:
        """Share of done jobs with no repeat ticket within 30 days."""
        return self.first_time_right / self.done if self.done else None

    @property
    def median_hours(self) -> float | None:
        """Median hours to complete a done job."""
        return statistics.median(self.hours) if self.hours else None

    @property
    def p90_hours(self) -> float | None:
        """90th percentile of hours to complete (nearest rank)."""
        if not self.hours:
            return None
        ordered = sorted(self.hours)
        return ordered[max(0, -(-9 * len(ordered) // 10) - 1)]

    @property
    def jobs_per_shift(self) -> float | None:
        """Done jobs per shift worked (crews and partners only)."""
        return self.done / self.shifts if self.shifts else None

    @property
    def average_rating(self) -> float | None:
        """Mean customer rating (1-5) of the rated jobs."""
        return statistics.fmean(self.ratings) if self.ratings else None

    @property
    def score(self) -> float | None:
        """A partner scorecard's score out of 100: on-time, first-time-right and rating weighed
        by `SCORE_WEIGHTS` (a missing part counts as the mean of the others)."""
        parts = {
            "on_time": self.on_time_rate,
            "first_time_right": self.first_time_right_rate,
            "rating": (self.average_rating - 1) / 4 if self.average_rating is not None else None,
        }
        known = {k: v for k, v in parts.items() if v is not None}
        if not known:
            return None
        total = sum(SCORE_WEIGHTS[k] * v for k, v in known.items())
        return round(100 * total / sum(SCORE_WEIGHTS[k] for k in known), 1)


def month_window(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of `YYYY-MM`, in UTC."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, not {month!r}") from None
    days = calendar.monthrange(start.year, start.month)[1]
    return start, start + timedelta(days=days)


def _when(raw: Any) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) and raw else None


def shifts_in(crew: Mapping[str, Any], start: datetime, end: datetime) -> int:
    """Working days of a crew between two instants (its work days, not its days off)."""
    days = set(crew.get("work_days") or (1, 2, 3, 4, 5, 6))
    off = set(crew.get("days_off") or ())
    day: date = start.date()
    n = 0
    while day < end.date():
        n += day.isoweekday() in days and day.isoformat() not in off
        day += timedelta(days=1)
    return n


def closed_jobs(store: GraphStore, start: datetime, end: datetime) -> list[Job]:
    """The work orders closed in [start, end), each with its customer (from its order or its
    ticket: two batched reads)."""
    rows = [
        r
        for r in store.records("WorkOrder", time_field="completed_at", since=start, until=end)
        if r.get("state") in CLOSED_STATES
    ]
    orders = store.get_many(sorted({r["order"] for r in rows if r.get("order")}))
    tickets = store.get_many(sorted({r["ticket"] for r in rows if r.get("ticket")}))
    jobs = []
    for r in rows:
        created, completed, due = (
            _when(r.get(k)) for k in ("created_at", "completed_at", "due_at")
        )
        source = orders.get(r.get("order") or "") or tickets.get(r.get("ticket") or "")
        done = r.get("state") == "done"
        hours = None
        if done and created and completed:
            hours = (
                (completed - created).total_seconds() - float(r.get("paused_seconds") or 0)
            ) / 3600
        jobs.append(
            Job(
                id=r["id"],
                crew=r.get("crew"),
                partner=r["assignee"] if r.get("assignee_type") == "partner" else "self",
                product=r.get("product"),
                done=done,
                on_time=bool(done and completed and due and completed <= due),
                hours=max(hours, 0.0) if hours is not None else None,
                customer=getattr(source, "customer", None),
                completed_at=completed,
                rating=r.get("rating"),
                ticket=r.get("ticket"),
            )
        )
    return jobs


def repeat_tickets(
    store: GraphStore, start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, str]]]:
    """Tickets opened from `start` to 30 days after `end`, by customer: (opened at, id)."""
    out: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for t in store.records(
        "TroubleTicket", time_field="opened_at", since=start, until=end + REPEAT_WINDOW
    ):
        at = _when(t.get("opened_at"))
        if t.get("customer") and at:
            out[t["customer"]].append((at, t["id"]))
    return out


def first_time_right(job: Job, tickets: Mapping[str, Sequence[tuple[datetime, str]]]) -> bool:
    """True when no other ticket for the job's customer was opened within 30 days after it."""
    if not job.done or job.completed_at is None:
        return False
    if job.customer is None:
        return True
    until = job.completed_at + REPEAT_WINDOW
    return not any(
        job.completed_at < at <= until and tid != job.ticket
        for at, tid in tickets.get(job.customer, ())
    )


def kpis(store: GraphStore, month: str, group_by: GroupBy) -> list[KpiRow]:
    """The month's KPIs per crew, partner or product, by key."""
    start, end = month_window(month)
    jobs = closed_jobs(store, start, end)
    tickets = repeat_tickets(store, start, end)
    rows: dict[str, KpiRow] = {}
    for job in jobs:
        key = {"crew": job.crew, "partner": job.partner, "product": job.product}[group_by]
        row = rows.setdefault(key or "(none)", KpiRow(key=key or "(none)", month=month))
        _count(row, job, tickets)
    if group_by != "product":
        _add_shifts(store, rows, group_by, start, end)
    return [rows[k] for k in sorted(rows)]


def _count(row: KpiRow, job: Job, tickets: Mapping[str, Sequence[tuple[datetime, str]]]) -> None:
    row.jobs += 1
    row.on_time += job.on_time
    if job.done:
        row.done += 1
        row.first_time_right += first_time_right(job, tickets)
        if job.hours is not None:
            row.hours.append(job.hours)
    if job.rating is not None:
        row.ratings.append(int(job.rating))


def _add_shifts(
    store: GraphStore, rows: Mapping[str, KpiRow], group_by: GroupBy, start: datetime, end: datetime
) -> None:
    """Shifts worked in the month: a crew's calendar, or the sum over a partner's crews."""
    crews = list(store.scan_nodes("Crew"))
    for crew in crews:
        key = crew["id"] if group_by == "crew" else crew.get("owner", "self")
        if key in rows:
            rows[key].shifts = (rows[key].shifts or 0) + shifts_in(crew, start, end)


def scorecards(store: GraphStore, month: str) -> list[KpiRow]:
    """Each partner's KPIs with its score, best first (the operator's own crews as `self`)."""
    rows = kpis(store, month, "partner")
    return sorted(rows, key=lambda r: (-(r.score or 0.0), r.key))
