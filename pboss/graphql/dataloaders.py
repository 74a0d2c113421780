"""Per-request DataLoaders: every element a query mentions is fetched in one `get_many` batch.

Nested references (`site`, `partner`, `region`, held resources, an order's reservations and work
orders) ask the elements loader, never the store, so a page of fifty elements costs one store call
for their sites, not fifty; the VC-12 use of a page of trunk sections and partner links is one
`slot_use` call. Links (`dependencies`, `dependants`) and history are batched the same
way: one `neighbours_many` per direction and type filter, one `history_many` per limit, for every
element of the page at once. Loaders live for one request, and a write within it empties them
(`forget`), so a write is never hidden behind a stale cache.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from pboss.inventory.errors import NotFound
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
        """One `neighbours_many` per (direction, types) asked, for all the elements asking."""
        groups: dict[tuple[Direction, tuple[str, ...]], list[str]] = defaultdict(list)
        for eid, direction, types in keys:
            groups[(direction, types)].append(eid)
        calls = [
            self._run(self._store.neighbours_many, ids, direction, list(types) or None)
            for (direction, types), ids in groups.items()
        ]
        answers = dict(
            zip(groups, await asyncio.gather(*calls, return_exceptions=True), strict=True)
        )
        out: list[list[tuple[Edge, Element]] | BaseException] = []
        for eid, direction, types in keys:
            got = answers[(direction, types)]
            if isinstance(got, BaseException):
                out.append(got)
            elif eid in got:
                out.append(got[eid])
            else:
                out.append(NotFound(eid))
        return out

    async def _load_history(
        self, keys: list[HistoryKey]
    ) -> Sequence[list[ChangeRecord] | BaseException]:
        """One `history_many` per limit asked, for all the elements asking."""
        groups: dict[int, list[str]] = defaultdict(list)
        for eid, limit in keys:
            groups[limit].append(eid)
        calls = [
            self._run(self._store.history_many, ids, limit=limit) for limit, ids in groups.items()
        ]
        answers = dict(
            zip(groups, await asyncio.gather(*calls, return_exceptions=True), strict=True)
        )
        out: list[list[ChangeRecord] | BaseException] = []
        for eid, limit in keys:
            got = answers[limit]
            out.append(got if isinstance(got, BaseException) else got.get(eid, []))
        return out
