"""The delivery worker: every committed event to every matching listener, in order, at least once.

One worker per process (`runner.start_delivery`, run by the app's lifespan when `hub_deliver`),
on its own thread and event loop so deliveries never queue behind the API's requests. It has an
owner id (host:pid:random) and, every third of `hub_lease_seconds`, claims or renews the leases
of the active listeners it may hold (`GraphStore.claim_listeners`); a listener another process
holds is left alone until that lease runs out (a crashed deliverer's are taken over then).

Each held listener gets one task, so one listener never has two events in flight:

1. dead letters an admin queued again (`replay`) are sent first, each ending `delivered` or back
   at `dead` with the new reason;
2. then the events after the listener's cursor that pass its filter, oldest first, through
   `Sender.deliver`: one a POST, or for a listener with `batch_size` > 1 up to that many
   consecutive ones already fetched (never waiting for more) as one array; retries with
   back-off resend the same events, and after the last try each of them is a dead letter;
3. the cursor, counts and dead letters are recorded (`record_delivery`, which also renews the
   lease) per batch, every `batch_events` events or `batch_seconds`, whichever comes first, and
   the task stops the moment a record is refused (the lease was lost), leaving the listener to
   its new holder, which resumes from the recorded cursor (at-least-once).

Waiting for new events: a commit in this process wakes the tasks at once (`watch_events`); the
events other processes commit are noticed by polling `last_event_seq` every `hub_poll_seconds`.
Store calls are blocking and run on a small thread pool of the worker's own. Nothing is kept per
event delivered: memory is the page in hand and one pending report per listener.

Size: one worker's life (leases, the per-listener loop, its records) reads as one sequence; split,
the lease and record rules it depends on would be spread over modules that only it uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from pboss.config import Settings
from pboss.hub.sender import Backoff, Outcome, Sender, Sleep
from pboss.inventory.events import EventFilter, StoredEvent
from pboss.inventory.listeners import DeadLetter, DeadLetterState, DeliveryReport, Listener
from pboss.inventory.store import GraphStore

if TYPE_CHECKING:
    from pboss.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Events fetched per page of a listener's stream.
PAGE = 100
#: Replays taken per round.
REPLAY_PAGE = 20


def transport() -> httpx.AsyncHTTPTransport:
    """The deliveries' connections: kept alive, and with TCP_NODELAY, since a request goes out as
    two writes (head, then body) and Nagle's algorithm would hold the body back until the
    receiver's delayed ACK (~40 ms a request: measured 66 against 587 requests/s)."""
    return httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )


def owner_id() -> str:
    """This process's deliverer id: host, pid and a random part (a restarted pid differs)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Signal:
    """Wakes every waiter at once; a waiter takes `current()` before looking, then waits on it,
    so a wake between its look and its wait is not missed."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        """The event the next `fire` sets."""
        return self._event

    def fire(self) -> None:
        """Wake everyone waiting on the current event."""
        self._event.set()
        self._event = asyncio.Event()


@dataclass
class Run:
    """What the worker holds for one listener: its record, its task, and the unrecorded batch."""

    listener: Listener
    cursor: int
    task: asyncio.Task[None] | None = None
    recorded: int = 0
    delivered: int = 0
    dead: list[DeadLetter] = field(default_factory=list)
    last_error: str = ""
    last_delivered_at: datetime | None = None
    since: float = 0.0  # loop time of the batch's first unrecorded change
    lost: bool = False
    #: The record on its way to the store, and the report it carries (at most one at a time).
    inflight: tuple[DeliveryReport, asyncio.Future[bool]] | None = None
    #: The listener's own HTTP client and sender (None: the worker's shared one).
    client: httpx.AsyncClient | None = None
    sender: Sender | None = None

    @property
    def pending(self) -> bool:
        """True when something happened since the last record."""
        return self.cursor > self.recorded or self.delivered > 0 or bool(self.dead)


class DeliveryWorker:
    """The hub's deliverer for one process (see the module docstring); async, one event loop."""

    def __init__(
        self,
        store: GraphStore,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        owner: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        batch_events: int = 50,
        batch_seconds: float = 0.1,
        store_threads: int = 4,
    ):
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.owner = owner or owner_id()
        self.clock = clock
        self._sleep = sleep
        self._rng = rng
        self._transport = transport
        self.batch_events = batch_events
        self.batch_seconds = batch_seconds
        self._pool = ThreadPoolExecutor(store_threads, thread_name_prefix="pboss-hub")
        self.runs: dict[str, Run] = {}
        self._signal: Signal | None = None
        self._main: asyncio.Task[None] | None = None
        self._stopping = False
        self._unwatch: Callable[[], None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._sender: Sender | None = None
        self._last_seq = 0
        #: The outcome counters' labelled children, looked up once rather than per event.
        self._counters: dict[str, Any] = {}
        #: Page reads in flight, by (cursor, filter): the ceiling each was started under and its
        #: result, which listeners at the same place share (`_read_page`).
        self._reads: dict[tuple[int, str], tuple[int, asyncio.Future[list[StoredEvent]]]] = {}

    # ---- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the HTTP client, listen for this process's commits, start claiming listeners."""
        loop = asyncio.get_running_loop()
        self._signal = Signal()
        self._client = self._new_client(self._transport or transport())
        self._sender = self._new_sender(self._client)

        def heard(seq: int) -> None:  # called in the committing thread: hand over to our loop
            with contextlib.suppress(RuntimeError):  # a closed loop: the worker is gone
                loop.call_soon_threadsafe(self._heard, seq)

        self._unwatch = self.store.watch_events(heard)
        self._last_seq = await self._call(self.store.last_event_seq)
        self._main = asyncio.create_task(self._supervise(), name="pboss-hub-supervisor")

    def _new_client(self, over: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.hub_timeout_seconds),
            follow_redirects=False,
            transport=over,
            trust_env=False,
        )

    def _new_sender(self, client: httpx.AsyncClient) -> Sender:
        backoff = Backoff(
            self.settings.hub_backoff_seconds,
            self.settings.hub_backoff_max_seconds,
            self.settings.hub_max_attempts,
        )
        timeout = self.settings.hub_timeout_seconds
        return Sender(client, backoff, timeout, sleep=self._sleep or asyncio.sleep, rng=self._rng)

    def _own_client(self, run: Run) -> None:
        """Give a listener its own client (one kept-alive connection): httpx's pool checks every
        idle connection it holds before each request, so one pool shared by 20 listeners cost 20
        connection checks (a `getpeername` and a `poll` each) a POST. A transport given to the
        worker (tests) stays shared."""
        if self._transport is None:
            run.client = self._new_client(transport())
            run.sender = self._new_sender(run.client)

    @staticmethod
    async def _close_client(run: Run) -> None:
        if run.client is not None:
            await run.client.aclose()

    def _heard(self, seq: int) -> None:
        if seq == 0 or seq > self._last_seq:
            self._last_seq = max(self._last_seq, seq)
            if self._signal is not None:
                self._signal.fire()

    async def stop(self) -> None:
        """Stop delivering: end the tasks, record what was delivered, release every lease."""
        self._stopping = True
        if self._unwatch is not None:
            self._unwatch()
        if self._signal is not None:
            self._signal.fire()
        tasks = [t for t in (self._main, *(r.task for r in self.runs.values())) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for run in list(self.runs.values()):
            await self._finish(run)
        self.runs.clear()
        if self._client is not None:
            await self._client.aclose()
        self._pool.shutdown(wait=True)

    def abandon(self) -> None:
        """Stop hearing commits and starting store calls, leaving the leases as they are
        (`DeliveryHandle.halt`)."""
        self._stopping = True
        if self._unwatch is not None:
            self._unwatch()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call on the worker's pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(fn, *args, **kwargs))

    # ---- leases --------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Claim and renew leases every third of the lease; poll for other processes' events."""
        lease = self.settings.hub_lease_seconds
        loop = asyncio.get_running_loop()
        next_claim = 0.0
        while not self._stopping:
            if loop.time() >= next_claim:
                try:
                    await self.claim()
                except Exception:
                    log.exception("hub: claiming listeners failed; trying again")
                next_claim = loop.time() + lease / 3
            if not self.runs:  # nothing held: nothing to wake; only the claims go on
                await asyncio.sleep(max(0.0, next_claim - loop.time()))
                continue
            try:
                last = await self._call(self.store.last_event_seq)
                self._heard(last)
                self._observe_lag(last)
                if self.runs and await self._replays_queued():
                    assert self._signal is not None
                    self._signal.fire()
            except Exception:
                log.exception("hub: polling the event log failed")
            until_claim = max(0.0, next_claim - loop.time())
            await asyncio.sleep(min(self.settings.hub_poll_seconds, until_claim))

    async def _replays_queued(self) -> bool:
        """True when a listener this worker holds has dead letters queued for replay (an admin's
        `replay` writes no event, so the poll looks for them too)."""
        queued = await self._call(
            self.store.dead_letters, states=[DeadLetterState.REPLAY], first=REPLAY_PAGE
        )
        return any(dl.listener in self.runs for dl in queued)

    async def claim(self) -> list[str]:
        """Claim or renew this owner's listeners now; start a task for each new one and stop the
        tasks of those no longer held (removed, paused or taken over). Returns the held ids."""
        now = self.clock()
        until = now + timedelta(seconds=self.settings.hub_lease_seconds)
        held = await self._call(
            self.store.claim_listeners,
            self.owner,
            now=now,
            until=until,
            limit=self.settings.hub_max_listeners,
        )
        ids = {ls.id for ls in held}
        for lid, run in list(self.runs.items()):
            if lid not in ids or run.lost or (run.task is not None and run.task.done()):
                await self._drop(run)
        for ls in held:
            if ls.id not in self.runs and not self._stopping:
                run = Run(listener=ls, cursor=ls.cursor, recorded=ls.cursor)
                self._own_client(run)
                run.task = asyncio.create_task(self._serve(run), name=f"pboss-hub-{ls.id}")
                self.runs[ls.id] = run
        return sorted(ids)

    async def _drop(self, run: Run) -> None:
        """Stop a listener's task (no longer held, paused, removed or its lease lost); record
        and release what is still ours (the store refuses the rest)."""
        self.runs.pop(run.listener.id, None)
        if self.metrics is not None:
            with contextlib.suppress(KeyError):  # never observed
                self.metrics.hub_lag.remove(run.listener.id)
        if run.task is not None and not run.task.done():
            run.task.cancel()
            await asyncio.gather(run.task, return_exceptions=True)
        await self._finish(run)

    async def _finish(self, run: Run) -> None:
        """Record a listener's last batch, give its lease back and close its client."""
        try:
            await self._close_client(run)
            if not await self._settle(run):
                return
            if run.pending:
                await self._record(run, wait=True)
            if not run.lost:
                await self._call(self.store.release_listener, run.listener.id, self.owner)
        except Exception:
            log.exception("hub: releasing listener %s failed", run.listener.id)

    # ---- one listener --------------------------------------------------------------------------

    async def _serve(self, run: Run) -> None:
        """Deliver to one listener until stopped or the lease is lost (then it lets go at once:
        the listener's holder is another deliverer now)."""
        try:
            await self._serve_until_lost(run)
        finally:
            if run.lost:
                await self._close_client(run)
            if run.lost and self.runs.get(run.listener.id) is run:
                del self.runs[run.listener.id]

    async def _serve_until_lost(self, run: Run) -> None:
        assert self._signal is not None
        while not self._stopping and not run.lost:
            wake = self._signal.current()
            try:
                busy = await self._replays(run)
                if run.lost:
                    return
                busy = await self._page(run) or busy
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub: delivering to listener %s failed; retrying", run.listener.id)
                busy = False
            if run.pending and not run.lost:
                await self._record(run)
            if not busy and await self._settle(run):  # idle: first hear how the record went
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.settings.hub_lease_seconds / 3)

    async def _replays(self, run: Run) -> bool:
        """Send the listener's dead letters queued for replay; True when there were some."""
        queued = await self._call(
            self.store.dead_letters,
            listener=run.listener.id,
            states=[DeadLetterState.REPLAY],
            first=REPLAY_PAGE,
        )
        for dl in queued:
            found = await self._call(self.store.events_after, dl.seq - 1, first=1)
            if not found or found[0].seq != dl.seq:
                await self._call(
                    self.store.set_dead_letters,
                    [dl.id],
                    DeadLetterState.DEAD,
                    reason=f"event {dl.event_id} (#{dl.seq}) is no longer in the log",
                )
                continue
            outcome = await self._send(run, found[:1])  # one a POST (an array of one if batched)
            state = DeadLetterState.DELIVERED if outcome.delivered else DeadLetterState.DEAD
            reason = None if outcome.delivered else f"replay: {outcome.reason}"
            await self._call(self.store.set_dead_letters, [dl.id], state, reason=reason)
            self._count("replayed" if outcome.delivered else "replay_failed")
        return bool(queued)

    async def _page(self, run: Run) -> bool:
        """Deliver one page of the listener's stream; True when it was full (more to come)."""
        ceiling = self._last_seq  # every event numbered up to here is committed
        events = await self._read_page(run.cursor, run.listener.where, ceiling)
        loop = asyncio.get_running_loop()
        size = run.listener.batch_size
        for at in range(0, len(events), size):
            if run.inflight is not None and run.inflight[1].done() and not await self._settle(run):
                return False  # the last record found the lease lost: not ours to send
            posted = events[at : at + size]  # consecutive, committed: never waits to fill
            outcome = await self._send(run, posted)
            if not run.pending:
                run.since = loop.time()
            run.cursor = posted[-1].seq
            if outcome.delivered:
                run.delivered += len(posted)
                run.last_delivered_at = self.clock()
                run.last_error = ""
            else:
                run.last_error = outcome.reason
                run.dead.extend(self._dead_letter(run, event, outcome) for event in posted)
            full = run.delivered + len(run.dead) >= self.batch_events
            if (full or loop.time() - run.since >= self.batch_seconds) and not await self._record(
                run
            ):
                return False
        if len(events) < PAGE and ceiling > run.cursor:
            run.cursor = ceiling  # nothing else up to the ceiling passes the filter
        return len(events) == PAGE

    async def _read_page(self, cursor: int, where: EventFilter, ceiling: int) -> list[StoredEvent]:
        """The page of events after `cursor` passing `where`. Listeners woken by the same commit
        often stand at the same cursor with the same filter: they share one read instead of
        making it once each (20 listeners made 20 reads of the same page). A read is joined only
        when it was started under a ceiling at least the joiner's, so it sees every event the
        joiner knows is committed (the joiner moves its cursor up to that ceiling)."""
        key = (cursor, where.model_dump_json())
        shared = self._reads.get(key)
        if shared is None or shared[0] < ceiling:
            loop = asyncio.get_running_loop()
            call = partial(self.store.events_after, cursor, where=where, first=PAGE)
            pending = loop.run_in_executor(self._pool, call)
            shared = self._reads[key] = (ceiling, pending)

            def done(_: object, key: tuple[int, str] = key, mine: Any = shared) -> None:
                if self._reads.get(key) is mine:
                    del self._reads[key]

            pending.add_done_callback(done)
        return list(await asyncio.shield(shared[1]))  # a cancelled reader leaves it to the rest

    async def _send(self, run: Run, events: list[StoredEvent]) -> Outcome:
        """One POST of these events (one, or a batched listener's array), with its retries;
        counted per event."""
        sender = run.sender or self._sender
        assert sender is not None
        outcome = await sender.deliver(
            run.listener, events, on_retry=lambda: self._count("retried")
        )
        if outcome.delivered:
            self._count("delivered", len(events))
            if self.metrics is not None:
                now = datetime.now(UTC)
                for event in events:
                    age = (now - event.at).total_seconds()
                    self.metrics.hub_delivery_seconds.observe(max(0.0, age))
        else:
            self._count("dead", len(events))
            log.warning(
                "hub: %d event(s) %s..%s to listener %s are dead letters after %d tries: %s",
                len(events),
                events[0].id,
                events[-1].id,
                run.listener.id,
                outcome.attempts,
                outcome.reason,
            )
        return outcome

    def _dead_letter(self, run: Run, event: StoredEvent, outcome: Outcome) -> DeadLetter:
        return DeadLetter(
            id=f"DL-{uuid.uuid4().hex[:16]}",
            listener=run.listener.id,
            seq=event.seq,
            event_id=event.id,
            event_type=event.type,
            reason=outcome.reason,
            attempts=outcome.attempts,
            at=self.clock(),
        )

    async def _record(self, run: Run, *, wait: bool = False) -> bool:
        """Send the batch (cursor, counts, dead letters) to the store, renewing the lease. The
        record goes on while the next events are sent; the one after it first waits for it
        (`_settle`), so a lost lease is heard within one batch. False when a record found the
        lease lost (the listener is then left to its holder)."""
        if not await self._settle(run):
            return False
        report = DeliveryReport(
            cursor=run.cursor,
            lease_until=self.clock() + timedelta(seconds=self.settings.hub_lease_seconds),
            delivered=run.delivered,
            last_error=run.last_error,
            last_delivered_at=run.last_delivered_at,
            dead=run.dead,
        )
        run.recorded, run.delivered, run.dead, run.last_delivered_at = run.cursor, 0, [], None
        loop = asyncio.get_running_loop()
        call = partial(self.store.record_delivery, run.listener.id, self.owner, report)
        run.inflight = (report, loop.run_in_executor(self._pool, call))
        return await self._settle(run) if wait else True

    async def _settle(self, run: Run) -> bool:
        """Wait for the record in flight, if any; False when it found the lease lost. A record
        that failed (the store unreachable) is folded back into the batch, to go with the next."""
        if run.inflight is None:
            return not run.lost
        report, pending = run.inflight
        try:
            kept = await asyncio.shield(pending)  # a cancelled waiter leaves it to `_finish`
        except asyncio.CancelledError:
            raise
        except Exception:
            run.inflight = None
            run.recorded = 0  # the cursor is to be recorded again
            run.delivered += report.delivered
            run.dead = report.dead + run.dead
            run.last_delivered_at = run.last_delivered_at or report.last_delivered_at
            log.exception("hub: recording deliveries to %s failed; retrying", run.listener.id)
            return True
        run.inflight = None
        if not kept:
            run.lost = True
            log.info("hub: lease on listener %s lost; leaving it to its holder", run.listener.id)
        return kept

    # ---- metrics -------------------------------------------------------------------------------

    def _count(self, outcome: str, n: int = 1) -> None:
        if self.metrics is not None:
            counter = self._counters.get(outcome)
            if counter is None:
                counter = self._counters[outcome] = self.metrics.hub_deliveries.labels(outcome)
            counter.inc(n)

    def _observe_lag(self, last: int) -> None:
        if self.metrics is not None:
            for lid, run in list(self.runs.items()):
                self.metrics.hub_lag.labels(lid).set(max(0, last - run.cursor))
