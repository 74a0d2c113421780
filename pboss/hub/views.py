"""What each reader is shown of an event: the operator's roles the whole TMF body, a partner
only the fields about its own work (no customer, no notes, no other partner's resources).

The same function shapes the `events` query, the websocket stream and the deliveries to a
partner's listener, so a partner sees the same thing whichever way it asks.
"""

from __future__ import annotations

from typing import Any

from pboss.inventory.events import StoredEvent

#: The productOrder fields a partner sees of an order event that concerns it.
PARTNER_ORDER_FIELDS = (
    "@type",
    "id",
    "state",
    "pbossEvent",
    "workOrderId",
    "milestone",
    "jeopardyAlert",
)
#: The businessResource fields a partner sees of a package it owns (its own pool's figures; not
#: our elements' ids nor the qualification wording).
PARTNER_RESOURCE_FIELDS = (
    "@type",
    "id",
    "name",
    "rule",
    "site",
    "owner",
    "products",
    "state",
    "capacity",
    "used",
    "free",
    "sellable",
)

#: The cutoverPlan fields a partner sees of a plan touching its resources (no customers, no
#: household data, no internal reason).
PARTNER_CUTOVER_FIELDS = (
    "@type",
    "id",
    "state",
    "move",
    "windowStart",
    "windowEnd",
    "partners",
    "affected",
)

#: The workOrder fields a partner sees of an assignment to one of its crews (no explanation:
#: it names the operator's other crews).
PARTNER_WORK_ORDER_FIELDS = (
    "@type",
    "id",
    "purpose",
    "state",
    "crew",
    "skill",
    "site",
    "dueAt",
    "plannedStart",
    "plannedEnd",
    "predictedBreach",
)
#: The troubleTicket fields a partner sees of a ticket over its resources (no customer, contact,
#: service, path or description: only the fault and its state).
PARTNER_TICKET_FIELDS = (
    "@type",
    "id",
    "state",
    "ticketType",
    "symptom",
    "priority",
    "creationDate",
    "lastUpdate",
    "resolutionDate",
    "incident",
)
#: The alarm fields a partner sees of an alarm on its own resource.
PARTNER_ALARM_FIELDS = (
    "@type",
    "id",
    "state",
    "alarmedObject",
    "alarmType",
    "probableCause",
    "perceivedSeverity",
    "alarmRaisedTime",
    "alarmClearedTime",
    "incident",
)
#: The repair fields a partner sees of a repair dispatched to it (`pboss.assurance`): its work
#: order, the incident's suspect and deadline, SLA alerts; never tickets, customers or notes.
PARTNER_REPAIR_FIELDS = (
    "@type",
    "id",
    "state",
    "incidentId",
    "assignee",
    "assigneeType",
    "skill",
    "site",
    "slaHours",
    "dueAt",
    "jeopardy",
    "breached",
    "escalation",
)
PARTNER_INCIDENT_FIELDS = ("@type", "id", "state", "suspected", "priority", "dueAt", "resolvedAt")
PARTNER_ALERT_FIELDS = (
    "name",
    "jeopardyType",
    "alertDate",
    "dueAt",
    "escalationQueue",
    "escalationLevel",
)


def partner_body(event: StoredEvent) -> dict[str, Any]:
    """The partner's view of an event's body: the envelope and the whitelisted fields."""
    body = event.body
    out: dict[str, Any] = {k: body[k] for k in ("eventId", "eventTime", "eventType") if k in body}
    inner = body.get("event", {})
    shown: dict[str, Any] = {}
    for name, value in inner.items():
        if name == "productOrder" and isinstance(value, dict):
            shown[name] = {k: value[k] for k in PARTNER_ORDER_FIELDS if k in value}
        elif name in ("businessResource", "previous") and isinstance(value, dict):
            shown[name] = {k: value[k] for k in PARTNER_RESOURCE_FIELDS if k in value}
        elif name == "reasons" and isinstance(value, list):
            shown[name] = list(value)
        elif name == "cutoverPlan" and isinstance(value, dict):
            shown[name] = {k: value[k] for k in PARTNER_CUTOVER_FIELDS if k in value}
        elif name == "workOrder" and isinstance(value, dict):
            shown[name] = {k: value[k] for k in PARTNER_WORK_ORDER_FIELDS if k in value}
        elif name == "troubleTicket" and isinstance(value, dict):
            shown[name] = {k: value[k] for k in PARTNER_TICKET_FIELDS if k in value}
        elif name == "alarm" and isinstance(value, dict):
            shown[name] = {k: value[k] for k in PARTNER_ALARM_FIELDS if k in value}
        elif name == "repairWorkOrder" and isinstance(value, dict):
            shown[name] = {k: value[k] for k in PARTNER_REPAIR_FIELDS if k in value}
        elif name == "incident" and isinstance(value, dict):
            shown[name] = {k: value[k] for k in PARTNER_INCIDENT_FIELDS if k in value}
        elif name == "jeopardyAlert" and isinstance(value, list):
            shown[name] = [
                {k: a[k] for k in PARTNER_ALERT_FIELDS if k in a}
                for a in value
                if isinstance(a, dict)
            ]
    out["event"] = shown
    return out


def body_for(event: StoredEvent, partner: str | None) -> dict[str, Any]:
    """The body a reader gets: whole for the operator (`partner` None), else the partner's view
    (only meaningful for events whose scope names that partner; callers filter by scope)."""
    return event.body if partner is None else partner_body(event)
