"""The statistics reports (the talk's 统计报表): utilisation, take-up, partner usage, SLA
attainment and open work by age, each from one or a few aggregate reads, each also as CSV.

A report is a header and rows of plain values, so the API, the console and a CSV download show
the same figures. Time comes from the caller (`now`), so tests pin it.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from pboss.field.kpis import closed_jobs, month_window
from pboss.inventory.reports import check_utilisation_kind
from pboss.inventory.store import GraphStore

#: Open work orders' age buckets, in hours: [0, 24), [24, 48), [48, 72), [72, ...).
AGE_BUCKETS: tuple[int, ...] = (24, 48, 72)
#: Work-order states that are still open.
OPEN_STATES = ("open", "held")
#: Most open work orders `open_work_by_age` reads.
OPEN_WORK_LIMIT = 200_000


@dataclass(frozen=True)
class Report:
    """A report: its name, column names and rows (plain values, in column order)."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def csv(self) -> str:
        """The report as CSV text (a header line, then one line per row)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(("" if v is None else v for v in row) for row in self.rows)
        return out.getvalue()


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def utilisation(
    store: GraphStore, kind: str, site: str | None = None, min_share: float = 0.0
) -> Report:
    """Resources of one kind (at one site or all), fullest first, at or above `min_share`."""
    rows = [
        r for r in store.utilisation(check_utilisation_kind(kind), site) if r.share >= min_share
    ]
    rows.sort(key=lambda r: (-r.share, r.id))
    return Report(
        f"utilisation-{kind}",
        ("id", "kind", "name", "site", "owner", "capacity", "used", "held", "free", "share"),
        [
            (
                r.id,
                r.kind,
                r.name,
                r.site,
                r.owner,
                r.capacity,
                r.used,
                r.held,
                max(r.capacity - r.taken, 0),
                round(r.share, 4),
            )
            for r in rows
        ],
    )


def take_up(store: GraphStore, region: str | None = None) -> Report:
    """Households passed against connected, per building and estate (by site id)."""
    rows = [r for r in store.take_up() if region in (None, r.region)]
    return Report(
        "take-up",
        ("site", "name", "site_type", "region", "households", "connected", "take_up"),
        [
            (r.site, r.name, r.site_type, r.region, r.households, r.connected, round(r.take_up, 4))
            for r in rows
        ],
    )


def partner_usage(store: GraphStore) -> Report:
    """Per partner: its links (lines and VC-12 carried, held, capacity) and its pools
    (households served against the pools' size)."""
    acc: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in store.utilisation("PartnerLink"):
        a = acc[r.owner]
        a["links"] += 1
        a["lines"] += r.users
        a["vc12_used"] += r.used
        a["vc12_held"] += r.held
        a["vc12_capacity"] += r.capacity
    for r in store.utilisation("PartnerAccess"):
        a = acc[r.owner]
        a["pools"] += 1
        a["households"] += r.used
        a["pool_reserved"] += r.held
        a["pool_capacity"] += r.capacity
    cols = ("links", "lines", "vc12_used", "vc12_held", "vc12_capacity", "pools", "households",
            "pool_reserved", "pool_capacity")  # fmt: skip
    return Report(
        "partner-usage",
        ("partner", *cols),
        [(p, *(acc[p][c] for c in cols)) for p in sorted(acc) if p != "self"],
    )


def sla_attainment(store: GraphStore, month: str) -> Report:
    """Per product and partner (`self` for own crews): work closed in the month, done on time,
    late, failed, and the attainment rate."""
    start, end = month_window(month)
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for job in closed_jobs(store, start, end):
        a = acc[(job.product or "(none)", job.partner)]
        a[0] += 1
        a[1] += job.on_time
        a[2] += job.done and not job.on_time
        a[3] += not job.done
    return Report(
        f"sla-attainment-{month}",
        ("product", "partner", "closed", "on_time", "late", "failed", "attainment"),
        [(p, who, *a, _share(a[1], a[0])) for (p, who), a in sorted(acc.items())],
    )


def open_work_by_age(store: GraphStore, now: datetime) -> Report:
    """Open work orders counted by purpose, assignee and age bucket (hours since created),
    with how many are in jeopardy or breached."""
    ids = store.due_ids(
        "WorkOrder", states=OPEN_STATES, time_field="created_at", until=None, limit=OPEN_WORK_LIMIT
    )
    labels = _bucket_labels(AGE_BUCKETS)
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (len(labels) + 2))
    for chunk in _chunks(ids, 2000):
        for wo in store.get_many(chunk).values():
            w: Any = wo
            age = (now - w.created_at).total_seconds() / 3600
            a = acc[(str(w.purpose), w.assignee)]
            a[sum(age >= b for b in AGE_BUCKETS)] += 1
            a[-2] += bool(w.jeopardy)
            a[-1] += bool(w.breached)
    return Report(
        "open-work-by-age",
        ("purpose", "assignee", *labels, "jeopardy", "breached"),
        [(p, who, *a) for (p, who), a in sorted(acc.items())],
    )


def _bucket_labels(bounds: Sequence[int]) -> list[str]:
    edges = [0, *bounds]
    return [f"{lo}-{hi}h" for lo, hi in pairwise(edges)] + [f"{bounds[-1]}h+"]


def _chunks(ids: Sequence[str], size: int) -> list[Sequence[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
