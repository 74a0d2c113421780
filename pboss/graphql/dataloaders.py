"""Per-request DataLoaders: every element a query mentions is fetched in one `get_many` batch.

Nested references (`site`, `partner`, `region`, held resources, an order's reservations and work
orders) ask the elements loader, never the store, so a page of fifty elements costs one store call
for their sites, not fifty; the VC-12 use of a page of trunk sections and partner links is one
`slot_use` call. The store reads links (`neighbours`) and status history of one element
at a time: those loaders make one call per distinct element (and filter or limit), run
concurrently, however often a query asks. Loaders live for one request, and a write within it
empties them (`forget`), so a write is never hidden behind a stale cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from pboss.inventory.model import Edge, Element
from pboss.inventory.results import ChangeRecord, SlotUse
from pboss.inventory.store import Direction, GraphStore

Runner = Callable[..., Awaitable[Any]]
NeighbourKey = tuple[str, Direction, tuple[str, ...]]
#: (element id, most changes wanted)
HistoryKey = tuple[str, int]


class Loaders:
    """The DataLoaders of one request, over one store, running store calls through `run`."""

    def __init__(self, store: GraphStore, run: Runner):
        self._store = store
        self._run = run
        self.elements: DataLoader[str, Element | None] = DataLoader(self._load_elements)
        self.neighbours: DataLoader[NeighbourKey, list[tuple[Edge, Element]]] = DataLoader(
            self._load_neighbours
        )
        self.history: DataLoader[HistoryKey, list[ChangeRecord]] = DataLoader(self._load_history)
        self.slots: DataLoader[str, SlotUse | None] = DataLoader(self._load_slots)

    def forget(self) -> None:
        """Drop everything cached: the store just changed under this request."""
        for loader in (self.elements, self.neighbours, self.history, self.slots):
            loader.clear_all()

    async def _load_elements(self, ids: list[str]) -> list[Element | None]:
        found = await self._run(self._store.get_many, ids)
        return [found.get(i) for i in ids]

    async def _load_slots(self, ids: list[str]) -> list[SlotUse | None]:
        """The VC-12 use of every trunk section and partner link a page shows: one store call."""
        found = await self._run(self._store.slot_use, ids)
        return [found.get(i) for i in ids]

    async def _load_neighbours(
        self, keys: list[NeighbourKey]
    ) -> Sequence[list[tuple[Edge, Element]] | BaseException]:
        calls = [
            self._run(self._store.neighbours, eid, direction, list(types) or None)
            for eid, direction, types in keys
        ]
        return await asyncio.gather(*calls, return_exceptions=True)

    async def _load_history(
        self, keys: list[HistoryKey]
    ) -> Sequence[list[ChangeRecord] | BaseException]:
        calls = [self._run(self._store.history, eid, limit=limit) for eid, limit in keys]
        return await asyncio.gather(*calls, return_exceptions=True)
