"""The event hub's stored records: listeners (TMF688 hub subscriptions) and dead letters.

A listener is a callback URL that wants the events passing a filter (`EventFilter`). Its
`cursor` is the sequence number of the last event it has been given or dead-lettered: delivery
resumes after it, so nothing committed is skipped and, at worst, the events since the last
recorded cursor are delivered again (at least once; the event id is the receiver's idempotency
key). A deliverer works on a listener only while it holds the listener's lease (`lease_owner`
until `lease_until`), so several API processes deliver each event once in the normal case and a
crashed deliverer's listeners are taken over when its lease runs out. A delivery is recorded only
while its deliverer still owns the lease: once another took it over, the late report is refused
and writes nothing (its events are delivered again by the new holder); a lease that ran out with
nobody taking it over is still the holder's, since no one else can have delivered meanwhile.

The stores keep these records beside the graph but outside it: they are not resources (no
riders, no history), and the cursor moves far too often for the history of every change.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from pboss.inventory.events import EventFilter

#: The most dead letters one `GraphStore.dead_letters` call returns.
MAX_DEAD_LETTERS_PAGE = 1000
#: The most events one batched delivery carries (`Listener.batch_size`).
MAX_BATCH_SIZE = 100


class ListenerState(StrEnum):
    """Whether a listener is being delivered to."""

    ACTIVE = "active"
    PAUSED = "paused"


class Listener(BaseModel):
    """One registered callback: where events go, which ones, who registered it, where it stands."""

    id: str
    callback: str
    #: The HMAC key deliveries are signed with; never shown again after registration.
    secret: str
    where: EventFilter = Field(default_factory=EventFilter)
    #: The role and, for a partner key, the partner that registered it (bounds what it may see).
    owner_role: str
    owner_partner: str | None = None
    created_by: str = ""
    created_at: datetime
    state: ListenerState = ListenerState.ACTIVE
    #: Events per POST: 1 is one event object per POST (TMF style); 2..`MAX_BATCH_SIZE` sends a
    #: JSON array of up to that many consecutive events already committed (opt-in).
    batch_size: int = Field(default=1, ge=1, le=MAX_BATCH_SIZE)
    #: The sequence number of the last event delivered or dead-lettered (0: none yet).
    cursor: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = None
    delivered: int = 0
    dead: int = 0
    last_error: str = ""
    last_delivered_at: datetime | None = None


class DeadLetterState(StrEnum):
    """A dead letter waits for an admin (`dead`), is queued again (`replay`), or went through
    on a replay (`delivered`)."""

    DEAD = "dead"
    REPLAY = "replay"
    DELIVERED = "delivered"


class DeadLetter(BaseModel):
    """An event a listener's callback did not accept after the configured number of tries."""

    id: str
    listener: str
    seq: int
    event_id: str
    event_type: str
    reason: str
    attempts: int = Field(ge=1)
    at: datetime
    state: DeadLetterState = DeadLetterState.DEAD
    replays: int = 0


class DeliveryReport(BaseModel):
    """What a deliverer records for one listener after a batch (`GraphStore.record_delivery`):
    the new cursor, the lease renewed until, the counts and the events it gave up on."""

    cursor: int = Field(ge=0)
    lease_until: datetime
    delivered: int = Field(default=0, ge=0)
    last_error: str = ""
    last_delivered_at: datetime | None = None
    dead: list[DeadLetter] = Field(default_factory=list)


def check_dead_letters_page(first: int) -> None:
    """Refuse a page size outside 1..`MAX_DEAD_LETTERS_PAGE` (ValueError with the reason)."""
    if not 1 <= first <= MAX_DEAD_LETTERS_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_DEAD_LETTERS_PAGE}, got {first}")
