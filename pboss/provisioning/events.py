"""Order events as durable TMF622-style event records (`pboss.inventory.events`).

Every event a provisioning step reports (`Outcome.events`) is emitted into the step's own
transaction (`ProvisioningService._run`), so the store's event log holds it exactly when the
change committed. The record's body follows TMF622's notification shape: `eventId`, `eventTime`,
`eventType` (`ProductOrderCreateEvent`, `ProductOrderStateChangeEvent`,
`ProductOrderMilestoneEvent`, `ProductOrderJeopardyEvent`) and `event.productOrder`, the order as
it stands after the change with what happened (`pbossEvent`) and the reservation, work order and
service it concerns.
"""

from __future__ import annotations

import uuid
from typing import Any

from pboss.inventory.events import NewEvent
from pboss.inventory.timestamps import utc
from pboss.provisioning.model import Milestone
from pboss.provisioning.notify import OrderEvent

CREATE = "ProductOrderCreateEvent"
STATE_CHANGE = "ProductOrderStateChangeEvent"
MILESTONE = "ProductOrderMilestoneEvent"
JEOPARDY = "ProductOrderJeopardyEvent"
#: Every event type the order log holds.
ORDER_EVENT_TYPES = (CREATE, STATE_CHANGE, MILESTONE, JEOPARDY)

#: Step events that are construction milestones (dispatch, field steps, held, resumed, the
#: SLA clock pausing and resuming with a customer hold).
_MILESTONES = frozenset(
    {
        "constructionDispatched",
        "constructionHeld",
        "constructionResumed",
        "accepted",
        "onTheWay",
        "clockPaused",
        "clockResumed",
        *(m.value for m in Milestone),
    }
)
#: Step events that are SLA alerts, with TMF's jeopardy type.
_JEOPARDY = {"jeopardy": "hazard", "slaBreached": "critical", "slaEscalated": "critical"}


def event_type(step_event: str) -> str:
    """The TMF622 event type of a step's event name (`OrderEvent.event`)."""
    if step_event == "acknowledged":
        return CREATE
    if step_event in _JEOPARDY:
        return JEOPARDY
    if step_event in _MILESTONES:
        return MILESTONE
    return STATE_CHANGE


def to_record(event: OrderEvent, event_id: str | None = None) -> NewEvent:
    """The durable record of one order event, with a fresh event id unless one is given."""
    eid = event_id or str(uuid.uuid4())
    at = utc(event.at)
    etype = event_type(event.event)
    order: dict[str, Any] = {
        "@type": "ProductOrder",
        "id": event.order_id,
        "externalId": event.crm_order_id,
        "state": event.state,
        "pbossEvent": event.event,
    }
    if event.note:
        order["note"] = event.note
    for key, value in (
        ("reservationId", event.reservation_id),
        ("workOrderId", event.work_order_id),
        ("serviceId", event.service_id),
    ):
        if value:
            order[key] = value
    if etype == MILESTONE:
        order["milestone"] = [
            {"name": event.event, "milestoneDate": at.isoformat(), "message": event.note}
        ]
    elif etype == JEOPARDY:
        order["jeopardyAlert"] = [
            {
                "name": event.event,
                "jeopardyType": _JEOPARDY[event.event],
                "alertDate": at.isoformat(),
                "message": event.note,
            }
        ]
    body = {
        "eventId": eid,
        "eventTime": at.isoformat(),
        "eventType": etype,
        "event": {"productOrder": order},
    }
    return NewEvent(
        id=eid,
        type=etype,
        at=at,
        subject=event.order_id,
        body=body,
        sites=event.sites,
        products=[event.product] if event.product else [],
        partners=event.partners,
    )
