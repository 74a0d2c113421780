"""Hub queries: the caller's listeners (an admin sees every one), one listener, dead letters.

What a caller sees follows `pboss.hub.service`: its own role's listeners (a partner its own), an
admin all. A listener another caller owns is NotFound, as if it did not exist.
"""

from __future__ import annotations

import strawberry

from pboss.graphql.context import Info
from pboss.graphql.errors import NotFound, ValidationError
from pboss.graphql.hub.access import caller_of, hub_of
from pboss.graphql.hub.types import (
    DeadLetterConnection,
    DeadLettersResult,
    DeadLetterStateEnum,
    Listener,
    ListenerResult,
    dead_letter_of,
    listener_of,
)
from pboss.hub.service import ListenerNotFound
from pboss.inventory.listeners import DeadLetterState

#: The most dead letters one page shows.
MAX_DEAD_LETTERS = 500


@strawberry.type
class HubQuery:
    """Listeners and dead letters of the event hub."""

    @strawberry.field(
        description="The listeners this key may see: its role's own (a partner's own), an "
        "admin's every one; by id."
    )
    async def listeners(self, info: Info) -> list[Listener]:
        ctx = info.context
        hub = hub_of(ctx)
        found = await ctx.call(hub.listeners, caller_of(ctx))
        head = await ctx.call(ctx.store.last_event_seq)
        return [listener_of(ls, head) for ls in found]

    @strawberry.field(description="One listener this key may see.")
    async def listener(self, info: Info, id: strawberry.ID) -> ListenerResult:
        ctx = info.context
        hub = hub_of(ctx)
        try:
            found = await ctx.call(hub.listener, caller_of(ctx), str(id))
        except ListenerNotFound:
            return NotFound.of(str(id), "Listener")
        return listener_of(found, await ctx.call(ctx.store.last_event_seq))

    @strawberry.field(
        description="Dead letters of the listeners this key may see (of one, when named), in "
        f"these states (any without), by listener then sequence, at most `first` "
        f"(1..{MAX_DEAD_LETTERS})."
    )
    async def dead_letters(
        self,
        info: Info,
        listener: strawberry.ID | None = None,
        states: list[DeadLetterStateEnum] | None = None,
        first: int = 100,
    ) -> DeadLettersResult:
        ctx = info.context
        if not 1 <= first <= MAX_DEAD_LETTERS:
            return ValidationError.single("first", f"first must be 1 to {MAX_DEAD_LETTERS}")
        wanted = None if states is None else [DeadLetterState(s) for s in states]
        hub = hub_of(ctx)
        try:
            found = await ctx.call(
                hub.dead_letters,
                caller_of(ctx),
                listener=None if listener is None else str(listener),
                states=wanted,
                first=first,
            )
        except ListenerNotFound:
            return NotFound.of(str(listener), "Listener")
        return DeadLetterConnection(items=[dead_letter_of(d) for d in found])
