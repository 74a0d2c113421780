"""The MemoryStore's event-hub records (`pboss.inventory.listeners`): listeners and dead letters.

One lock makes every call atomic, which is all a single process needs of the leases; they are
kept anyway so the delivery worker runs the same way on both stores. Times are kept in UTC, as
Neo4j's stamps give them back, so both stores return equal records.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime

from pboss.inventory.listeners import (
    DeadLetter,
    DeadLetterState,
    DeliveryReport,
    Listener,
    ListenerState,
    check_dead_letters_page,
)
from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import AlreadyExists


def _in_utc(listener: Listener) -> Listener:
    """A copy of the listener with its times in UTC."""
    times = {
        name: utc(at)
        for name in ("created_at", "lease_until", "last_delivered_at")
        if (at := getattr(listener, name)) is not None
    }
    return listener.model_copy(update=times, deep=True)


class ListenerBook:
    """Listeners by id and their dead letters, copied in and out so callers cannot alias them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[str, Listener] = {}
        self._dead: dict[str, DeadLetter] = {}

    def add(self, listener: Listener) -> None:
        """Keep a new listener (AlreadyExists when its id is taken)."""
        with self._lock:
            if listener.id in self._listeners:
                raise AlreadyExists(listener.id)
            self._listeners[listener.id] = _in_utc(listener)

    def get(self, listener_id: str) -> Listener | None:
        """A copy of one listener, or None."""
        with self._lock:
            found = self._listeners.get(listener_id)
            return None if found is None else found.model_copy(deep=True)

    def all(self) -> list[Listener]:
        """Copies of every listener, by id."""
        with self._lock:
            return [self._listeners[k].model_copy(deep=True) for k in sorted(self._listeners)]

    def remove(self, listener_id: str) -> bool:
        """Drop a listener and its dead letters; False when there was none."""
        with self._lock:
            gone = self._listeners.pop(listener_id, None)
            for dl_id in [k for k, d in self._dead.items() if d.listener == listener_id]:
                del self._dead[dl_id]
            return gone is not None

    def claim(self, owner: str, now: datetime, until: datetime, limit: int) -> list[Listener]:
        """Take or renew up to `limit` active leases that are free, expired or `owner`'s."""
        held: list[Listener] = []
        with self._lock:
            for key in sorted(self._listeners):
                if len(held) >= limit:
                    break
                ls = self._listeners[key]
                if ls.state != ListenerState.ACTIVE:
                    continue
                free = ls.lease_owner is None or ls.lease_until is None
                if free or ls.lease_owner == owner or utc(ls.lease_until) <= utc(now):
                    ls.lease_owner, ls.lease_until = owner, utc(until)
                    held.append(ls.model_copy(deep=True))
        return held

    def record(self, listener_id: str, owner: str, report: DeliveryReport) -> bool:
        """Apply a delivery report while `owner` holds the lease (see `GraphStore`)."""
        with self._lock:
            ls = self._listeners.get(listener_id)
            if ls is None or ls.lease_owner != owner:
                return False
            ls.cursor = max(ls.cursor, report.cursor)
            ls.lease_until = utc(report.lease_until)
            ls.delivered += report.delivered
            ls.dead += len(report.dead)
            if report.last_error or report.delivered:
                ls.last_error = report.last_error
            if report.last_delivered_at is not None:
                ls.last_delivered_at = utc(report.last_delivered_at)
            for dl in report.dead:
                self._dead[dl.id] = dl.model_copy(update={"at": utc(dl.at)}, deep=True)
            return True

    def release(self, listener_id: str, owner: str) -> None:
        """Free the lease if `owner` holds it."""
        with self._lock:
            ls = self._listeners.get(listener_id)
            if ls is not None and ls.lease_owner == owner:
                ls.lease_owner, ls.lease_until = None, None

    def dead_letters(
        self, listener: str | None, states: Sequence[DeadLetterState] | None, first: int
    ) -> list[DeadLetter]:
        """Dead letters by (listener, seq), filtered, at most `first`."""
        check_dead_letters_page(first)
        wanted = None if states is None else set(states)
        with self._lock:
            found = [
                d
                for d in self._dead.values()
                if (listener is None or d.listener == listener)
                and (wanted is None or d.state in wanted)
            ]
            found.sort(key=lambda d: (d.listener, d.seq, d.id))
            return [d.model_copy(deep=True) for d in found[:first]]

    def set_dead(
        self, ids: Sequence[str], state: DeadLetterState, reason: str | None
    ) -> list[DeadLetter]:
        """Move dead letters to `state` (see `GraphStore.set_dead_letters`)."""
        out: list[DeadLetter] = []
        with self._lock:
            for dl_id in dict.fromkeys(ids):  # each once, however often it is named
                dl = self._dead.get(dl_id)
                if dl is None:
                    continue
                dl.state = state
                if state == DeadLetterState.REPLAY:
                    dl.replays += 1
                if reason is not None:
                    dl.reason = reason
                out.append(dl.model_copy(deep=True))
        return out

    def clear(self) -> None:
        """Forget every listener and dead letter."""
        with self._lock:
            self._listeners.clear()
            self._dead.clear()
