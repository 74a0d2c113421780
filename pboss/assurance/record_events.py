"""The events tickets (TMF621) and alarms (TMF642) emit, in the transaction of their change.

Each is a TMF688 envelope `{eventId, eventTime, eventType, event}` scoped by the record's sites,
products and partners, so CRM hears of every ticket and a partner hears of tickets and alarms on
its own resources (through its view, `pboss.hub.views`, without household data). Event ids are
the record's id and its history length, so a retried transaction emits the same id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pboss.assurance.model import Alarm, Incident, TroubleTicket
from pboss.inventory.events import NewEvent
from pboss.inventory.timestamps import utc

TICKET_CREATED = "TroubleTicketCreateEvent"
TICKET_STATE_CHANGED = "TroubleTicketStateChangeEvent"
TICKET_CHANGED = "TroubleTicketAttributeValueChangeEvent"
TICKET_EVENT_TYPES = (TICKET_CREATED, TICKET_STATE_CHANGED, TICKET_CHANGED)

ALARM_CREATED = "AlarmCreateEvent"
ALARM_CHANGED = "AlarmAttributeValueChangeEvent"
ALARM_CLEARED = "AlarmClearedEvent"
ALARM_EVENT_TYPES = (ALARM_CREATED, ALARM_CHANGED, ALARM_CLEARED)


def _iso(at: datetime | None) -> str | None:
    return utc(at).isoformat() if at else None


def ticket_body(ticket: TroubleTicket, incident: Incident | None = None) -> dict[str, Any]:
    """The TMF621 troubleTicket of an event (the operator's view: contact included)."""
    body: dict[str, Any] = {
        "@type": "TroubleTicket",
        "id": ticket.id,
        "externalId": ticket.crm_ticket_id,
        "state": str(ticket.state),
        "ticketType": str(ticket.symptom),
        "symptom": str(ticket.symptom),
        "priority": str(ticket.priority),
        "description": ticket.description,
        "creationDate": _iso(ticket.opened_at),
        "lastUpdate": _iso(ticket.updated_at),
        "resolutionDate": _iso(ticket.resolved_at),
        "customer": ticket.customer,
        "service": ticket.service,
        "product": ticket.product,
        "slaTier": ticket.sla_tier,
        "path": list(ticket.path),
        "partners": list(ticket.partners),
        "contactName": ticket.contact_name,
        "contactPhone": ticket.contact_phone,
        "incident": ticket.incident,
    }
    if incident is not None:
        body["knownIncident"] = {
            "id": incident.id,
            "state": str(incident.state),
            "suspected": incident.suspected,
            "estimatedRestoration": _iso(incident.estimated_restoration),
        }
    return body


def ticket_event(
    ticket: TroubleTicket, event_type: str, now: datetime, incident: Incident | None = None
) -> NewEvent:
    """One ticket event, scoped by the ticket's sites, products and partners."""
    event_id = f"{ticket.id}:{len(ticket.history)}"
    return NewEvent(
        id=event_id,
        type=event_type,
        at=now,
        subject=ticket.id,
        body={
            "eventId": event_id,
            "eventTime": utc(now).isoformat(),
            "eventType": event_type,
            "event": {"troubleTicket": ticket_body(ticket, incident)},
        },
        sites=ticket.sites,
        products=ticket.products,
        partners=ticket.partners,
    )


def alarm_body(alarm: Alarm) -> dict[str, Any]:
    """The TMF642 alarm of an event."""
    return {
        "@type": "Alarm",
        "id": alarm.id,
        "externalAlarmId": alarm.source_alarm_id,
        "state": str(alarm.state),
        "alarmedObject": alarm.resource,
        "alarmType": str(alarm.alarm_type),
        "probableCause": alarm.probable_cause,
        "specificProblem": alarm.specific_problem,
        "perceivedSeverity": str(alarm.severity),
        "alarmRaisedTime": _iso(alarm.raised_at),
        "alarmClearedTime": _iso(alarm.cleared_at),
        "origin": alarm.origin,
        "serviceAffecting": alarm.previous_status is not None,
        "incident": alarm.incident,
    }


def alarm_event(alarm: Alarm, event_type: str, now: datetime) -> NewEvent:
    """One alarm event, scoped by its resource's site and partner."""
    event_id = f"{alarm.id}:{len(alarm.history)}"
    return NewEvent(
        id=event_id,
        type=event_type,
        at=now,
        subject=alarm.id,
        body={
            "eventId": event_id,
            "eventTime": utc(now).isoformat(),
            "eventType": event_type,
            "event": {"alarm": alarm_body(alarm)},
        },
        sites=alarm.sites,
        partners=alarm.partners,
    )
