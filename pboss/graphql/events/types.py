"""GraphQL types of the event log: one event (`StoredEvent`), its connection, the result union."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from pboss.graphql.connections import PageInfo, encode_cursor
from pboss.graphql.errors import Forbidden
from pboss.hub.views import body_for
from pboss.inventory.events import StoredEvent

#: The prefix of event cursors (`encode_cursor`): a cursor is the event's sequence number.
CURSOR = "event"


def event_cursor(seq: int) -> str:
    """The opaque cursor of the event numbered `seq` (resume after it with `events(after:)`)."""
    return encode_cursor(CURSOR, str(seq))


@strawberry.type(description="One committed event of the store's log, TMF-style.")
class Event:
    id: strawberry.ID = strawberry.field(description="The event id: a receiver's idempotency key.")
    sequence: int = strawberry.field(
        description="Its number in the store's log: gap-free, in commit order."
    )
    cursor: str = strawberry.field(
        description="Its cursor: resume after it with `events(after:)` or `eventStream(after:)`."
    )
    event_type: str = strawberry.field(description="E.g. ProductOrderStateChangeEvent.")
    event_time: datetime
    subject: str = strawberry.field(description="The id of what it is about (an order id).")
    body: JSON = strawberry.field(
        description="The TMF622 notification: eventId, eventTime, eventType, event.productOrder "
        "(a partner key gets the partner view: its work's fields only)."
    )


def event_of(stored: StoredEvent, partner: str | None = None) -> Event:
    """The API view of a stored event, with the body `partner` may read (`hub.views`; the
    whole body for the operator's roles, `partner` None)."""
    return Event(
        id=strawberry.ID(stored.id),
        sequence=stored.seq,
        cursor=event_cursor(stored.seq),
        event_type=stored.type,
        event_time=stored.at,
        subject=stored.subject,
        body=body_for(stored, partner),
    )


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type(
    description="A page of the event log, oldest first; keep `pageInfo.endCursor` to resume."
)
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo


EventsResult = Annotated[EventConnection | Forbidden, strawberry.union("EventsResult")]
