"""Reporting back to CRM: order state changes and milestones as TMF641-style events.

The store's event log (written in the same transaction as the change, `pboss.provisioning.events`)
is the durable record; a notifier additionally hears each event once the transaction has
committed. Implementations: none (the default, `NoNotifier`), an in-process outbox a relay
drains, and a callback (e.g. an HTTP client to CRM) whose failed deliveries are kept for a retry
instead of being lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)


class OrderEvent(BaseModel):
    """One thing CRM hears about an order: its state after the change, and what happened."""

    order_id: str
    crm_order_id: str
    state: str
    event: str
    at: datetime
    note: str = ""
    reservation_id: str | None = None
    work_order_id: str | None = None
    service_id: str | None = None
    #: The event's scope (`EventScope`): the order's sites and product, and the partners whose
    #: resources its path uses, so listeners and partner keys can filter on them.
    sites: list[str] = Field(default_factory=list)
    product: str | None = None
    partners: list[str] = Field(default_factory=list)
    #: The id of the event's durable record (`pboss.provisioning.events`), once emitted: the
    #: idempotency key a receiver dedupes on.
    event_id: str | None = None


class CrmNotifier(Protocol):
    """Where committed order events go."""

    def publish(self, event: OrderEvent) -> None:
        """Deliver one event (must not raise: a failed delivery is the notifier's to keep)."""
        ...


class NoNotifier:
    """The default when no CRM notifier is configured: the store's event log already holds every
    committed event (`pboss.provisioning.events`; CRM pulls it with `events(after:)`), so nothing
    is kept in process memory, which an undrained `Outbox` would grow for as long as it runs."""

    def publish(self, event: OrderEvent) -> None:
        """Nothing to do: the event is in the store's log."""


class Outbox:
    """Events kept in order until drained; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[OrderEvent] = []

    def publish(self, event: OrderEvent) -> None:
        """Append one event."""
        with self._lock:
            self._events.append(event)

    def drain(self) -> list[OrderEvent]:
        """Take every pending event, oldest first."""
        with self._lock:
            out, self._events = self._events, []
        return out

    def peek(self) -> list[OrderEvent]:
        """The pending events without taking them."""
        with self._lock:
            return list(self._events)


class CallbackNotifier:
    """Calls a function per event; events whose delivery raised wait in `failed` for `retry`."""

    def __init__(self, deliver: Callable[[OrderEvent], None]):
        self._deliver = deliver
        self._lock = threading.Lock()
        self.failed: list[OrderEvent] = []

    def publish(self, event: OrderEvent) -> None:
        """Deliver now; on failure keep the event for a later retry."""
        try:
            self._deliver(event)
        except Exception:
            log.exception("CRM delivery failed for %s %s", event.crm_order_id, event.event)
            with self._lock:
                self.failed.append(event)

    def retry(self) -> int:
        """Deliver the failed events again, in order; returns how many are still failing."""
        with self._lock:
            pending, self.failed = self.failed, []
        for event in pending:
            self.publish(event)
        with self._lock:
            return len(self.failed)
