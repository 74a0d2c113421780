"""The event hub's side of `Neo4jStore` (`pboss.inventory.listeners`): listener and dead-letter
records, the event log's small reads (`latest_events`, `last_event_seq`) and the in-process
watchers of committed events.

Each call is one named query (`queries/listeners.py`, `queries/events.py`), one round trip.
Records travel flat (`listener_row`, `dead_letter_row`): the filter as JSON, times as `stamp`s,
absent values as absent properties. Watchers are this process's: `notify` runs them after a
`transact` that stored events has committed, and a watcher's failure is logged, never raised
into the writer (the change is committed whatever a watcher does).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from neo4j.exceptions import ConstraintError

from pboss.inventory.events import StoredEvent
from pboss.inventory.listeners import (
    DeadLetter,
    DeadLetterState,
    DeliveryReport,
    Listener,
    check_dead_letters_page,
)
from pboss.inventory.neo4j.client import Neo4jClient
from pboss.inventory.neo4j.queries import events as event_queries
from pboss.inventory.neo4j.queries import listeners as q
from pboss.inventory.timestamps import stamp
from pboss.inventory.transaction import AlreadyExists

log = logging.getLogger(__name__)

#: Listener properties holding times (stored as `stamp`s).
_LISTENER_TIMES = ("created_at", "lease_until", "last_delivered_at")


def _stamp(at: datetime | None) -> str | None:
    return None if at is None else stamp(at)


def listener_row(listener: Listener) -> dict[str, Any]:
    """A listener as `:Listener` properties: flat, the filter as JSON, times as stamps, no nulls
    (Neo4j does not store them)."""
    row = listener.model_dump(mode="python", exclude={"where"})
    row["where"] = listener.where.model_dump_json()
    row["state"] = str(listener.state)
    for name in _LISTENER_TIMES:
        row[name] = _stamp(row[name])
    return {k: v for k, v in row.items() if v is not None}


def listener_of(props: dict[str, Any]) -> Listener:
    """A listener from its stored properties (`listener_row`)."""
    data = {k: v for k, v in props.items() if not k.startswith("_")}
    data["where"] = json.loads(data.get("where") or "{}")
    return Listener.model_validate(data)


def dead_letter_row(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as `:DeadLetter` properties (its time as a stamp)."""
    row = letter.model_dump(mode="python")
    row["state"] = str(letter.state)
    row["at"] = stamp(letter.at)
    return row


def dead_letter_of(props: dict[str, Any]) -> DeadLetter:
    """A dead letter from its stored properties (`dead_letter_row`)."""
    return DeadLetter.model_validate({k: v for k, v in props.items() if not k.startswith("_")})


class Neo4jHub:
    """The listener port of `GraphStore` on one client, and the store's event watchers."""

    def __init__(self, client: Neo4jClient):
        self.client = client
        self._lock = threading.Lock()
        self._watchers: list[Callable[[int], None]] = []

    # ---- the event log's reads and its watchers ----------------------------------------------

    def latest_events(self, event_type: str, subjects: Sequence[str]) -> dict[str, StoredEvent]:
        """Each subject's newest event of this type (`events.LATEST`)."""
        rows = self.client.read(
            event_queries.LATEST, type=event_type, subjects=sorted(set(subjects))
        )
        return {r["row"]["subject"]: StoredEvent.from_row(r["seq"], r["row"]) for r in rows}

    def last_event_seq(self) -> int:
        """The event counter's committed value (0 before the first event)."""
        return int(self.client.read(event_queries.LAST_SEQ)[0]["n"])

    def watch_events(self, watcher: Callable[[int], None]) -> Callable[[], None]:
        """Call `watcher` after each of this process's commits that stored events."""
        with self._lock:
            self._watchers.append(watcher)

        def stop() -> None:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)

        return stop

    def notify(self, last_seq: int) -> None:
        """Tell every watcher that events up to `last_seq` committed (after the commit)."""
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            try:
                watcher(last_seq)
            except Exception:  # a watcher's failure must not fail the committed transaction
                log.exception("an event watcher failed")

    # ---- listeners ---------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Create the listener's node (AlreadyExists when the id is taken)."""
        row = listener_row(listener)
        try:
            self.client.write(lambda tx: tx.run(q.ADD, row=row))
        except ConstraintError:
            raise AlreadyExists(listener.id) from None

    def get_listener(self, listener_id: str) -> Listener | None:
        """One listener, or None."""
        rows = self.client.read(q.GET, id=listener_id)
        return listener_of(rows[0]["p"]) if rows else None

    def list_listeners(self) -> list[Listener]:
        """Every listener, by id."""
        return [listener_of(r["p"]) for r in self.client.read(q.ALL)]

    def remove_listener(self, listener_id: str) -> bool:
        """Delete a listener and its dead letters, under its lock; False when there was none."""
        rows = self.client.write(lambda tx: tx.run(q.REMOVE, id=listener_id))
        return bool(rows and rows[0]["gone"])

    def claim_listeners(
        self, owner: str, *, now: datetime, until: datetime, limit: int
    ) -> list[Listener]:
        """Take or renew up to `limit` leases, each candidate locked then checked again."""
        if limit < 1:
            return []
        params = {"owner": owner, "now": stamp(now), "until": stamp(until), "limit": limit}
        rows = self.client.write(lambda tx: tx.run(q.CLAIM, **params))
        return [listener_of(r["p"]) for r in rows]

    def record_delivery(self, listener_id: str, owner: str, report: DeliveryReport) -> bool:
        """Apply a delivery report under the listener's lock if `owner` holds the lease."""
        params = {
            "id": listener_id,
            "owner": owner,
            "cursor": report.cursor,
            "until": stamp(report.lease_until),
            "delivered": report.delivered,
            "last_error": report.last_error,
            "last_delivered_at": _stamp(report.last_delivered_at),
            "dead": [dead_letter_row(d) for d in report.dead],
        }
        rows = self.client.write(lambda tx: tx.run(q.RECORD, **params))
        return bool(rows)

    def release_listener(self, listener_id: str, owner: str) -> None:
        """Free the lease if `owner` still holds it (checked under the lock)."""
        self.client.write(lambda tx: tx.run(q.RELEASE, id=listener_id, owner=owner))

    def dead_letters(
        self,
        *,
        listener: str | None = None,
        states: Sequence[DeadLetterState] | None = None,
        first: int = 100,
    ) -> list[DeadLetter]:
        """Dead letters by (listener, seq), filtered, at most `first`."""
        check_dead_letters_page(first)
        wanted = None if states is None else sorted({str(s) for s in states})
        if listener is None:
            rows = self.client.read(q.DEAD_LETTERS, states=wanted, first=first)
        else:
            rows = self.client.read(
                q.DEAD_LETTERS_OF, listener=listener, states=wanted, first=first
            )
        return [dead_letter_of(r["p"]) for r in rows]

    def set_dead_letters(
        self, ids: Sequence[str], state: DeadLetterState, *, reason: str | None = None
    ) -> list[DeadLetter]:
        """Move dead letters to `state` (each named once), in the order named."""
        order = list(dict.fromkeys(ids))
        params = {"ids": sorted(order), "state": str(state), "reason": reason}
        rows = self.client.write(lambda tx: tx.run(q.SET_DEAD_LETTERS, **params))
        if len(rows) < len(order):  # one is missing, so none changed: show those that exist
            rows = self.client.read(q.DEAD_LETTERS_BY_ID, ids=params["ids"])
        found = {d.id: d for d in (dead_letter_of(r["p"]) for r in rows)}
        return [found[i] for i in order if i in found]
