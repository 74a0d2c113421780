"""The events of repair work: dispatch, SLA alerts, resolution (TMF621/TMF688-style envelopes).

Written into the transaction that makes the change (`GraphTx.emit`), as every capability's events
are. Each event names what it concerns in its scope: a repair work order's and an SLA alert's
partners are only the partner the work went to (so Tietong hears of its own repairs and nothing
else), a ticket's and an incident's state changes keep their own scope for CRM. Bodies carry ids,
states and times, never household names or phones; a partner's view (`pboss.hub.views`) narrows
them further to the work order, the incident's suspect and the alert.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pboss.assurance import record_events
from pboss.assurance.model import Incident, TroubleTicket
from pboss.inventory.events import NewEvent
from pboss.inventory.timestamps import utc
from pboss.provisioning.model import WorkOrder

TICKET_STATE = record_events.TICKET_STATE_CHANGED
INCIDENT_STATE = "IncidentStateChangeEvent"
INCIDENT_JEOPARDY = "IncidentJeopardyEvent"
TICKET_JEOPARDY = "TroubleTicketJeopardyEvent"
REPAIR_CREATE = "RepairWorkOrderCreateEvent"
REPAIR_STATE = "RepairWorkOrderStateChangeEvent"
#: Types only the operator's roles receive (an incident's state, for CRM); a ticket's state
#: changes are the ticket's own events (`record_events`, a partner view of their own).
OPERATOR_REPAIR_TYPES: tuple[str, ...] = (INCIDENT_STATE,)
#: Types a partner also receives, in its view, when the repair went to it.
PARTNER_REPAIR_TYPES: tuple[str, ...] = (
    REPAIR_CREATE,
    REPAIR_STATE,
    INCIDENT_JEOPARDY,
    TICKET_JEOPARDY,
)
#: Every event type this module emits.
REPAIR_EVENT_TYPES: tuple[str, ...] = (
    TICKET_STATE,
    *OPERATOR_REPAIR_TYPES,
    *PARTNER_REPAIR_TYPES,
)
#: TMF's jeopardy type of each SLA alert.
JEOPARDY_TYPES = {"jeopardy": "hazard", "slaBreached": "critical", "escalated": "escalation"}


def _at(value: datetime | None) -> str | None:
    return utc(value).isoformat() if value is not None else None


def work_order_body(wo: WorkOrder) -> dict[str, Any]:
    """A repair work order as events carry it."""
    return {
        "@type": "RepairWorkOrder",
        "id": wo.id,
        "state": str(wo.state),
        "incidentId": wo.incident,
        "ticketId": wo.ticket,
        "assignee": wo.assignee,
        "assigneeType": wo.assignee_type,
        "skill": wo.skill,
        "site": wo.site,
        "slaHours": wo.sla_hours,
        "dueAt": _at(wo.due_at),
        "jeopardy": wo.jeopardy,
        "breached": wo.breached,
        "escalation": wo.escalation,
    }


def incident_summary(inc: Incident) -> dict[str, Any]:
    """An incident as repair events carry it (counts, no customers)."""
    return {
        "@type": "Incident",
        "id": inc.id,
        "state": str(inc.state),
        "suspected": inc.suspected,
        "priority": str(inc.priority),
        "tickets": len(inc.tickets),
        "alarms": len(inc.alarms),
        "workOrderId": inc.work_order,
        "dueAt": _at(inc.due_at),
        "resolvedAt": _at(inc.resolved_at),
    }


def _event(
    event_type: str,
    subject: str,
    now: datetime,
    inner: dict[str, Any],
    *,
    sites: list[str],
    products: list[str],
    partners: list[str],
) -> NewEvent:
    eid = str(uuid.uuid4())
    return NewEvent(
        id=eid,
        type=event_type,
        at=utc(now),
        subject=subject,
        body={
            "eventId": eid,
            "eventTime": utc(now).isoformat(),
            "eventType": event_type,
            "event": inner,
        },
        sites=[s for s in sites if s],
        products=[p for p in products if p],
        partners=partners,
    )


def partners_of(wo: WorkOrder | None) -> list[str]:
    """The partner a repair event concerns: the work order's, when it went to a partner."""
    return [wo.assignee] if wo is not None and wo.assignee_type == "partner" else []


def repair_event(
    event_type: str,
    wo: WorkOrder,
    now: datetime,
    what: str,
    incident: Incident | None = None,
) -> NewEvent:
    """A repair work order was dispatched (`REPAIR_CREATE`), cancelled or completed."""
    inner: dict[str, Any] = {"repairWorkOrder": work_order_body(wo), "change": what}
    if incident is not None:
        inner["incident"] = incident_summary(incident)
    return _event(
        event_type,
        wo.id,
        now,
        inner,
        sites=[wo.site] if wo.site else [],
        products=[wo.product] if wo.product else [],
        partners=partners_of(wo),
    )


def ticket_event(t: TroubleTicket, now: datetime, what: str) -> NewEvent:
    """A ticket changed state (inProgress on dispatch, resolved, closed): the ticket's own
    TMF621 state event (`record_events`), with what the repair did as its note."""
    event = record_events.ticket_event(t, TICKET_STATE, now)
    event.body["event"]["note"] = what
    return event


def incident_state_event(inc: Incident, now: datetime, what: str) -> NewEvent:
    """An incident changed state (resolved, closed) through repair work."""
    return _event(
        INCIDENT_STATE,
        inc.id,
        now,
        {"incident": incident_summary(inc), "change": what},
        sites=inc.sites,
        products=inc.products,
        partners=inc.partners,
    )


def jeopardy_event(
    bearer: Incident | TroubleTicket,
    wo: WorkOrder | None,
    now: datetime,
    name: str,
    message: str,
    queue: str | None = None,
    level: int = 0,
) -> NewEvent:
    """An SLA alert on an incident or a lone ticket: `jeopardy`, `slaBreached` or `escalated`
    (naming the queue it escalated to and the level)."""
    alert: dict[str, Any] = {
        "name": name,
        "jeopardyType": JEOPARDY_TYPES[name],
        "alertDate": utc(now).isoformat(),
        "message": message,
        "dueAt": _at(bearer.due_at),
    }
    if queue is not None:
        alert["escalationQueue"] = queue
        alert["escalationLevel"] = level
    inner: dict[str, Any] = {"jeopardyAlert": [alert]}
    if isinstance(bearer, Incident):
        inner["incident"] = incident_summary(bearer)
        event_type = INCIDENT_JEOPARDY
    else:
        inner["troubleTicket"] = record_events.ticket_body(bearer)
        event_type = TICKET_JEOPARDY
    if wo is not None:
        inner["repairWorkOrder"] = work_order_body(wo)
    return _event(
        event_type,
        bearer.id,
        now,
        inner,
        sites=bearer.sites,
        products=bearer.products,
        partners=partners_of(wo),
    )
