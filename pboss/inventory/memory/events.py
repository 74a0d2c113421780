"""The MemoryStore's event log: every committed event, kept for the store's life, compactly.

The embedded store is its own system of record, so nothing is dropped. Each event is one tuple
(its body as compact JSON, parsed only when read), and its sequence number is its place in the
list, so paging from a sequence number needs no search. Appends happen under the store's lock,
at commit, after the writes succeeded (`MemoryStore.transact`); the watchers hear of them once
the store's lock is released, as on Neo4j after the commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import NamedTuple

from pboss.inventory.events import EventFilter, NewEvent, StoredEvent, check_page

log = logging.getLogger(__name__)


class Packed(NamedTuple):
    """One stored event, compactly: the body stays JSON text until the event is read, and the
    scope fields are what `EventFilter.matches` reads, so filtering parses no body. Its sequence
    number is its index in the log + 1."""

    id: str
    type: str
    at: str
    subject: str
    body: str
    sites: tuple[str, ...]
    products: tuple[str, ...]
    partners: tuple[str, ...]

    @classmethod
    def of(cls, event: NewEvent) -> Packed:
        r = event.row()
        scope = (tuple(r["sites"]), tuple(r["products"]), tuple(r["partners"]))
        return cls(r["id"], r["type"], r["at"], r["subject"], r["body"], *scope)


def _stored(seq: int, packed: Packed) -> StoredEvent:
    return StoredEvent.from_row(seq, packed._asdict())


class EventLog:
    """Append-only, numbered from 1 without gaps; thread-safe for readers while one appends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[Packed] = []
        self._latest: dict[tuple[str, str], int] = {}  # (type, subject) -> its newest seq
        self._watchers: list[Callable[[int], None]] = []

    def append(self, events: Sequence[NewEvent]) -> int:
        """Number and keep these events, in order (one transaction's, at its commit); returns
        the last one's number (0 when there were none) for `notify`, which the store calls once
        it has let go of its own lock."""
        if not events:
            return 0
        packed = [Packed.of(event) for event in events]
        with self._lock:
            base = len(self._rows)
            self._rows += packed
            for i, p in enumerate(packed, start=base + 1):
                self._latest[(p.type, p.subject)] = i
            return len(self._rows)

    def notify(self, last: int) -> None:
        """Tell every watcher that events up to `last` committed; a failing watcher is logged."""
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            try:
                watcher(last)
            except Exception:  # a watcher's failure must not fail the committed transaction
                log.exception("an event watcher failed")

    def after(
        self,
        after: int,
        types: Sequence[str] | None,
        first: int,
        where: EventFilter | None = None,
    ) -> list[StoredEvent]:
        """Up to `first` events numbered after `after` that pass the filter, in order."""
        wanted = check_page(after, first, types, where)
        out: list[StoredEvent] = []
        with self._lock:
            total = len(self._rows)
        seq = after
        while seq < total and len(out) < first:
            with self._lock:
                chunk = self._rows[seq : seq + 1024]
            for i, packed in enumerate(chunk, start=seq + 1):
                if wanted.matches(packed):  # on the packed fields: no body parsed to skip one
                    out.append(_stored(i, packed))
                    if len(out) == first:
                        break
            seq += len(chunk)
        return out

    def latest(self, event_type: str, subjects: Sequence[str]) -> dict[str, StoredEvent]:
        """The newest event of this type about each of these subjects that has one."""
        with self._lock:
            found = {
                s: (i, self._rows[i - 1])
                for s in subjects
                if (i := self._latest.get((event_type, s)))
            }
        return {s: _stored(i, packed) for s, (i, packed) in found.items()}

    def last_seq(self) -> int:
        """The newest sequence number (0 for an empty log)."""
        with self._lock:
            return len(self._rows)

    def watch(self, watcher: Callable[[int], None]) -> Callable[[], None]:
        """Call `watcher(last_seq)` after every commit that adds events; returns the way to stop."""
        with self._lock:
            self._watchers.append(watcher)

        def stop() -> None:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

        return stop

    def __getstate__(self) -> dict[str, object]:
        """The rows for a snapshot (the durable store's); the index is rebuilt, the lock and
        watchers belong to the running process."""
        with self._lock:
            return {"rows": list(self._rows)}

    def __setstate__(self, state: dict[str, object]) -> None:
        """Back from a snapshot: the rows, their index rebuilt, no watchers."""
        self.__init__()  # type: ignore[misc]
        self.extend(state["rows"])  # type: ignore[arg-type]

    def rows_from(self, start: int) -> list[Packed]:
        """The packed rows from this index on (the durable store's journal reads new ones)."""
        with self._lock:
            return self._rows[start:]

    def extend(self, rows: Sequence[Packed]) -> None:
        """Append rows already numbered by their place (a journal or snapshot being loaded)."""
        with self._lock:
            base = len(self._rows)
            self._rows += rows
            for i, p in enumerate(rows, start=base + 1):
                self._latest[(p.type, p.subject)] = i

    def __len__(self) -> int:
        """How many events the log holds."""
        with self._lock:
            return len(self._rows)

    def clear(self) -> None:
        """Forget every event (tests and demos)."""
        with self._lock:
            self._rows.clear()
            self._latest.clear()
