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


def _unleased(listener: Listener) -> Listener:
    """A copy without its lease: after a restart no process holds one."""
    return listener.model_copy(update={"lease_owner": None, "lease_until": None}, deep=True)


class ListenerBook:
    """Listeners by id and their dead letters, copied in and out so callers cannot alias them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[str, Listener] = {}
        self._dead: dict[str, DeadLetter] = {}
        #: ids changed since the durable store last took them (`take_touched`); leases aside
        self._touched: tuple[set[str], set[str]] = (set(), set())

    # ---- for the durable store (memory/durable.py) ----------------------------------------------

    def __getstate__(self) -> dict[str, object]:
        """Listeners (leases dropped: they name a process) and dead letters, for a snapshot."""
        with self._lock:
            return {
                "listeners": {k: _unleased(v) for k, v in self._listeners.items()},
                "dead": {k: v.model_copy(deep=True) for k, v in self._dead.items()},
            }

    def __setstate__(self, state: dict[str, dict]) -> None:  # type: ignore[type-arg]
        """Back from a snapshot."""
        self.__init__()  # type: ignore[misc]
        self._listeners.update(state["listeners"])
        self._dead.update(state["dead"])

    @property
    def touched(self) -> bool:
        """True when a listener or dead letter changed since the last `take_touched`."""
        return bool(self._touched[0] or self._touched[1])

    def take_touched(self) -> tuple[set[str], set[str]]:
        """The ids of the listeners and of the dead letters changed since the last call."""
        with self._lock:
            out, self._touched = self._touched, (set(), set())
            return out

    def kept_listener(self, listener_id: str) -> Listener | None:
        """The listener as the journal keeps it (lease dropped), or None when gone."""
        with self._lock:
            found = self._listeners.get(listener_id)
            return None if found is None else _unleased(found)

    def kept_dead(self, dead_id: str) -> DeadLetter | None:
        """A copy of the dead letter, or None when gone."""
        with self._lock:
            found = self._dead.get(dead_id)
            return None if found is None else found.model_copy(deep=True)

    def put_listener(self, listener_id: str, listener: Listener | None) -> None:
        """Set or drop one listener as a journal record says (start-up)."""
        with self._lock:
            if listener is None:
                self._listeners.pop(listener_id, None)
            else:
                self._listeners[listener_id] = listener

    def put_dead(self, dead_id: str, dead: DeadLetter | None) -> None:
        """Set or drop one dead letter as a journal record says (start-up)."""
        with self._lock:
            if dead is None:
                self._dead.pop(dead_id, None)
            else:
                self._dead[dead_id] = dead

    # ---- the GraphStore's calls -----------------------------------------------------------------

    def add(self, listener: Listener) -> None:
        """Keep a new listener (AlreadyExists when its id is taken)."""
        with self._lock:
            if listener.id in self._listeners:
                raise AlreadyExists(listener.id)
            self._listeners[listener.id] = _in_utc(listener)
            self._touched[0].add(listener.id)

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
            self._touched[0].add(listener_id)
            for dl_id in [k for k, d in self._dead.items() if d.listener == listener_id]:
                del self._dead[dl_id]
                self._touched[1].add(dl_id)
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
            self._touched[0].add(listener_id)
            for dl in report.dead:
                self._dead[dl.id] = dl.model_copy(update={"at": utc(dl.at)}, deep=True)
                self._touched[1].add(dl.id)
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
            named = list(dict.fromkeys(ids))  # each once, however often it is named
            if any(dl_id not in self._dead for dl_id in named):  # all or none
                return [self._dead[i].model_copy(deep=True) for i in named if i in self._dead]
            for dl_id in named:
                dl = self._dead[dl_id]
                dl.state = state
                if state == DeadLetterState.REPLAY:
                    dl.replays += 1
                if reason is not None:
                    dl.reason = reason
                self._touched[1].add(dl_id)
                out.append(dl.model_copy(deep=True))
        return out

    def clear(self) -> None:
        """Forget every listener and dead letter."""
        with self._lock:
            self._listeners.clear()
            self._dead.clear()
            self._touched = (set(), set())
