"""The event log query: CRM, engineers, admins and partners page the durable stream from a cursor.

The cursor is the event's sequence number, base64-wrapped (`encode_cursor`), not sealed: the
number tells a reader nothing it may not know (that events happened, not what), and a cursor must
stay valid across restarts and replicas whether or not `PBOSS_CURSOR_KEY` is configured, since
resuming after an outage is its whole point. A partner key reads only the event types a partner
may receive (`hub.catalog`) whose scope names its partner id, each in the partner view
(`hub.views.body_for`: no customer, no notes, no other partner's resources); the same rules bound
the live stream (`subscriptions.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
from pboss.graphql.permissions import Principal
from pboss.hub import catalog
from pboss.inventory.events import EventFilter

#: Roles that read the whole event log.
EVENT_ROLES = frozenset({"crm", "engineer", "admin"})
#: The most values one filter argument (types, subjects, sites, products) may list.
MAX_FILTER_VALUES = 100


def sequence_of(cursor: str | None) -> int:
    """The sequence number inside an event cursor (0, the start, for none)."""
    key = decode_cursor(CURSOR, cursor)
    if key is None:
        return 0
    if not key.isdigit() or len(key) > 18:
        raise UserInputError(f"invalid cursor {cursor!r} for this list")
    return int(key)


@dataclass(frozen=True)
class Reader:
    """What one caller reads of the log: the filter its arguments and its role make, and the
    partner whose view of the bodies it gets (None: the whole body)."""

    where: EventFilter
    partner: str | None


def reader_of(
    principal: Principal,
    *,
    types: Sequence[str] | None = None,
    subjects: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
    products: Sequence[str] | None = None,
) -> Reader | Forbidden:
    """The reader a caller's role and filter arguments make; Forbidden for a role that reads no
    events; a UserInputError (BAD_USER_INPUT) naming an argument with 0 or too many values."""
    partner = principal.partner_id if principal.is_partner else None
    if principal.role not in EVENT_ROLES and partner is None:
        return Forbidden.of("read events", principal.role)
    lists = {"types": types, "subjects": subjects, "sites": sites, "products": products}
    for name, values in lists.items():
        if values is not None and not 1 <= len(values) <= MAX_FILTER_VALUES:
            raise UserInputError(f"{name} lists 1 to {MAX_FILTER_VALUES} values (or leave it out)")
    wanted = None if types is None else sorted(set(types))
    if partner is not None:  # a partner reads only the types a partner view exists for
        visible = set(catalog.visible_types(principal.role))
        wanted = sorted(visible if wanted is None else visible & set(wanted))
    where = EventFilter(
        types=wanted,
        subjects=None if subjects is None else sorted(set(subjects)),
        sites=None if sites is None else sorted(set(sites)),
        products=None if products is None else sorted(set(products)),
        partner=partner,
    )
    return Reader(where=where, partner=partner)


@strawberry.type
class EventsQuery:
    """The durable event log."""

    @strawberry.field(
        description=(
            "Committed events after a cursor (from the start without one), oldest first, of "
            "these types (every type without), about these subjects, naming one of these sites "
            f"or products, at most `first` (1..{MAX_PAGE}). Resume with the last page's "
            "endCursor: you get exactly the events committed since. A partner key gets the "
            "events that concern it, in the partner view."
        )
    )
    async def events(
        self,
        info: Info,
        after: str | None = None,
        types: list[str] | None = None,
        first: int = 50,
        subjects: list[str] | None = None,
        sites: list[str] | None = None,
        products: list[str] | None = None,
    ) -> EventsResult:
        ctx = info.context
        reader = reader_of(
            ctx.principal, types=types, subjects=subjects, sites=sites, products=products
        )
        if isinstance(reader, Forbidden):
            return reader
        first = page_size(first)
        start = sequence_of(after)
        page = await ctx.call(ctx.store.events_after, start, first=first + 1, where=reader.where)
        more = len(page) > first
        edges = [
            EventEdge(cursor=event_cursor(e.seq), node=event_of(e, reader.partner))
            for e in page[:first]
        ]
        end = edges[-1].cursor if edges else after
        return EventConnection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end))
