"""Utilisation alarms: capacity running out, raised and cleared as alarms (origin
`utilisation`) through the same code path as the network's (`AssuranceService.apply_alarm`),
so CRM and planners see it before orders fail.

Four measures, each a share of capacity taken, read with the statistics reports' aggregate reads
(`GraphStore.utilisation`, one per kind, the site view's occupancy rules): a PON port's ONTs and
held outputs against its split budget, a splitter's used or held outputs against its outputs, a
partner pool's used + reserved units against its total, and a trunk section's or partner link's
VC-12 slots carried or held against its capacity. The
thresholds are configuration (`[[threshold]]`, `config.py`), per measure and optionally per site:
an alarm is raised at `raise_at` (or its severity updated), cleared below `clear_at`, left as it
is in between. A utilisation alarm never sets its resource faulty (`alarms._set_faulty`). Its id
derives from `utilisation:<measure>:<resource>`, so each measure of each resource is one alarm.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from pboss.assurance.alarms import AlarmOp
from pboss.assurance.config import AssuranceConfig, Threshold
from pboss.assurance.model import AlarmState, AlarmType, Severity
from pboss.assurance.service import AssuranceService
from pboss.inventory.errors import PbossError
from pboss.inventory.store import GraphStore

CAUSE = "thresholdCrossed"
log = logging.getLogger(__name__)


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


#: Which utilisation report each measure reads (`GraphStore.utilisation`, one aggregate read each).
MEASURE_KINDS: tuple[tuple[str, str], ...] = (
    ("splitter_fill", "Splitter"),
    ("pon_split", "PonPort"),
    ("partner_pool", "PartnerAccess"),
    ("trunk_vc12", "TrunkSection"),
    ("trunk_vc12", "PartnerLink"),
)


def readings(store: GraphStore) -> list[Reading]:
    """Every measure of every resource: five aggregate reads (`GraphStore.utilisation`, the
    statistics reports' own), each resource's taken units (used or held) against its capacity."""
    return [
        Reading(measure, row.id, row.site, row.taken, row.capacity)
        for measure, kind in MEASURE_KINDS
        for row in store.utilisation(kind)
    ]


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


class UtilisationSweeper:
    """This process's periodic utilisation sweep, on its own thread; `stop()` ends it."""

    def __init__(self, sweep: UtilisationSweep, interval: float):
        self.sweep = sweep
        self.interval = interval
        self.last: SweepReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pboss-utilisation", daemon=True)

    def start(self) -> UtilisationSweeper:
        """Sweep every `interval` seconds, the first one an interval after start-up (so a start
        does not race the start-up load)."""
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.last = self.sweep.sweep()
            except Exception:  # a store hiccup must not kill the sweeper; try next round
                log.exception("utilisation sweep failed")

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end and wait for it."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)


def start_utilisation_sweeper(
    service: AssuranceService, interval: float
) -> UtilisationSweeper | None:
    """Start the periodic sweep, or None when `interval` is 0 (sweeps only on request)."""
    return UtilisationSweeper(UtilisationSweep(service), interval).start() if interval > 0 else None
