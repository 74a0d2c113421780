"""Hub mutations: register and unregister a listener, replay dead letters (admins).

Each answers with its result or a typed error: InvalidListener naming the argument at fault
(nothing written), Forbidden for a role that may not, NotFound for a listener the key cannot see.
"""

from __future__ import annotations

import strawberry

from pboss.graphql.context import Info
from pboss.graphql.errors import Forbidden, NotFound, ValidationError
from pboss.graphql.hub.access import caller_of, field_path, hub_of
from pboss.graphql.hub.inputs import RegisterListenerInput
from pboss.graphql.hub.types import (
    DeadLetterConnection,
    InvalidListener,
    ListenerRegistered,
    RegisterListenerResult,
    ReplayResult,
    UnregisterListenerResult,
    dead_letter_of,
    listener_of,
)
from pboss.hub.service import HubForbidden, HubRefused, ListenerNotFound
from pboss.inventory.events import EventFilter

#: The most dead letters one replay names.
MAX_REPLAY = 500


@strawberry.type
class HubMutation:
    """Register and unregister listeners; replay dead letters."""

    @strawberry.mutation(
        description="Register a callback for events (TMF688 hub). The answer carries the "
        "signing secret, shown only this once. A new listener hears events committed from now "
        "on; read earlier ones with `events(after:)`."
    )
    async def register_listener(
        self, info: Info, input: RegisterListenerInput
    ) -> RegisterListenerResult:
        ctx = info.context
        hub = hub_of(ctx)
        given = input.filter
        where = EventFilter(
            subjects=given.subjects if given else None,
            sites=given.sites if given else None,
            products=given.products if given else None,
            partner=given.partner if given else None,
        )
        try:
            listener, secret = await ctx.call(
                hub.register,
                caller_of(ctx),
                input.callback,
                types=input.types,
                where=where,
                secret=input.secret,
                batch_size=input.batch_size,
            )
        except HubRefused as exc:
            return InvalidListener.of(field_path(exc.field), str(exc))
        except HubForbidden as exc:
            if exc.field is not None:  # an argument asked for what the role may not see
                return InvalidListener.of(field_path(exc.field), str(exc), code="NOT_VISIBLE")
            return Forbidden.of(exc.action, exc.role, exc.detail)
        head = await ctx.call(ctx.store.last_event_seq)
        return ListenerRegistered(listener=listener_of(listener, head), secret=secret)

    @strawberry.mutation(
        description="Remove a listener this key may see, with its dead letters; returns what it "
        "was. Deliveries to it stop."
    )
    async def unregister_listener(self, info: Info, id: strawberry.ID) -> UnregisterListenerResult:
        ctx = info.context
        hub = hub_of(ctx)
        try:
            gone = await ctx.call(hub.unregister, caller_of(ctx), str(id))
        except ListenerNotFound:
            return NotFound.of(str(id), "Listener")
        except HubForbidden as exc:
            return Forbidden.of(exc.action, exc.role, exc.detail)
        return listener_of(gone, await ctx.call(ctx.store.last_event_seq))

    @strawberry.mutation(
        description="Queue dead letters for delivery again (admins only); their listener's "
        f"deliverer sends them before its next events. At most {MAX_REPLAY} ids at once."
    )
    async def replay_dead_letters(self, info: Info, ids: list[strawberry.ID]) -> ReplayResult:
        ctx = info.context
        if ctx.principal.role != "admin":
            return Forbidden.of("replay dead letters", ctx.principal.role, "an admin replays them")
        if len(ids) > MAX_REPLAY:
            return ValidationError.single("ids", f"name 1 to {MAX_REPLAY} dead letters")
        hub = hub_of(ctx)
        try:
            queued = await ctx.call(hub.replay, caller_of(ctx), [str(i) for i in ids])
        except HubRefused as exc:
            return ValidationError.single(exc.field, str(exc))
        except HubForbidden as exc:
            return Forbidden.of(exc.action, exc.role, exc.detail)
        return DeadLetterConnection(items=[dead_letter_of(d) for d in queued])
