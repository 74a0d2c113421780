"""GraphQL types of the event hub: a listener as its owner sees it (never its secret), the
registration answer (the only place the secret is shown), dead letters, the typed errors and the
result unions; with the builders from the stored records (`pboss.inventory.listeners`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from pboss.graphql.errors import Error, Forbidden, NotFound, ValidationError
from pboss.graphql.events.types import event_cursor
from pboss.inventory.listeners import DeadLetter as StoredDeadLetter
from pboss.inventory.listeners import DeadLetterState, ListenerState
from pboss.inventory.listeners import Listener as StoredListener

ListenerStateEnum = strawberry.enum(
    ListenerState, name="ListenerState", description="Whether a listener is being delivered to."
)
DeadLetterStateEnum = strawberry.enum(
    DeadLetterState,
    name="DeadLetterState",
    description="dead: waits for an admin; replay: queued again; delivered: went through on a "
    "replay.",
)


@strawberry.type(description="Which events a listener receives: every given criterion matches.")
class ListenerFilter:
    types: list[str] = strawberry.field(description="The event types it receives.")
    subjects: list[str] | None = strawberry.field(description="Only about these ids (orders).")
    sites: list[str] | None = strawberry.field(description="Only events naming one of these sites.")
    products: list[str] | None = strawberry.field(
        description="Only events naming one of these products."
    )
    partner: str | None = strawberry.field(
        description="Only events concerning this partner (always set on a partner's listener)."
    )


@strawberry.type(description="Who registered a listener: what it may see follows from this.")
class ListenerOwner:
    role: str
    partner: str | None
    name: str


@strawberry.type(
    description="A registered callback (TMF688 hub subscription) and where its delivery stands. "
    "The signing secret is never shown again after registration."
)
class Listener:
    id: strawberry.ID
    callback: str
    types: list[str]
    filter: ListenerFilter
    owner: ListenerOwner
    created_at: datetime
    state: ListenerStateEnum
    batch_size: int = strawberry.field(
        description="Events per POST: 1 is one event object per POST, more a JSON array of up "
        "to that many."
    )
    cursor: str = strawberry.field(
        description="The event cursor of the last event delivered or dead-lettered: what "
        "`events(after:)` would resume from."
    )
    sequence: int = strawberry.field(description="That event's sequence number (0: none yet).")
    delivered: int
    dead: int
    lag: int = strawberry.field(
        description="Events committed since the cursor (not all may pass its filter)."
    )
    last_error: str
    last_delivered_at: datetime | None
    lease_holder: str | None = strawberry.field(description="The deliverer working on it now.")
    lease_until: datetime | None


def listener_of(stored: StoredListener, last_seq: int) -> Listener:
    """The API view of a stored listener, `last_seq` being the log's newest event."""
    where = stored.where
    return Listener(
        id=strawberry.ID(stored.id),
        callback=stored.callback,
        types=list(where.types or ()),
        filter=ListenerFilter(
            types=list(where.types or ()),
            subjects=where.subjects,
            sites=where.sites,
            products=where.products,
            partner=where.partner,
        ),
        owner=ListenerOwner(
            role=stored.owner_role, partner=stored.owner_partner, name=stored.created_by
        ),
        created_at=stored.created_at,
        state=stored.state,
        batch_size=stored.batch_size,
        cursor=event_cursor(stored.cursor),
        sequence=stored.cursor,
        delivered=stored.delivered,
        dead=stored.dead,
        lag=max(0, last_seq - stored.cursor),
        last_error=stored.last_error,
        last_delivered_at=stored.last_delivered_at,
        lease_holder=stored.lease_owner,
        lease_until=stored.lease_until,
    )


@strawberry.type(
    description="The listener registered, with its signing secret: shown only here, keep it to "
    "verify X-Pboss-Signature."
)
class ListenerRegistered:
    listener: Listener
    secret: str


@strawberry.type(
    description="A listener registration refused for one argument (`field`: callback, types, "
    "filter.subjects, filter.sites, filter.products, filter.partner, secret or batchSize); "
    "nothing was written."
)
class InvalidListener(Error):
    field: str

    @classmethod
    def of(cls, field: str, message: str, code: str = "INVALID_LISTENER") -> InvalidListener:
        """The refusal of one argument."""
        return cls(message=message, code=code, field=field)


@strawberry.type(description="An event a listener's callback did not accept after every try.")
class DeadLetter:
    id: strawberry.ID
    listener: strawberry.ID
    sequence: int
    cursor: str = strawberry.field(description="The event's cursor (`events(after:)`).")
    event_id: strawberry.ID
    event_type: str
    reason: str
    attempts: int
    at: datetime
    state: DeadLetterStateEnum
    replays: int


def dead_letter_of(stored: StoredDeadLetter) -> DeadLetter:
    """The API view of a stored dead letter."""
    return DeadLetter(
        id=strawberry.ID(stored.id),
        listener=strawberry.ID(stored.listener),
        sequence=stored.seq,
        cursor=event_cursor(stored.seq),
        event_id=strawberry.ID(stored.event_id),
        event_type=stored.event_type,
        reason=stored.reason,
        attempts=stored.attempts,
        at=stored.at,
        state=stored.state,
        replays=stored.replays,
    )


@strawberry.type(description="A page of dead letters, by listener then sequence (`first` of them).")
class DeadLetterConnection:
    items: list[DeadLetter]


RegisterListenerResult = Annotated[
    ListenerRegistered | InvalidListener | Forbidden, strawberry.union("RegisterListenerResult")
]
ListenerResult = Annotated[Listener | NotFound, strawberry.union("ListenerResult")]
UnregisterListenerResult = Annotated[
    Listener | NotFound | Forbidden, strawberry.union("UnregisterListenerResult")
]
DeadLettersResult = Annotated[
    DeadLetterConnection | NotFound | ValidationError, strawberry.union("DeadLettersResult")
]
ReplayResult = Annotated[
    DeadLetterConnection | ValidationError | Forbidden, strawberry.union("ReplayDeadLettersResult")
]
