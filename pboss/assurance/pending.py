"""Batch correlation: a ticket or alarm is written at once and correlated afterwards, in batches.

Why: during an outage every ticket ends in the same incident, so correlating inside each
ticket's own transaction queues every caller on that incident's lock (issue 19's storm: 8.8
tickets/s answered against 13/s arriving, p99 30 s). Now the ticket opening writes the ticket
with `correlate_due` set and answers with the incident already known on its path
(`known_incident`: an unlocked read of the path's tallies, else its SUSPECTS edges); the alarm
ingest likewise writes the alarm and the resource's status. `correlate_pending` then takes the
waiting tickets and alarms, oldest first, up to `BATCH` per transaction, and runs the
correlator's hooks for each of them in that ONE transaction, so an incident's and its tallies'
locks are taken once per batch, not once per ticket.

Many units of work in one transaction: each hook reads, then writes, and a `GraphTx` allows no
read after a write. `BatchTx` is a `GraphTx` over the real one that buffers the writes (later
reads see them: a node put, an edge linked, unlinked or re-pointed) and hands them over in one
go at the end (`flush`); what it read under lock it keeps (the lock is held to the commit).

Two correlators (threads, processes) never count one record twice: the batch locks its records
first and skips any whose `correlate_due` another batch has cleared meanwhile. `Runner` is the
per-process thread (like the provisioning sweeper): woken after a ticket or alarm commits, and
polling every `interval` seconds for anything another process wrote.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from pboss.assurance.incidents import ACTOR, riders_of
from pboss.assurance.model import (
    ACTIVE_INCIDENT_STATES,
    Alarm,
    AlarmState,
    Entry,
    Incident,
    TicketState,
    TroubleTicket,
)
from pboss.assurance.seam import Correlator, suspecting
from pboss.assurance.tallies import CauseTally, tally_id
from pboss.inventory.errors import PbossError
from pboss.inventory.events import NewEvent
from pboss.inventory.model import Edge, Element
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import AlreadyExists, Direction, Facts, GraphTx

log = logging.getLogger(__name__)

#: Records correlated per transaction: the storm bench's best (a batch's commit holds the
#: event log's counter, so 200 made openings wait seconds; 25 and 10 did equally well).
BATCH = 25
#: `due_ids`' upper bound on `correlate_due`: every waiting record.
_ALWAYS = datetime(9999, 12, 31, tzinfo=UTC)
_TICKET_STATES = [str(s) for s in TicketState]
_ALARM_STATES = [str(s) for s in AlarmState]
EdgeKey = tuple[str, str, str]


def known_incident(tx: GraphTx, ticket: TroubleTicket) -> Incident | None:
    """An active incident suspecting a resource on the ticket's path, read without a lock: first
    through the path's tallies (one read; where correlation keeps who suspects what), else
    through SUSPECTS edges (an incident made otherwise); the nearest the customer end first."""
    path = list(dict.fromkeys(ticket.path))
    if not path:
        return None
    tallies = tx.peek([tally_id(r) for r in path])
    named = [
        i
        for r in path
        if isinstance(ct := tallies.get(tally_id(r)), CauseTally)
        for i in ct.suspected_by
    ]
    if named:
        found = tx.peek(named)
        on_path = set(path)
        for iid in dict.fromkeys(named):
            inc = found.get(iid)
            if (
                isinstance(inc, Incident)
                and inc.state in ACTIVE_INCIDENT_STATES
                and inc.suspected in on_path
            ):
                return inc
    return suspecting(tx, path)


class BatchTx:
    """A `GraphTx` over another that buffers writes so several units of work share it (see the
    module docstring). A `claim` is passed through (correlation makes none)."""

    def __init__(self, tx: GraphTx):
        self.tx = tx
        #: nodes put: (the element, whether its first put created it)
        self.nodes: dict[str, tuple[Element, bool]] = {}
        #: nodes read under lock (unchanged since: the lock is held)
        self.held: dict[str, Element] = {}
        #: edges as later reads see them: linked here, or re-pointed stored ones
        self.links: dict[EdgeKey, Edge] = {}
        #: stored edges later reads no longer see (unlinked, or moved away)
        self.hidden: set[EdgeKey] = set()
        self.unlinks: list[EdgeKey] = []
        #: stored edges re-pointed: (as stored, as it will be)
        self.moves: list[tuple[Edge, Edge]] = []
        self.events: list[NewEvent] = []

    def _known(self, ids: Iterable[str]) -> tuple[dict[str, Element], list[str]]:
        out: dict[str, Element] = {}
        rest: list[str] = []
        for i in sorted(set(ids)):
            if i in self.nodes:
                out[i] = self.nodes[i][0].model_copy(deep=True)
            elif i in self.held:
                out[i] = self.held[i].model_copy(deep=True)
            else:
                rest.append(i)
        return out, rest

    def lock(self, ids: Iterable[str]) -> dict[str, Element]:
        out, rest = self._known(ids)
        if rest:
            got = self.tx.lock(rest)
            for i, el in got.items():
                self.held[i] = el.model_copy(deep=True)
            out.update(got)
        return out

    def peek(self, ids: Iterable[str]) -> dict[str, Element]:
        out, rest = self._known(ids)
        if rest:
            out.update(self.tx.peek(rest))
        return out

    def claim(
        self, ids: Sequence[str], *, lead: Sequence[str] = ()
    ) -> tuple[dict[str, Element], dict[str, Facts]]:
        return self.tx.claim(ids, lead=lead)

    def linked(
        self, element_id: str, edge_type: str, direction: Direction
    ) -> list[tuple[Edge, Element]]:
        stored = self.tx.linked(element_id, edge_type, direction)
        return self._overlay(element_id, stored, edge_type, direction)

    def linked_many(
        self, element_ids: Sequence[str], edge_type: str, direction: Direction
    ) -> dict[str, list[tuple[Edge, Element]]]:
        stored = self.tx.linked_many(element_ids, edge_type, direction)
        return {i: self._overlay(i, rows, edge_type, direction) for i, rows in stored.items()}

    def _overlay(
        self,
        element_id: str,
        stored: list[tuple[Edge, Element]],
        edge_type: str,
        direction: Direction,
    ) -> list[tuple[Edge, Element]]:
        """The stored edges at a node as this batch's writes leave them (links added, unlinked
        or moved ones hidden), with the other end as the batch sees it."""

        def other(e: Edge) -> str:
            return e.src if direction == "in" else e.dst

        def here(e: Edge) -> bool:
            return e.type == edge_type and (e.dst if direction == "in" else e.src) == element_id

        rows: dict[EdgeKey, tuple[Edge, Element | None]] = {
            e.key: (e, el) for e, el in stored if e.key not in self.hidden
        }
        for key, e in self.links.items():
            if here(e) and key not in rows:
                rows[key] = (e, None)
        ends, _ = self._known(other(e) for e, _ in rows.values())
        need = [other(e) for e, el in rows.values() if el is None and other(e) not in ends]
        fetched = self.tx.peek(need) if need else {}
        out: list[tuple[Edge, Element]] = []
        for e, el in rows.values():
            end = ends.get(other(e)) or el or fetched.get(other(e))
            if end is not None:
                out.append((e, end))
        return sorted(out, key=lambda row: row[1].id)

    def put(self, element: Element, *, new: bool = False) -> None:
        if element.id in self.nodes:
            if new:
                raise AlreadyExists(element.id)
            created = self.nodes[element.id][1]
        else:
            created = new
        self.nodes[element.id] = (element.model_copy(deep=True), created)

    def link(self, edge: Edge) -> None:
        self.links[edge.key] = edge.model_copy(deep=True)

    def unlink(self, edge_type: str, src: str, dst: str) -> None:
        key = (edge_type, src, dst)
        if self.links.pop(key, None) is not None and not any(a.key == key for _, a in self.moves):
            return  # linked in this batch only: nothing stored to delete
        self.hidden.add(key)
        self.unlinks.append(key)

    def repoint(self, edge: Edge, *, src: str | None = None, dst: str | None = None) -> Edge:
        after = edge.model_copy(update={"src": src or edge.src, "dst": dst or edge.dst})
        for n, (stored, moved) in enumerate(self.moves):
            if moved.key == edge.key:  # moved once already in this batch: move it on
                self.moves[n] = (stored, after)
                self.links.pop(edge.key, None)
                self.links[after.key] = after
                return after
        if edge.key in self.links:  # linked in this batch: link it elsewhere instead
            self.links.pop(edge.key)
            self.links[after.key] = after
            return after
        self.moves.append((edge, after))
        self.hidden.add(edge.key)
        self.links[after.key] = after
        return after

    def emit(self, event: NewEvent) -> None:
        self.events.append(event.model_copy(deep=True))

    def flush(self) -> None:
        """Hand every buffered write to the real transaction (its reads are over)."""
        moved = {a.key for _, a in self.moves}
        for el, created in self.nodes.values():
            self.tx.put(el, new=created)
        for key, e in self.links.items():
            if key not in moved:
                self.tx.link(e)
        for stored, after in self.moves:
            self.tx.repoint(stored, src=after.src, dst=after.dst)
        for t, s, d in self.unlinks:
            self.tx.unlink(t, s, d)
        for ev in self.events:
            self.tx.emit(ev)


@dataclass(frozen=True, slots=True)
class Drained:
    """What `correlate_pending` did: records correlated, batches (transactions) run."""

    tickets: int = 0
    alarms: int = 0
    batches: int = 0


def waiting(store: GraphStore, limit: int = BATCH) -> list[str]:
    """Ids of the tickets and alarms waiting for correlation, oldest first, at most `limit`."""
    found: list[tuple[str, str]] = []
    for kind, states in (("TroubleTicket", _TICKET_STATES), ("Alarm", _ALARM_STATES)):
        ids = store.due_ids(
            kind, states=states, time_field="correlate_due", until=_ALWAYS, limit=limit
        )
        got = store.get_many(ids)
        found += [(str(getattr(got[i], "correlate_due", "")), i) for i in ids if i in got]
    return [i for _, i in sorted(found)[:limit]]


def _riders(store: GraphStore, records: Sequence[Element]) -> dict[str, dict[str, int]]:
    """Riders of each waiting record's path (`riders_of`, cached), by record, read before the
    batch: a ticket's path, an alarm's resource (what each unit of work counted before)."""
    ids = sorted({i for t in records if isinstance(t, TroubleTicket) for i in t.path})
    els = store.get_many(ids)
    out: dict[str, dict[str, int]] = {}
    for r in records:
        if isinstance(r, TroubleTicket):
            out[r.id] = riders_of(store, [els[i] for i in r.path if i in els])
        elif isinstance(r, Alarm):
            out[r.id] = riders_of(store, [r.resource])
    return out


def correlate_batch(
    tx: GraphTx,
    ids: Sequence[str],
    *,
    correlator: Correlator,
    riders: dict[str, dict[str, int]],
    now: datetime,
) -> tuple[int, int]:
    """The unit of work of one batch: lock the records, skip those no longer waiting, correlate
    the rest oldest first through `BatchTx`, clear their `correlate_due`. (tickets, alarms)."""
    view = BatchTx(tx)
    mine = view.lock(ids)
    order = sorted(
        (str(el.correlate_due), el.id)
        for el in mine.values()
        if isinstance(el, TroubleTicket | Alarm) and el.correlate_due is not None
    )
    tickets = alarms = 0
    for _, rid in order:
        rec = view.lock([rid])[rid]  # as the batch left it (an absorb may have moved it)
        kw: dict[str, object] = {"now": now}
        if correlator.live:
            kw["riders"] = riders.get(rid, {})
        if isinstance(rec, TroubleTicket):
            correlator.correlate_ticket(view, rec, **kw)
            tickets += 1
        elif isinstance(rec, Alarm):
            correlator.correlate_alarm(view, rec, **kw)
            alarms += 1
        else:  # pragma: no cover - filtered above
            continue
        rec.correlate_due = None
        view.put(rec)
    view.flush()
    return tickets, alarms


def set_aside(tx: GraphTx, rid: str, *, why: str, now: datetime) -> bool:
    """Take one record out of the queue with a history entry saying why its correlation was
    refused (so one bad record never stops the ones behind it); False if it no longer waits."""
    rec = tx.lock([rid]).get(rid)
    if not isinstance(rec, TroubleTicket | Alarm) or rec.correlate_due is None:
        return False
    rec = rec.model_copy(deep=True)
    rec.correlate_due = None
    note = f"correlation refused: {why}"[:2000]
    entry = Entry(at=now, event="notCorrelated", actor=ACTOR, note=note)
    rec.history = [*rec.history, entry.dumps()]
    tx.put(rec)
    return True


def _run_batch(
    store: GraphStore, correlator: Correlator, ids: Sequence[str], now: datetime
) -> tuple[int, int]:
    """One batch in one transaction; refused as a whole (a typed error of one record, or an id
    it would create taken), each record again alone, and one still refused alone is set aside
    (`set_aside`)."""
    records = list(store.get_many(ids).values())
    riders = _riders(store, records) if correlator.live else {}
    reason = f"correlate {len(ids)} waiting ticket(s) and alarm(s)"
    try:
        return store.transact(
            partial(correlate_batch, ids=ids, correlator=correlator, riders=riders, now=now),
            actor=ACTOR,
            reason=reason,
        )
    except (PbossError, AlreadyExists) as exc:
        if len(ids) == 1:
            code = getattr(exc, "code", type(exc).__name__)
            store.transact(
                partial(set_aside, rid=ids[0], why=f"{code}: {exc}", now=now),
                actor=ACTOR,
                reason=f"set {ids[0]} aside",
            )
            log.warning("correlation of %s refused: %s", ids[0], exc)
            return 0, 0
    tickets = alarms = 0
    for rid in ids:
        t, a = _run_batch(store, correlator, [rid], now)
        tickets, alarms = tickets + t, alarms + a
    return tickets, alarms


def correlate_pending(
    store: GraphStore,
    correlator: Correlator,
    *,
    now: Callable[[], datetime],
    batch: int = BATCH,
    max_batches: int | None = None,
) -> Drained:
    """Correlate every waiting ticket and alarm, `batch` per transaction, until none wait (or
    `max_batches` ran). Records another correlator took meanwhile are skipped."""
    tickets = alarms = batches = 0
    while max_batches is None or batches < max_batches:
        ids = waiting(store, batch)
        if not ids:
            break
        t, a = _run_batch(store, correlator, ids, now())
        tickets, alarms, batches = tickets + t, alarms + a, batches + 1
        if t + a == 0 and len(ids) < batch:
            break  # all taken by another correlator since the read: its commit ends them
    return Drained(tickets, alarms, batches)


class Runner:
    """The per-process correlator thread: drains on a wake-up (after a commit) or every
    `interval` seconds; an error is logged and the next round retries."""

    def __init__(self, drain: Callable[[], Drained], interval: float = 1.0):
        self.drain = drain
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pboss-correlator", daemon=True)

    def start(self) -> Runner:
        """Start the thread."""
        self._thread.start()
        return self

    def wake(self) -> None:
        """Something was written: drain now rather than at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.drain()
            except Exception:  # the thread must live; the next round retries
                log.exception("correlation batch failed; retrying at the next round")

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (after the batch in hand)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
