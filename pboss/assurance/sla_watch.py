"""The assurance SLA watch: jeopardy, breach and escalation of an incident or a lone ticket, once
each, in the transaction that records them.

One unit of work per record: lock it first, re-read its flags, and raise only the alerts it has
not raised yet (`repair_sla.alerts_due`), so two processes sweeping at once act once: the second
finds the flags set under the lock and writes nothing. The incident's flags and escalation level
are mirrored on its repair work order, and its open tickets carry its jeopardy and breach flags.
"""

from __future__ import annotations

from datetime import datetime

from pboss.assurance.dispatch import RepairOutcome, locked_as, noted, wo_noted
from pboss.assurance.model import (
    ACTIVE_INCIDENT_STATES,
    OPEN_TICKET_STATES,
    Incident,
    TroubleTicket,
)
from pboss.assurance.repair_events import jeopardy_event
from pboss.assurance.repair_sla import Alert, Term, alerts_due, incident_term, ticket_term
from pboss.inventory.catalog import Catalog
from pboss.inventory.events import NewEvent
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.model import WorkOrder


def watch_incident(
    tx: GraphTx, incident_id: str, *, catalog: Catalog, now: datetime, actor: str
) -> RepairOutcome:
    """Raise the SLA alerts an active, dispatched incident is due and has not raised yet."""
    inc: Incident = locked_as(tx, incident_id, Incident)
    if inc.state not in ACTIVE_INCIDENT_STATES or inc.due_at is None:
        return RepairOutcome(inc, changed=False)
    seen = tx.peek([*inc.tickets, *([inc.work_order] if inc.work_order else [])])
    wo = seen.get(inc.work_order) if inc.work_order else None
    wo = wo if isinstance(wo, WorkOrder) else None
    tickets = [t for i in inc.tickets if isinstance(t := seen.get(i), TroubleTicket)]
    term = incident_term(catalog, inc, tickets, wo is not None and wo.assignee_type == "partner")
    alerts = _due(inc, term, now)
    if not alerts:
        return RepairOutcome(inc, changed=False)
    jeopardy, breached = _flags(inc, alerts)
    lagging = [
        t.id
        for t in tickets
        if t.state in OPEN_TICKET_STATES and (t.jeopardy, t.breached) != (jeopardy, breached)
    ]
    fresh = tx.lock(sorted({*lagging, *([wo.id] if wo is not None else [])}))
    wo = fresh.get(wo.id) if wo is not None else None
    new, events = _raise(inc, wo if isinstance(wo, WorkOrder) else None, alerts, tx, now, actor)
    for tid in lagging:
        t = fresh.get(tid)
        if isinstance(t, TroubleTicket) and t.state in OPEN_TICKET_STATES:
            note = "; ".join(a.message for a in alerts)
            t = noted(t, alerts[-1].name, now, actor, f"incident {inc.id}: {note}")
            t.jeopardy, t.breached = t.jeopardy or jeopardy, t.breached or breached
            tx.put(t)
    return RepairOutcome(new, changed=True, events=events)


def watch_ticket(
    tx: GraphTx, ticket_id: str, *, catalog: Catalog, now: datetime, actor: str
) -> RepairOutcome:
    """Raise the SLA alerts an open, dispatched lone ticket is due and has not raised yet."""
    t: TroubleTicket = locked_as(tx, ticket_id, TroubleTicket)
    if t.incident or t.state not in OPEN_TICKET_STATES or t.due_at is None:
        return RepairOutcome(t, changed=False)
    wo = tx.lock([t.work_order]).get(t.work_order) if t.work_order else None
    wo = wo if isinstance(wo, WorkOrder) else None
    term = ticket_term(catalog, t, wo is not None and wo.assignee_type == "partner")
    # a lone ticket has no escalation field of its own: its work order keeps the level
    alerts = alerts_due(
        term,
        now,
        jeopardy=t.jeopardy,
        breached=t.breached,
        escalation=wo.escalation if wo is not None else 0,
    )
    if not alerts:
        return RepairOutcome(t, changed=False)
    new, events = _raise(t, wo, alerts, tx, now, actor)
    return RepairOutcome(new, changed=True, events=events)


def _due(inc: Incident, term: Term, now: datetime) -> list[Alert]:
    return alerts_due(
        term, now, jeopardy=inc.jeopardy, breached=inc.breached, escalation=inc.escalation
    )


def _flags(record: Incident | TroubleTicket, alerts: list[Alert]) -> tuple[bool, bool]:
    names = {a.name for a in alerts}
    return record.jeopardy or "jeopardy" in names, record.breached or "slaBreached" in names


def _raise(
    bearer: Incident | TroubleTicket,
    wo: WorkOrder | None,
    alerts: list[Alert],
    tx: GraphTx,
    now: datetime,
    actor: str,
) -> tuple[Incident | TroubleTicket, list[NewEvent]]:
    """Record the alerts on the bearer and its work order and emit one event each."""
    new = bearer
    new_wo = wo
    events: list[NewEvent] = []
    for alert in alerts:
        new = noted(new, alert.name, now, actor, alert.message)
        if new_wo is not None:
            new_wo = wo_noted(new_wo, alert.name, now, actor, alert.message)
        if alert.name == "jeopardy":
            new.jeopardy = True
        elif alert.name == "slaBreached":
            new.breached = True
        if isinstance(new, Incident) and alert.level:
            new.escalation = alert.level
        if new_wo is not None:
            new_wo.jeopardy = new_wo.jeopardy or new.jeopardy
            new_wo.breached = new_wo.breached or new.breached
            new_wo.escalation = max(new_wo.escalation, alert.level)
        events.append(
            jeopardy_event(new, new_wo, now, alert.name, alert.message, alert.queue, alert.level)
        )
    tx.put(new)
    if new_wo is not None:
        tx.put(new_wo)
    return new, events
