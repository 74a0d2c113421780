"""Utilisation alarms: capacity running out, raised and cleared as alarms (origin
`utilisation`) through the same code path as the network's (`AssuranceService.apply_alarm`),
so CRM and planners see it before orders fail.

Four measures, each a share of capacity used, read with the stores' aggregate reads that
availability and business resources already use: a PON port's ONT load against its split budget
and a splitter's busy (used or held) outputs against its ratio (`site_view`, one call per site),
a partner pool's used + reserved units against its total (the site view's partner access), and
a trunk section's or partner link's VC-12 slots in use (`transport_links`, one call). The
thresholds are configuration (`[[threshold]]`, `config.py`), per measure and optionally per site:
an alarm is raised at `raise_at` (or its severity updated), cleared below `clear_at`, left as it
is in between. A utilisation alarm never sets its resource faulty (`alarms._set_faulty`). Its id
derives from `utilisation:<measure>:<resource>`, so each measure of each resource is one alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pboss.assurance.alarms import AlarmOp
from pboss.assurance.config import AssuranceConfig, Threshold
from pboss.assurance.model import AlarmState, AlarmType, Severity
from pboss.assurance.service import AssuranceService
from pboss.inventory.errors import PbossError
from pboss.inventory.store import GraphStore

CAUSE = "thresholdCrossed"


@dataclass(frozen=True, slots=True)
class Reading:
    """One measure of one resource: how much of its capacity is used."""

    measure: str
    resource: str
    site: str | None
    used: int
    capacity: int

    @property
    def share(self) -> float:
        """Used over capacity (0 for no capacity)."""
        return self.used / self.capacity if self.capacity > 0 else 0.0

    @property
    def source_id(self) -> str:
        """The alarm's source id: one alarm per measure and resource."""
        return f"utilisation:{self.measure}:{self.resource}"


@dataclass(slots=True)
class SweepReport:
    """What one sweep read and did."""

    readings: int = 0
    raised: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def readings(store: GraphStore) -> list[Reading]:
    """Every measure of every resource, by aggregate reads (a site view per site, one
    transport-links read)."""
    out: list[Reading] = []
    pon: dict[str, tuple[int, int]] = {}
    pools: dict[str, Reading] = {}
    for row in store.scan_nodes("Site"):
        view = store.site_view(str(row["id"]))
        for sv in view.splitters:
            ratio = int(getattr(sv.splitter, "ratio", 0))
            out.append(
                Reading("splitter_fill", sv.splitter.id, sv.splitter.site, sv.busy_ports, ratio)
            )
            if sv.pon_port:
                pon[sv.pon_port] = (sv.pon_load, sv.pon_budget)
        for pa in view.partner_access:
            used = int(getattr(pa, "used", 0)) + int(getattr(pa, "reserved", 0))
            pools[pa.id] = Reading(
                "partner_pool", pa.id, pa.site, used, int(getattr(pa, "total", 0))
            )
    ports = store.get_many(sorted(pon))
    for pid, (load, budget) in sorted(pon.items()):
        el = ports.get(pid)
        out.append(Reading("pon_split", pid, el.site if el else None, load, budget))
    out.extend(pools[k] for k in sorted(pools))
    for link in store.transport_links():
        cap = int(getattr(link.link, "capacity_vc12", 0))
        out.append(Reading("trunk_vc12", link.link.id, link.link.site, len(link.used_slots), cap))
    return out


def _severity(t: Threshold) -> Severity:
    return Severity(t.severity)


def plan(
    found: list[Reading], raised: dict[str, Severity], cfg: AssuranceConfig, now: datetime
) -> list[AlarmOp]:
    """The raises and clears that bring the utilisation alarms in line with the readings:
    `raised` maps the source id of each raised utilisation alarm to its severity."""
    ops: list[AlarmOp] = []
    seen: set[str] = set()
    for r in found:
        seen.add(r.source_id)
        t = cfg.threshold(r.measure, r.site)
        op = {
            "resource": r.resource, "alarm_type": AlarmType.QUALITY_OF_SERVICE,
            "probable_cause": CAUSE, "at": now, "source_alarm_id": r.source_id,
            "origin": "utilisation",
            "specific_problem": f"{r.measure} {r.used}/{r.capacity} ({r.share:.0%})",
        }  # fmt: skip
        current = raised.get(r.source_id)
        if t is not None and r.capacity > 0 and r.share >= t.raise_at:
            if current != _severity(t):
                ops.append(AlarmOp("raise", severity=_severity(t), **op))  # type: ignore[arg-type]
        elif current is not None and (t is None or r.capacity <= 0 or r.share < t.clear_at):
            ops.append(AlarmOp("clear", **op))  # type: ignore[arg-type]
    return ops


def stale_clears(
    raised: dict[str, tuple[str, Severity]], seen: set[str], now: datetime
) -> list[AlarmOp]:
    """Clears for raised utilisation alarms whose resource no longer gives a reading (removed,
    or no longer of the measure's kind)."""
    return [
        AlarmOp(
            "clear",
            resource,
            AlarmType.QUALITY_OF_SERVICE,
            CAUSE,
            now,
            source_alarm_id=sid,
            origin="utilisation",
        )
        for sid, (resource, _) in sorted(raised.items())
        if sid not in seen
    ]


class UtilisationSweep:
    """Reads the measures and raises or clears utilisation alarms through the service."""

    def __init__(self, service: AssuranceService):
        self.service = service

    def sweep(self, *, actor: str = "pboss:utilisation") -> SweepReport:
        """One pass over every measure; each change its own transaction."""
        svc = self.service
        now = svc.clock()
        found = readings(svc.store)
        current = {
            a.source_alarm_id: (a.resource, a.severity)
            for a in svc.raised_alarms(origin="utilisation")
            if a.source_alarm_id and a.state == AlarmState.RAISED
        }
        ops = plan(found, {k: Severity(v[1]) for k, v in current.items()}, svc.config, now)
        ops += stale_clears(current, {r.source_id for r in found}, now)
        report = SweepReport(readings=len(found))
        for op, result in zip(ops, svc.apply_alarms(ops, actor=actor), strict=True):
            if isinstance(result, PbossError):
                report.failed.append(f"{op.resource}: {result}")
            elif result.outcome == "raised":
                report.raised.append(op.resource)
            elif result.outcome == "updated":
                report.updated.append(op.resource)
            elif result.outcome == "cleared":
                report.cleared.append(op.resource)
        return report
