"""The events an incident emits as correlation creates, updates, merges and resolves it
(TMF688-style envelopes, TMF621-like incident bodies).

Every event is scoped by the incident's sites, products and partners. A partner's view
(`pboss.hub.views`) is not defined for them yet, so partners do not receive them; household data
never appears in them (tickets by id, counts only).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pboss.assurance.model import Incident
from pboss.inventory.events import NewEvent
from pboss.inventory.timestamps import utc

INCIDENT_CREATE = "IncidentCreateEvent"
INCIDENT_CHANGE = "IncidentAttributeValueChangeEvent"
INCIDENT_STATE = "IncidentStateChangeEvent"
#: The event types this module emits.
INCIDENT_EVENT_TYPES: tuple[str, ...] = (INCIDENT_CREATE, INCIDENT_CHANGE, INCIDENT_STATE)


def incident_body(inc: Incident) -> dict[str, Any]:
    """The incident as events carry it: what it suspects, its evidence counts and state."""
    return {
        "@type": "Incident",
        "id": inc.id,
        "state": str(inc.state),
        "suspected": inc.suspected,
        "priority": str(inc.priority),
        "tickets": len(inc.tickets),
        "alarms": len(inc.alarms),
        "confirmedBy": inc.confirmed_by,
        "updatedAt": utc(inc.updated_at).isoformat(),
    }


def incident_event(inc: Incident, event_type: str, what: str, now: datetime) -> NewEvent:
    """One event about an incident's change; `what` says what changed, in words (naming the
    ticket or alarm, so the id, from the incident, its history's length and `what`, is unique
    and the same when a retried transaction emits it again)."""
    digest = hashlib.sha256(what.encode()).hexdigest()[:12]
    event_id = f"{inc.id}:{event_type}:{len(inc.history)}:{digest}"
    return NewEvent(
        id=event_id,
        type=event_type,
        at=now,
        subject=inc.id,
        body={
            "eventId": event_id,
            "eventTime": utc(now).isoformat(),
            "eventType": event_type,
            "event": {"incident": incident_body(inc), "change": what},
        },
        sites=inc.sites,
        products=inc.products,
        partners=inc.partners,
    )
