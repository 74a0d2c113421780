"""The deliverer's shared page reads (`DeliveryWorker._read_page`): listeners at the same cursor
with the same filter make one store read between them, and a read is joined only by those whose
ceiling (the newest committed event they know of) it covers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from pboss.hub.delivery import DeliveryWorker
from pboss.inventory.events import EventFilter, StoredEvent
from pboss.inventory.memory.store import MemoryStore
from tests.hub.conftest import hub_settings


class HeldReads(MemoryStore):
    """An embedded store whose `events_after` counts its calls and waits to be let go, so that
    reads can be made to overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.go = threading.Event()

    def events_after(self, after: int, **kw: Any) -> list[StoredEvent]:
        self.reads += 1
        self.go.wait(5)
        return super().events_after(after, **kw)


def test_listeners_at_one_place_share_a_read_unless_they_know_of_newer_events() -> None:
    store = HeldReads()
    worker = DeliveryWorker(store, hub_settings())
    orders = EventFilter(types=["ProductOrderStateChangeEvent"])

    async def scenario() -> None:
        same = [asyncio.create_task(worker._read_page(0, orders, 5)) for _ in range(3)]
        lower = asyncio.create_task(worker._read_page(0, orders, 4))
        other = asyncio.create_task(worker._read_page(0, EventFilter(types=["X"]), 5))
        newer = asyncio.create_task(worker._read_page(0, orders, 6))
        await asyncio.sleep(0.2)  # all in flight, the store holding them
        store.go.set()
        await asyncio.gather(*same, lower, other, newer)

    try:
        asyncio.run(scenario())
    finally:
        worker._pool.shutdown()
    # the three at ceiling 5 and the one at 4 share a read; another filter reads on its own;
    # ceiling 6 is past the shared read's, so it starts its own
    assert store.reads == 3
    assert worker._reads == {}  # nothing kept once the reads are done
