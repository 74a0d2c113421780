"""The repair service: dispatch, resolution, the assurance SLA sweep and incident reads, and the
sweeper thread one process runs.

Each step is one store transaction (`dispatch`, `resolution`, `sla_watch`), its events emitted in
it. Time comes from one injectable clock (tests move it). The sweep converges what other
processes and other steps left: an active incident with no open repair work (new, re-opened) or
whose suspect moved to a resource of another owner is dispatched; one whose work order was
completed (the field app) is resolved; a lone open ticket is dispatched or resolved the same way;
then each dispatched record raises the SLA alerts it is due. Every item locks and re-checks, so
several processes sweeping act once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pboss.assurance import dispatch, resolution, sla_watch
from pboss.assurance.dispatch import OPEN_WORK, RepairOutcome, owner, target_for
from pboss.assurance.incidents import release_incident
from pboss.assurance.model import (
    ACTIVE_INCIDENT_STATES,
    OPEN_TICKET_STATES,
    Incident,
    IncidentState,
    TroubleTicket,
)
from pboss.assurance.repair_errors import RepairRefused
from pboss.assurance.repair_sla import ESCALATION_STEP
from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.errors import NotFound
from pboss.inventory.results import Rider, RiderTotals
from pboss.inventory.store import GraphStore
from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.model import OPEN_WORK_STATES, WorkOrder, WorkOrderState

log = logging.getLogger(__name__)

#: Who the sweep acts as in histories.
SWEEPER = "pboss-repair"
#: Most incidents (and most open tickets) one sweep looks at, oldest first.
SWEEP_BATCH = 5000
#: Most incidents one listing reads.
MAX_LISTED = 10000


@dataclass
class RepairSweepReport:
    """What one sweep did, by record id."""

    dispatched: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    alerted: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents a listing shows (each given filter must match)."""

    states: tuple[str, ...] = ()
    site: str | None = None
    resource: str | None = None
    partner: str | None = None
    priority: str | None = None

    def matches(self, inc: Incident, assignee_partner: str | None) -> bool:
        """True when the incident passes every given filter."""
        return (
            (not self.states or str(inc.state) in self.states)
            and (self.site is None or self.site in inc.sites)
            and (self.resource is None or self.resource == inc.suspected)
            and (
                self.partner is None
                or self.partner in inc.partners
                or self.partner == assignee_partner
            )
            and (self.priority is None or str(inc.priority) == self.priority)
        )


#: Riders read per page for an incident's impact, and at most in all (for the premium first list).
IMPACT_PAGE = 1000
IMPACT_SCAN = 5000
#: SLA tiers from the most demanding; others after.
TIER_ORDER = ("platinum", "gold", "standard")


def tier_rank(tier: str | None) -> int:
    """Sort rank of an SLA tier: platinum, gold, standard, then anything else."""
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER)


@dataclass(frozen=True)
class IncidentRow:
    """An incident with its repair work order and the owner of the resource it suspects."""

    incident: Incident
    work_order: WorkOrder | None
    suspect_owner: str | None

    @property
    def partner(self) -> str | None:
        """The partner the repair went to, if it did."""
        wo = self.work_order
        return wo.assignee if wo is not None and wo.assignee_type == "partner" else None

    def concerns_partner(self, partner: str) -> bool:
        """True when the incident is on the partner's resource or its repair went to it."""
        return self.partner == partner or self.suspect_owner == partner


@dataclass(frozen=True)
class IncidentImpact:
    """Who an incident affects: totals, and riders premium tiers first."""

    totals: RiderTotals
    riders: list[Rider]
    complete: bool


def _release_evidence(tx: GraphTx, incident_id: str) -> None:
    """Correlation gives back the resolved incident's evidence (its tallies), so later tickets
    on the same path open a new incident rather than join a repaired one."""
    release_incident(tx, incident_id)


class RepairService:
    """Repair work of incidents and lone tickets against one store, catalog and clock."""

    def __init__(
        self,
        store: GraphStore,
        catalog: Catalog | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        before_resolve: resolution.BeforeResolve | None = None,
    ):
        self.store = store
        self.catalog = catalog or getattr(store, "catalog", None) or default_catalog()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.before_resolve = before_resolve or _release_evidence

    def _run(self, work: Callable[[GraphTx], RepairOutcome], reason: str) -> RepairOutcome:
        def logged(tx: GraphTx) -> RepairOutcome:
            out = work(tx)
            for event in out.events:
                tx.emit(event)
            return out

        return self.store.transact(logged, actor=SWEEPER, reason=reason)

    # ---- steps ----------------------------------------------------------------------------------

    def dispatch_incident(self, incident_id: str, actor: str = SWEEPER) -> WorkOrder:
        """Dispatch (or re-dispatch after a re-point) an incident's repair; its work order."""
        now, cat = self.clock(), self.catalog
        return self._run(
            lambda tx: dispatch.dispatch_incident(
                tx, incident_id, catalog=cat, now=now, actor=actor
            ),
            "dispatch incident",
        ).value

    def dispatch_ticket(self, ticket_id: str, actor: str = SWEEPER) -> WorkOrder:
        """Dispatch a lone ticket's repair; its work order."""
        now, cat = self.clock(), self.catalog
        return self._run(
            lambda tx: dispatch.dispatch_ticket(tx, ticket_id, catalog=cat, now=now, actor=actor),
            "dispatch ticket",
        ).value

    def resolve_incident(
        self, incident_id: str, *, actor: str, note: str = "", partner: str | None = None
    ) -> Incident:
        """Resolve an incident with its tickets and work order (a partner: only its own)."""
        now = self.clock()
        return self._run(
            lambda tx: resolution.resolve_incident(
                tx,
                incident_id,
                now=now,
                actor=actor,
                note=note,
                partner=partner,
                before=self.before_resolve,
            ),
            "resolve incident",
        ).value

    def close_incident(self, incident_id: str, *, actor: str, note: str = "") -> Incident:
        """Close a resolved incident and its resolved tickets."""
        now = self.clock()
        return self._run(
            lambda tx: resolution.close_incident(tx, incident_id, now=now, actor=actor, note=note),
            "close incident",
        ).value

    def complete_work_order(
        self, work_order_id: str, *, actor: str, note: str = "", partner: str | None = None
    ) -> Any:
        """The repair is done: resolve what the work order was for (incident or lone ticket)."""
        wo = self.store.get(work_order_id)
        if not isinstance(wo, WorkOrder):
            raise NotFound(work_order_id, "WorkOrder")
        if wo.purpose != "repair":
            raise RepairRefused(f"work order {wo.id} is {wo.purpose} work", ["not a repair"])
        why = note or f"repair work order {wo.id} completed"
        if wo.incident:
            return self.resolve_incident(wo.incident, actor=actor, note=why, partner=partner)
        now = self.clock()
        return self._run(
            lambda tx: resolution.resolve_ticket_repair(
                tx, str(wo.ticket), now=now, actor=actor, note=why, partner=partner
            ),
            "resolve ticket",
        ).value

    # ---- reads ----------------------------------------------------------------------------------

    def incident(self, incident_id: str) -> Incident:
        """One incident (NotFound if none)."""
        inc = self.store.get(incident_id)
        if not isinstance(inc, Incident):
            raise NotFound(incident_id, "Incident")
        return inc

    def rows(self, incidents: list[Incident]) -> list[IncidentRow]:
        """Incidents with their repair work orders and their suspects' owners (two reads)."""
        related = self.store.get_many(
            sorted(
                {
                    *(i.suspected for i in incidents),
                    *(i.work_order for i in incidents if i.work_order),
                }
            )
        )
        out: list[IncidentRow] = []
        for inc in incidents:
            wo = related.get(inc.work_order) if inc.work_order else None
            suspect = related.get(inc.suspected)
            out.append(
                IncidentRow(
                    inc,
                    wo if isinstance(wo, WorkOrder) else None,
                    suspect.owner if suspect is not None else None,
                )
            )
        return out

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]:
        """Incidents passing the filter with their repair work orders, newest first (at most
        MAX_LISTED per listing, read by state from the store's state index)."""
        states = list(where.states) or [s.value for s in IncidentState]
        ids = self.store.due_ids(
            "Incident", states=states, time_field="created_at", until=None, limit=MAX_LISTED
        )
        found = self.store.get_many(ids)
        incs = [i for i in (found.get(x) for x in ids) if isinstance(i, Incident)]
        out = [r for r in self.rows(incs) if where.matches(r.incident, r.partner)]
        out.sort(key=lambda r: (r.incident.created_at, r.incident.id), reverse=True)
        return out

    def impact(self, incident: Incident, listed: int) -> IncidentImpact:
        """The riders of the suspected resource: totals by product and SLA tier, and the first
        `listed` riders with the premium tiers first (read over at most IMPACT_SCAN riders)."""
        first = self.store.riders([incident.suspected], first=IMPACT_PAGE)
        rows = list(first.items)
        cursor = first.next_cursor
        while cursor is not None and len(rows) < IMPACT_SCAN:
            page = self.store.riders([incident.suspected], first=IMPACT_PAGE, after=cursor)
            rows.extend(page.items)
            cursor = page.next_cursor
        ranked = sorted(
            rows,
            key=lambda r: (tier_rank(getattr(r.customer, "sla_tier", None)), r.service.id),
        )
        return IncidentImpact(first.totals, ranked[:listed], complete=cursor is None)

    # ---- the sweep ------------------------------------------------------------------------------

    def sweep(self, now: datetime | None = None) -> RepairSweepReport:
        """Dispatch, resolve and alert what is due; safe to run in many processes at once."""
        report = RepairSweepReport()
        self._sweep_incidents(report, now)
        self._sweep_tickets(report, now)
        self._sweep_orphans(report)
        return report

    def _step(self, report_to: list[str], record_id: str, work: Callable[[], Any]) -> None:
        """Run one sweep step; a record gone or changed meanwhile is left for the next sweep."""
        try:
            out = work()
        except (NotFound, RepairRefused) as exc:
            log.info("repair sweep skipped %s: %s", record_id, exc)
            return
        if out is None or getattr(out, "changed", True):
            report_to.append(record_id)

    def _sweep_incidents(self, report: RepairSweepReport, now: datetime | None) -> None:
        active = [s.value for s in ACTIVE_INCIDENT_STATES]
        ids = self.store.due_ids(
            "Incident", states=active, time_field="created_at", until=None, limit=SWEEP_BATCH
        )
        incs = [i for i in self.store.get_many(ids).values() if isinstance(i, Incident)]
        related = self.store.get_many(
            sorted({*(i.suspected for i in incs), *(i.work_order for i in incs if i.work_order)})
        )
        at = now or self.clock()
        for inc in sorted(incs, key=lambda i: i.id):
            wo = related.get(inc.work_order) if inc.work_order else None
            wo = wo if isinstance(wo, WorkOrder) else None
            if wo is not None and wo.state == WorkOrderState.DONE:
                self._step(
                    report.resolved,
                    inc.id,
                    lambda inc=inc, wo=wo: self.resolve_incident(
                        inc.id, actor=SWEEPER, note=f"repair work order {wo.id} completed"
                    ),
                )
                continue
            target = target_for(related.get(inc.suspected), inc.sites)
            if wo is None or wo.state not in OPEN_WORK or owner(wo) != target.owner:
                self._step(
                    report.dispatched, inc.id, lambda inc=inc: self.dispatch_incident(inc.id)
                )
            elif not dispatch.settled(inc):  # tickets joined or it was re-pointed: refresh
                self._step([], inc.id, lambda inc=inc: self.dispatch_incident(inc.id))
            elif not self._maybe_due(
                inc.due_at, inc.jeopardy, inc.breached, inc.escalation, wo, at
            ):
                continue
            self._watch(report, inc.id, sla_watch.watch_incident, now)

    def _sweep_tickets(self, report: RepairSweepReport, now: datetime | None) -> None:
        states = [s.value for s in OPEN_TICKET_STATES]
        ids = self.store.due_ids(
            "TroubleTicket", states=states, time_field="opened_at", until=None, limit=SWEEP_BATCH
        )
        lone = [
            t
            for t in self.store.get_many(ids).values()
            if isinstance(t, TroubleTicket) and not t.incident
        ]
        wos = self.store.get_many([t.work_order for t in lone if t.work_order])
        at = now or self.clock()
        for t in sorted(lone, key=lambda t: t.id):
            wo = wos.get(t.work_order) if t.work_order else None
            wo = wo if isinstance(wo, WorkOrder) else None
            if wo is not None and wo.state == WorkOrderState.DONE:
                self._step(
                    report.resolved,
                    t.id,
                    lambda wo=wo: self.complete_work_order(wo.id, actor=SWEEPER),
                )
                continue
            if wo is None or wo.state not in OPEN_WORK:
                self._step(report.dispatched, t.id, lambda t=t: self.dispatch_ticket(t.id))
            elif not self._maybe_due(
                t.due_at, t.jeopardy, t.breached, wo.escalation if wo else 0, wo, at
            ):
                continue
            self._watch(report, t.id, sla_watch.watch_ticket, now)

    def _sweep_orphans(self, report: RepairSweepReport) -> None:
        """Cancel open repair work orders whose incident or ticket no longer needs them."""
        ids = self.store.due_ids(
            "WorkOrder", states=OPEN_WORK_STATES, time_field="due_at", until=None, limit=SWEEP_BATCH
        )
        wos = [
            w
            for w in self.store.get_many(ids).values()
            if isinstance(w, WorkOrder) and w.purpose == "repair"
        ]
        bearers = self.store.get_many(sorted({str(w.incident or w.ticket) for w in wos}))
        now = self.clock()
        for wo in sorted(wos, key=lambda w: w.id):
            bearer = bearers.get(str(wo.incident or wo.ticket))
            typed = bearer if isinstance(bearer, (Incident, TroubleTicket)) else None
            if dispatch.orphaned(wo, typed) is None:
                continue
            self._step(
                report.cancelled,
                wo.id,
                lambda wo=wo: self._run(
                    lambda tx: dispatch.cancel_orphan(tx, wo.id, now=now, actor=SWEEPER),
                    "cancel repair",
                ),
            )

    def _maybe_due(
        self,
        due_at: datetime | None,
        jeopardy: bool,
        breached: bool,
        escalation: int,
        wo: WorkOrder | None,
        now: datetime,
    ) -> bool:
        """A cheap, conservative check before the locked one: False only when no SLA alert can
        be due yet on a calendar clock (the work order keeps the term's product and tier)."""
        if due_at is None or wo is None:
            return due_at is not None
        rule = self.catalog.sla_for(
            "repair", wo.product, wo.sla_tier, wo.assignee_type == "partner"
        )
        if rule.clock != "calendar":
            return True
        budget = timedelta(hours=rule.hours)
        due, now = utc(due_at), utc(now)
        if not jeopardy:
            return now >= due - budget * (1 - rule.jeopardy)
        if not breached:
            return now >= due
        if escalation >= len(rule.escalate):
            return False
        return now >= due + budget * ESCALATION_STEP * escalation

    def _watch(
        self,
        report: RepairSweepReport,
        record_id: str,
        unit: Callable[..., RepairOutcome],
        now: datetime | None,
    ) -> None:
        at, cat = now or self.clock(), self.catalog
        self._step(
            report.alerted,
            record_id,
            lambda: self._run(
                lambda tx: unit(tx, record_id, catalog=cat, now=at, actor=SWEEPER), "SLA watch"
            ),
        )


class RepairSweeperHandle:
    """A running repair sweeper thread; `stop()` ends it (idempotent) and waits for the sweep."""

    def __init__(self, service: RepairService, interval: float):
        self.service = service
        self.interval = interval
        self.last: RepairSweepReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pboss-repair", daemon=True)

    def start(self) -> RepairSweeperHandle:
        """Start sweeping every `interval` seconds, the first sweep right away."""
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = self.service.sweep()
            except Exception:  # a store hiccup must not kill the sweeper; try next round
                log.exception("repair sweep failed")
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end and wait for it."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)


def start_repair_sweeper(service: RepairService, interval: float) -> RepairSweeperHandle:
    """Start this process's repair sweeper."""
    return RepairSweeperHandle(service, interval).start()
