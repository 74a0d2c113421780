"""`eventStream(after:, types:, subjects:, sites:, products:)`: the event log, live, over WebSocket.

A subscriber first gets the committed events after its cursor, then each new one as it commits:
in sequence order, no gaps, no duplicates, under the same rules as `events` (`reader_of`: the
roles that read the log, a partner only what concerns it, in its view). The stream reads the log
a page at a time from the store by cursor and sends one event before it reads the next page, so
a slow client holds at most one page in the server's memory, however far behind it is (the
socket's own backpressure stops the reading). It wakes as soon as this process commits events
(`GraphStore.watch_events`) and otherwise looks at `last_event_seq` every `hub_poll_seconds`,
which is how it hears what other API processes commit.

Sequence numbers are handed out in commit order (the store's counter is held to the commit), so
once the log's head has been read, every event up to it is readable: the stream moves its cursor
to that head after a short page, past the events its filter skips, and never misses one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Forbidden
from pboss.graphql.events.queries import Reader, reader_of, sequence_of
from pboss.graphql.events.types import Event, event_of

#: Events read from the store at once per subscriber (all a slow client can hold up).
STREAM_PAGE = 100

EventStreamResult = Annotated[Event | Forbidden, strawberry.union("EventStreamResult")]


class Waker:
    """Set when this process commits events (`watch_events`), from the committing thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.event = asyncio.Event()

    def __call__(self, last_seq: int) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            self.loop.call_soon_threadsafe(self.event.set)

    async def wait(self, timeout: float) -> None:
        """Until woken or `timeout` seconds passed (then the caller polls the log's head)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)


async def follow(ctx: Context, reader: Reader, start: int) -> AsyncGenerator[Event, None]:
    """The events after `start` that pass the reader's filter, then every later one, forever."""
    store = ctx.store
    waker = Waker(asyncio.get_running_loop())
    stop = store.watch_events(waker)
    poll = ctx.settings.hub_poll_seconds
    cursor = start
    try:
        while True:
            waker.event.clear()  # before reading the head: a commit after it wakes us again
            head = await ctx.call(store.last_event_seq)
            while cursor < head:
                page = await ctx.call(
                    store.events_after, cursor, first=STREAM_PAGE, where=reader.where
                )
                for stored in page:
                    yield event_of(stored, reader.partner)
                    cursor = stored.seq
                if len(page) < STREAM_PAGE:  # everything up to the head read
                    cursor = max(cursor, head)
            await waker.wait(poll)
    finally:
        stop()


@strawberry.type
class EventsSubscription:
    """The event log, live."""

    @strawberry.subscription(
        description=(
            "The committed events after a cursor (from the start without one), then each new "
            "one as it commits, in order, no gaps, no duplicates; filtered and shown as "
            "`events` does (a partner key: what concerns it, in the partner view). Keep the "
            "last event's cursor to resume with `events(after:)` or here. GraphQL over "
            "WebSocket (graphql-transport-ws) on /graphql; the API key goes in the handshake's "
            "Authorization header or in connection_init's payload as apiKey."
        )
    )
    async def event_stream(
        self,
        info: Info,
        after: str | None = None,
        types: list[str] | None = None,
        subjects: list[str] | None = None,
        sites: list[str] | None = None,
        products: list[str] | None = None,
    ) -> AsyncGenerator[EventStreamResult, None]:
        ctx = info.context
        reader = reader_of(
            ctx.principal, types=types, subjects=subjects, sites=sites, products=products
        )
        if isinstance(reader, Forbidden):
            yield reader
            return
        start = sequence_of(after)
        async for event in follow(ctx, reader, start):
            yield event
