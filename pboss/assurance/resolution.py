"""Resolution and closing: the repair is done, so the incident's tickets are too, and CRM hears.

Resolving an incident (an engineer, the partner the repair went to through its key, or the
repair work order's completion) completes its open work order, resolves every open ticket it
holds (history and a `TroubleTicketStateChangeEvent` each, so CRM can tell each customer) and
emits an `IncidentStateChangeEvent`, all in one transaction. Closing follows: the incident and its
resolved tickets close. A lone ticket resolves with its own work order. A repeat changes nothing.
Units of work against `GraphTx`: lock the incident (or lone ticket) first, then the rest in
sorted-id order, read everything, then write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pboss.assurance.dispatch import OPEN_WORK, RepairOutcome, locked_as, noted, wo_noted
from pboss.assurance.model import (
    ACTIVE_INCIDENT_STATES,
    OPEN_TICKET_STATES,
    Incident,
    IncidentState,
    TicketState,
    TroubleTicket,
)
from pboss.assurance.repair_errors import NotYours, RepairRefused
from pboss.assurance.repair_events import (
    REPAIR_STATE,
    incident_state_event,
    repair_event,
    ticket_event,
)
from pboss.inventory.errors import NotFound
from pboss.inventory.events import NewEvent
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.model import WorkOrder, WorkOrderState

#: Reads a resolution makes before its writes (correlation gives back the evidence it counted);
#: called with the transaction and the incident id, inside the transaction.
BeforeResolve = Callable[[GraphTx, str], object]


def _check_partner(record_id: str, wo: WorkOrder | None, partner: str | None) -> None:
    """A partner acts only on repair work dispatched to it."""
    if partner is None:
        return
    if wo is None or wo.assignee_type != "partner" or wo.assignee != partner:
        raise NotYours(record_id, partner)


def _complete(wo: WorkOrder, now: datetime, actor: str, note: str) -> WorkOrder:
    done = wo_noted(wo, "completed", now, actor, note)
    done.state = WorkOrderState.DONE
    done.completed_at = now
    return done


def resolve_incident(
    tx: GraphTx,
    incident_id: str,
    *,
    now: datetime,
    actor: str,
    note: str,
    partner: str | None = None,
    before: BeforeResolve | None = None,
) -> RepairOutcome:
    """Resolve an open or confirmed incident with its open tickets and its open work order."""
    inc: Incident = locked_as(tx, incident_id, Incident)
    wo_seen = tx.peek([inc.work_order]).get(inc.work_order) if inc.work_order else None
    _check_partner(inc.id, wo_seen if isinstance(wo_seen, WorkOrder) else None, partner)
    if inc.state == IncidentState.RESOLVED:
        return RepairOutcome(inc, changed=False)
    if inc.state not in ACTIVE_INCIDENT_STATES:
        raise RepairRefused(f"incident {inc.id} is {inc.state}", ["it cannot be resolved"])
    fresh = tx.lock(sorted({*inc.tickets, *([inc.work_order] if inc.work_order else [])}))
    if before is not None:
        before(tx, inc.id)
    events: list[NewEvent] = []
    why = note or f"incident {inc.id} resolved"
    wo = fresh.get(inc.work_order) if inc.work_order else None
    if isinstance(wo, WorkOrder) and wo.state in OPEN_WORK:
        wo = _complete(wo, now, actor, why)
        tx.put(wo)
        events.append(repair_event(REPAIR_STATE, wo, now, "completed"))
    for tid in inc.tickets:
        t = fresh.get(tid)
        if isinstance(t, TroubleTicket) and t.state in OPEN_TICKET_STATES:
            t = noted(t, "resolved", now, actor, f"incident {inc.id} resolved: {why}")
            t.state, t.resolved_at = TicketState.RESOLVED, now
            tx.put(t)
            events.append(ticket_event(t, now, f"resolved with incident {inc.id}"))
    new = inc.model_copy(deep=True)
    new.state, new.resolved_at = IncidentState.RESOLVED, now
    new = noted(new, "resolved", now, actor, why)
    tx.put(new)
    events.append(incident_state_event(new, now, "resolved"))
    return RepairOutcome(new, changed=True, events=events)


def close_incident(
    tx: GraphTx, incident_id: str, *, now: datetime, actor: str, note: str
) -> RepairOutcome:
    """Close a resolved incident and its resolved tickets."""
    inc: Incident = locked_as(tx, incident_id, Incident)
    if inc.state == IncidentState.CLOSED:
        return RepairOutcome(inc, changed=False)
    if inc.state != IncidentState.RESOLVED:
        raise RepairRefused(f"incident {inc.id} is {inc.state}", ["resolve it before closing"])
    fresh = tx.lock(sorted(inc.tickets))
    events: list[NewEvent] = []
    why = note or f"incident {inc.id} closed"
    for tid in inc.tickets:
        t = fresh.get(tid)
        if isinstance(t, TroubleTicket) and t.state == TicketState.RESOLVED:
            t = t.model_copy(deep=True)
            t.state = TicketState.CLOSED
            t = noted(t, "closed", now, actor, why)
            tx.put(t)
            events.append(ticket_event(t, now, f"closed with incident {inc.id}"))
    new = inc.model_copy(deep=True)
    new.state = IncidentState.CLOSED
    new = noted(new, "closed", now, actor, why)
    tx.put(new)
    events.append(incident_state_event(new, now, "closed"))
    return RepairOutcome(new, changed=True, events=events)


def resolve_ticket_repair(
    tx: GraphTx, ticket_id: str, *, now: datetime, actor: str, note: str, partner: str | None = None
) -> RepairOutcome:
    """Resolve a lone ticket with its own repair work order."""
    t: TroubleTicket = locked_as(tx, ticket_id, TroubleTicket)
    wo = tx.lock([t.work_order]).get(t.work_order) if t.work_order else None
    wo = wo if isinstance(wo, WorkOrder) else None
    _check_partner(t.id, wo, partner)
    if t.state == TicketState.RESOLVED:
        return RepairOutcome(t, changed=False)
    if t.state not in OPEN_TICKET_STATES:
        raise RepairRefused(f"ticket {t.id} is {t.state}", ["it cannot be resolved"])
    events: list[NewEvent] = []
    why = note or f"repair of {t.id} done"
    if wo is not None and wo.state in OPEN_WORK:
        wo = _complete(wo, now, actor, why)
        tx.put(wo)
        events.append(repair_event(REPAIR_STATE, wo, now, "completed"))
    t = noted(t, "resolved", now, actor, why)
    t.state, t.resolved_at = TicketState.RESOLVED, now
    tx.put(t)
    events.append(ticket_event(t, now, "resolved"))
    return RepairOutcome(t, changed=True, events=events)


def repair_of(tx: GraphTx, work_order_id: str) -> WorkOrder:
    """The repair work order (read unlocked: its incident or ticket never changes)."""
    wo = tx.peek([work_order_id]).get(work_order_id)
    if not isinstance(wo, WorkOrder):
        raise NotFound(work_order_id, "WorkOrder")
    if wo.purpose != "repair":
        raise RepairRefused(f"work order {wo.id} is {wo.purpose} work", ["not a repair"])
    return wo
