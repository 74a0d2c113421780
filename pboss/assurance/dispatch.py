"""Dispatch: an incident, or a ticket no incident holds, becomes ONE repair work order to the
owner of the suspected resource, on the assurance SLA.

Who repairs: the owner of the resource the incident suspects (for a lone ticket, the resource at
the customer end of its path). The operator's own crews by area: the work order waits in the area
queue `crew:<site>` with no `crew`, skill `repair`, until field assignment picks a crew. A
partner's resource (Tietong's leased link, Oriental Cable's pool) goes to that partner
(`assignee_type` partner), who hears of it through its events and its key.

Units of work against `GraphTx`, run by `RepairService`: lock the incident (or ticket) first, read
everything, decide, write; a repeat changes nothing. Dispatching again after a re-point to a
resource of another owner cancels the open work order (with history and an event the old owner
hears) and dispatches a new one; to the same owner it only refreshes the deadline and the tickets
that joined since. Tickets move acknowledged -> inProgress when their repair is dispatched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pboss.assurance.model import (
    ACTIVE_INCIDENT_STATES,
    OPEN_TICKET_STATES,
    Entry,
    Incident,
    TicketState,
    TroubleTicket,
)
from pboss.assurance.repair_errors import RepairRefused
from pboss.assurance.repair_events import (
    REPAIR_CREATE,
    REPAIR_STATE,
    repair_event,
    ticket_event,
)
from pboss.assurance.repair_sla import Term, incident_term, ticket_term
from pboss.inventory.catalog import Catalog
from pboss.inventory.errors import NotFound
from pboss.inventory.events import NewEvent
from pboss.inventory.model import SELF, Element
from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.model import (
    OPEN_WORK_STATES,
    Event,
    WorkOrder,
    WorkOrderState,
    WorkPurpose,
)

#: The skill every repair work order asks for.
REPAIR_SKILL = "repair"
#: The area queue of own work whose resource has no site (field assignment still places it).
NO_AREA = "crew:unassigned"
OPEN_WORK = frozenset(OPEN_WORK_STATES)


@dataclass
class RepairOutcome:
    """What a repair step did: the resulting record, whether it wrote, the events it emitted."""

    value: Any
    changed: bool
    events: list[NewEvent] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    """Who repairs a resource: its owner's queue, the site the work is at, and why."""

    assignee: str
    assignee_type: str
    site: str | None
    why: str

    @property
    def partner(self) -> bool:
        """True when the work goes to a partner."""
        return self.assignee_type == "partner"

    @property
    def owner(self) -> str:
        """Who repairs: the partner's id, or the operator (`SELF`) for own crews."""
        return self.assignee if self.partner else SELF


def owner(wo: WorkOrder) -> str:
    """Who a repair work order went to: the partner's id, or the operator (`SELF`)."""
    return wo.assignee if wo.assignee_type == "partner" else SELF


#: Edges leading from a resource with no site of its own to the ends that have one (a link's
#: terminations, a circuit's ends), in order of preference.
END_EDGES = ("TERMINATES", "A_END", "Z_END")


def end_sites(tx: GraphTx, resource: Element | None) -> list[str]:
    """The sites at the ends of a resource that has none itself (a trunk section, a partner
    link, a circuit), so its repair lands in a real area; empty when it has its own site."""
    if resource is None or resource.site or resource.kind == "Site":
        return []
    found: list[str] = []
    for edge_type in END_EDGES:
        for _edge, end in tx.linked(resource.id, edge_type, "out"):
            if end.site and end.site not in found:
                found.append(end.site)
    return found


def target_for(resource: Element | None, sites: Sequence[str]) -> Target:
    """The owner of the resource repairs it: a partner itself, else own crews of its area (the
    resource's site, else the first of `sites`: its ends' sites, then the record's)."""
    fallback = next((s for s in sites if s), None)
    if resource is None:
        where = fallback
        return Target(f"crew:{where}" if where else NO_AREA, "own_crew", where, "no resource known")
    if resource.is_partner:
        why = f"{resource.owner} owns {resource.kind} {resource.id}"
        return Target(resource.owner, "partner", resource.site or fallback, why)
    site = resource.id if resource.kind == "Site" else resource.site or fallback
    why = f"own crews of {site or 'no area'} repair {resource.kind} {resource.id}"
    return Target(f"crew:{site}" if site else NO_AREA, "own_crew", site, why)


# ---- history helpers ----------------------------------------------------------------------------


def noted(record: Any, event: str, now: datetime, actor: str, note: str) -> Any:
    """A copy of an incident or ticket with one more history entry (its state after the step)."""
    new = record.model_copy(deep=True)
    entry = Entry(at=now, event=event, state=str(new.state), actor=actor, note=note)
    new.history = [*record.history, entry.dumps()]
    if hasattr(new, "updated_at"):
        new.updated_at = now
    return new


def wo_noted(wo: WorkOrder, event: str, now: datetime, actor: str, note: str) -> WorkOrder:
    """A copy of a work order with one more history entry."""
    new = wo.model_copy(deep=True)
    entry = Event(at=now, event=event, state=str(new.state), note=note, actor=actor)
    new.history = [*wo.history, entry.dumps()]
    return new


def locked_as(tx: GraphTx, record_id: str, cls: type) -> Any:
    """Lock one record; NotFound unless it is of this kind."""
    el = tx.lock([record_id]).get(record_id)
    if not isinstance(el, cls):
        raise NotFound(record_id, cls.__name__)
    return el


#: History entries the repair writes on an incident (each also sets its `updated_at`).
REPAIR_ENTRIES = frozenset(
    {"dispatched", "dueMoved", "ticketsJoined", "jeopardy", "slaBreached", "escalated"}
)


def settled(record: Incident) -> bool:
    """True when nothing changed the incident since the repair last wrote it: its `updated_at`
    (which correlation moves when tickets join or its suspect moves) is not after the repair's
    last entry (the sweep's cheap check before refreshing the dispatch)."""
    for raw in reversed(record.history):
        entry = Entry.loads(raw)
        if entry.event in REPAIR_ENTRIES:
            return utc(record.updated_at) <= utc(entry.at)
    return False


def _dispatch_count(history: Sequence[str]) -> int:
    return sum(1 for h in history if Entry.loads(h).event == "dispatched")


# ---- dispatch -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What one dispatch decided before writing."""

    bearer: Incident | TroubleTicket
    members: list[TroubleTicket]
    target: Target
    term: Term
    old: WorkOrder | None


def dispatch_incident(
    tx: GraphTx, incident_id: str, *, catalog: Catalog, now: datetime, actor: str
) -> RepairOutcome:
    """Dispatch an open or confirmed incident to the owner of its suspected resource (or
    refresh its work order's deadline and tickets when already dispatched to that owner)."""
    inc: Incident = locked_as(tx, incident_id, Incident)
    if inc.state not in ACTIVE_INCIDENT_STATES:
        raise RepairRefused(
            f"incident {inc.id} is {inc.state}", ["only open or confirmed incidents are dispatched"]
        )
    ids = [inc.suspected, *inc.tickets, *([inc.work_order] if inc.work_order else [])]
    seen = tx.peek(ids)
    resource = seen.get(inc.suspected)
    if resource is None:
        raise NotFound(inc.suspected)
    tickets = [t for i in inc.tickets if isinstance(t := seen.get(i), TroubleTicket)]
    target = target_for(resource, [*end_sites(tx, resource), *inc.sites])
    old = seen.get(inc.work_order) if inc.work_order else None
    term = incident_term(catalog, inc, tickets, target.partner)
    plan = _Plan(inc, tickets, target, term, old if isinstance(old, WorkOrder) else None)
    return _apply(tx, plan, now=now, actor=actor)


def dispatch_ticket(
    tx: GraphTx, ticket_id: str, *, catalog: Catalog, now: datetime, actor: str
) -> RepairOutcome:
    """Dispatch an open ticket no incident holds, to the owner of the resource at the customer
    end of its path (own crews of its site when its path is empty)."""
    t: TroubleTicket = locked_as(tx, ticket_id, TroubleTicket)
    if t.incident:
        raise RepairRefused(
            f"ticket {t.id} is grouped in incident {t.incident}", ["dispatch the incident"]
        )
    if t.state not in OPEN_TICKET_STATES:
        raise RepairRefused(f"ticket {t.id} is {t.state}", ["only open tickets are dispatched"])
    ids = [*t.path[:1], *([t.work_order] if t.work_order else [])]
    seen = tx.peek(ids) if ids else {}
    resource = seen.get(t.path[0]) if t.path else None
    target = target_for(resource, [*end_sites(tx, resource), *t.sites])
    old = seen.get(t.work_order) if t.work_order else None
    term = ticket_term(catalog, t, target.partner)
    plan = _Plan(t, [t], target, term, old if isinstance(old, WorkOrder) else None)
    return _apply(tx, plan, now=now, actor=actor)


def _apply(tx: GraphTx, plan: _Plan, *, now: datetime, actor: str) -> RepairOutcome:
    """Write what a dispatch decided: keep, refresh, or cancel-and-replace the work order."""
    bearer, target, term, old = plan.bearer, plan.target, plan.term, plan.old
    due = term.due
    keep = old if old is not None and old.state in OPEN_WORK else None
    if keep is not None and keep.assignee != target.assignee:
        cancel: WorkOrder | None = keep
        keep = None
    else:
        cancel = None
    wo_id = keep.id if keep is not None else _new_id(bearer)
    is_incident = isinstance(bearer, Incident)
    stale = [
        t.id
        for t in plan.members
        if t.state in OPEN_TICKET_STATES
        and (
            t.work_order != wo_id
            or t.due_at is None
            or utc(t.due_at) != due
            or t.state == TicketState.ACKNOWLEDGED
        )
    ]
    if is_incident:  # the incident is locked; then its tickets and work orders, sorted
        moves = keep is not None and keep.due_at is not None and utc(keep.due_at) != due
        wos = [w.id for w in (cancel, keep if moves else None) if w is not None]
        fresh = tx.lock(sorted({*stale, *wos}))
    else:  # a lone ticket is the bearer, already locked; only a work order to lock
        lock_ids = [w.id for w in (cancel, keep) if w is not None]
        fresh = {bearer.id: bearer, **(tx.lock(lock_ids) if lock_ids else {})}
    events: list[NewEvent] = []
    cancelled: list[NewEvent] = []
    if keep is not None:
        wo = fresh.get(keep.id, keep)
        if not isinstance(wo, WorkOrder) or wo.state not in OPEN_WORK:
            raise RepairRefused(f"work order {keep.id} changed meanwhile", ["dispatch again"])
        if utc(wo.due_at) != due:
            wo = wo_noted(wo, "dueMoved", now, actor, f"tickets joined: {term.describe()}")
            wo.due_at, wo.sla_hours = due, _hours(term)
            wo.product, wo.sla_tier = term.product, term.tier
            tx.put(wo)
            events.append(repair_event(REPAIR_STATE, wo, now, f"due moved to {due.isoformat()}"))
    else:
        if cancel is not None:
            gone = fresh.get(cancel.id)
            if isinstance(gone, WorkOrder) and gone.state in OPEN_WORK:
                why = f"re-dispatched to {target.assignee}: {target.why}"
                gone = wo_noted(gone, "cancelled", now, actor, why)
                gone.state = WorkOrderState.CANCELLED
                tx.put(gone)
                cancelled.append(repair_event(REPAIR_STATE, gone, now, why))
        wo = WorkOrder(
            id=wo_id,
            purpose=WorkPurpose.REPAIR,
            incident=bearer.id if is_incident else None,
            ticket=None if is_incident else bearer.id,
            assignee=target.assignee,
            assignee_type=target.assignee_type,  # type: ignore[arg-type]
            skill=REPAIR_SKILL,
            site=target.site,
            product=term.product,
            sla_tier=term.tier,
            sla_hours=_hours(term),
            created_at=now,
            due_at=due,
        )
        wo = wo_noted(wo, "dispatched", now, actor, f"{target.why}; {term.describe()}")
        tx.put(wo, new=True)
    changed_bearer = keep is None or bearer.due_at is None or utc(bearer.due_at) != due
    new_bearer = bearer
    if not changed_bearer and stale and is_incident:
        joined = ", ".join(stale)
        new_bearer = noted(bearer, "ticketsJoined", now, actor, f"{joined} on repair {wo.id}")
        tx.put(new_bearer)
    if changed_bearer:
        what = "dispatched" if keep is None else "dueMoved"
        note = f"{wo.id} to {target.assignee} ({target.why}); {term.describe()}"
        if cancel is not None:
            note = f"{note}; {cancel.id} to {cancel.assignee} cancelled"
        new_bearer = noted(bearer, what, now, actor, note)
        if isinstance(new_bearer, Incident):
            # the deadline is the restoration the clerk can promise, unless someone estimated
            known = new_bearer.estimated_restoration
            if known is None or (bearer.due_at is not None and utc(known) == utc(bearer.due_at)):
                new_bearer.estimated_restoration = due
        new_bearer.work_order, new_bearer.due_at = wo.id, due
    for tid in stale:
        t = fresh.get(tid) if is_incident else new_bearer
        if not isinstance(t, TroubleTicket) or t.state not in OPEN_TICKET_STATES:
            continue
        started = t.state == TicketState.ACKNOWLEDGED
        if is_incident or not changed_bearer:  # a lone ticket's own entry says it already
            t = noted(t, "repairDispatched", now, actor, f"repair {wo.id} to {target.assignee}")
        t.work_order, t.due_at = wo.id, due
        if started:
            t.state = TicketState.IN_PROGRESS
            events.append(ticket_event(t, now, f"repair {wo.id} dispatched to {target.assignee}"))
        if is_incident:
            tx.put(t)
        else:
            new_bearer = t
    if changed_bearer or (stale and not is_incident):
        tx.put(new_bearer)
    if keep is None:
        context = new_bearer if isinstance(new_bearer, Incident) else None
        events = [*cancelled, repair_event(REPAIR_CREATE, wo, now, target.why, context), *events]
    changed = bool(events) or changed_bearer
    return RepairOutcome(wo, changed=changed, events=events)


def _new_id(bearer: Incident | TroubleTicket) -> str:
    """The next repair work order id of an incident or ticket (WO-R-<id>-<n>)."""
    return f"WO-R-{bearer.id}-{_dispatch_count(bearer.history) + 1}"


def _hours(term: Term) -> int:
    """The SLA in whole hours (at least one) for the work order's `sla_hours`."""
    return max(1, round(term.clock.rule.hours))


def orphaned(wo: WorkOrder, bearer: Incident | TroubleTicket | None) -> str | None:
    """Why an open repair work order no longer has work to do, or None: its incident was
    cancelled (absorbed by another, dismissed) or re-dispatched; its lone ticket was cancelled,
    or was grouped into an incident whose own repair covers it."""
    if wo.state not in OPEN_WORK or wo.purpose != WorkPurpose.REPAIR:
        return None
    if bearer is None:
        return f"{wo.incident or wo.ticket} no longer exists"
    if bearer.work_order not in (None, wo.id):
        return f"{bearer.id} was re-dispatched as {bearer.work_order}"
    if isinstance(bearer, Incident):
        if bearer.state == "cancelled":
            last = bearer.entries()[-1].note if bearer.history else ""
            return f"incident {bearer.id} was cancelled" + (f": {last}" if last else "")
        return None
    if bearer.incident:
        return f"ticket {bearer.id} was grouped in incident {bearer.incident}"
    if bearer.state in (TicketState.CANCELLED, TicketState.CLOSED):
        return f"ticket {bearer.id} is {bearer.state}"
    return None


def cancel_orphan(tx: GraphTx, work_order_id: str, *, now: datetime, actor: str) -> RepairOutcome:
    """Cancel a repair work order left without work (`orphaned`), re-checked under lock (the
    incident or ticket first, then the work order); the owner hears of it."""
    seen = tx.peek([work_order_id]).get(work_order_id)
    if not isinstance(seen, WorkOrder) or seen.purpose != WorkPurpose.REPAIR:
        raise NotFound(work_order_id, "WorkOrder")
    bearer_id = seen.incident or seen.ticket
    bearer = tx.lock([bearer_id]).get(bearer_id) if bearer_id else None
    wo: WorkOrder = locked_as(tx, work_order_id, WorkOrder)
    typed = bearer if isinstance(bearer, (Incident, TroubleTicket)) else None
    why = orphaned(wo, typed)
    if why is None:
        return RepairOutcome(wo, changed=False)
    gone = wo_noted(wo, "cancelled", now, actor, why)
    gone.state = WorkOrderState.CANCELLED
    tx.put(gone)
    return RepairOutcome(gone, changed=True, events=[repair_event(REPAIR_STATE, gone, now, why)])
