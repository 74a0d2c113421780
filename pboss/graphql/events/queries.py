"""The event log query: CRM (or an engineer, an admin) pages the durable stream from a cursor.

The cursor is the event's sequence number, base64-wrapped (`encode_cursor`), not sealed: the
number tells these roles nothing they may not know, and a cursor must stay valid across restarts
and replicas whether or not `PBOSS_CURSOR_KEY` is configured, since resuming after an outage is
its whole point. Partner keys are refused (Forbidden): an order's events carry the customer and
the whole path, so a partner's view of them needs its own filtered shape (issue 17, later).
"""

from __future__ import annotations

import strawberry

from pboss.graphql.connections import MAX_PAGE, PageInfo, decode_cursor, page_size
from pboss.graphql.context import Info
from pboss.graphql.errors import Forbidden, UserInputError
from pboss.graphql.events.types import (
    CURSOR,
    EventConnection,
    EventEdge,
    EventsResult,
    event_cursor,
    event_of,
)

#: Roles that read the event log.
EVENT_ROLES = frozenset({"crm", "engineer", "admin"})


def sequence_of(cursor: str | None) -> int:
    """The sequence number inside an event cursor (0, the start, for none)."""
    key = decode_cursor(CURSOR, cursor)
    if key is None:
        return 0
    if not key.isdigit() or len(key) > 18:
        raise UserInputError(f"invalid cursor {cursor!r} for this list")
    return int(key)


@strawberry.type
class EventsQuery:
    """The durable event log."""

    @strawberry.field(
        description=(
            "Committed events after a cursor (from the start without one), oldest first, of "
            f"these types (every type without), at most `first` (1..{MAX_PAGE}). Resume "
            "with the last page's endCursor: you get exactly the events committed since."
        )
    )
    async def events(
        self,
        info: Info,
        after: str | None = None,
        types: list[str] | None = None,
        first: int = 50,
    ) -> EventsResult:
        ctx = info.context
        if ctx.principal.role not in EVENT_ROLES:
            detail = "partners' event views are not available yet"
            return Forbidden.of(
                "read events", ctx.principal.role, detail if ctx.principal.is_partner else ""
            )
        first = page_size(first)
        start = sequence_of(after)
        page = await ctx.call(ctx.store.events_after, start, types=types, first=first + 1)
        more = len(page) > first
        edges = [EventEdge(cursor=event_cursor(e.seq), node=event_of(e)) for e in page[:first]]
        end = edges[-1].cursor if edges else after
        return EventConnection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end))
