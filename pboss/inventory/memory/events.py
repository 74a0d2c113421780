"""The MemoryStore's event log: every committed event, kept for the store's life, compactly.

The embedded store is its own system of record, so nothing is dropped. Each event is one tuple of
strings (its body as compact JSON, parsed only when read), and its sequence number is its place in
the list, so paging from a sequence number needs no search. Appends happen under the store's lock,
at commit, after the writes succeeded (`MemoryStore._commit`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from pboss.inventory.events import NewEvent, StoredEvent, check_page

#: (id, type, at, subject, body JSON) of one event; its sequence number is its index + 1.
Packed = tuple[str, str, str, str, str]


class EventLog:
    """Append-only, numbered from 1 without gaps; thread-safe for readers while one appends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[Packed] = []

    def append(self, events: Sequence[NewEvent]) -> None:
        """Number and keep these events, in order (one transaction's, at its commit)."""
        packed = []
        for event in events:
            r = event.row()
            packed.append((r["id"], r["type"], r["at"], r["subject"], r["body"]))
        with self._lock:
            self._rows += packed

    def after(self, after: int, types: Sequence[str] | None, first: int) -> list[StoredEvent]:
        """Up to `first` events numbered after `after`, of `types` (all when None), in order."""
        wanted = check_page(after, first, types)
        allowed = None if wanted is None else frozenset(wanted)
        out: list[StoredEvent] = []
        with self._lock:
            total = len(self._rows)
        seq = after
        while seq < total and len(out) < first:
            with self._lock:
                chunk = self._rows[seq : seq + 1024]
            for i, (eid, etype, at, subject, body) in enumerate(chunk, start=seq + 1):
                if allowed is None or etype in allowed:
                    row = {"id": eid, "type": etype, "at": at, "subject": subject, "body": body}
                    out.append(StoredEvent.from_row(i, row))
                    if len(out) == first:
                        break
            seq += len(chunk)
        return out

    def __len__(self) -> int:
        """How many events the log holds."""
        with self._lock:
            return len(self._rows)

    def clear(self) -> None:
        """Forget every event (tests and demos)."""
        with self._lock:
            self._rows.clear()
