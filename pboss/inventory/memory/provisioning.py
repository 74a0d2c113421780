"""The provisioning adapter for the MemoryStore: each step runs under the store's write lock.

The lock serialises every step, so `lock()` needs no per-node locks. Writes are collected and
applied at the end through `MemoryStore.upsert` (which validates them against the model) after
deleting the edges the step unlinked; if the upsert refuses, the deleted edges are put back, so a
step writes all or nothing, like a Neo4j transaction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import Edge, Element
from pboss.inventory.results import FindQuery
from pboss.provisioning.allocate import Facts
from pboss.provisioning.errors import Conflict
from pboss.provisioning.model import Reservation, WorkOrder, utc
from pboss.provisioning.step_support import OPEN_WORK
from pboss.provisioning.tx import AlreadyExists, Direction

T = TypeVar("T")
_SECTIONS = ("TrunkSection", "PartnerLink")


class MemoryTx:
    """One step's view of the MemoryStore; the caller holds `store.lock` throughout."""

    def __init__(self, store: MemoryStore):
        self.store = store
        self.graph = store.graph
        self._puts: dict[str, Element] = {}
        self._links: dict[tuple[str, str, str], Edge] = {}
        self._unlinks: list[tuple[str, str, str]] = []

    def _reading(self) -> None:
        if self._puts or self._links or self._unlinks:
            raise RuntimeError("a provisioning step read after writing (not allowed: see tx.py)")

    def _el(self, element_id: str) -> Element:
        return self.graph.nodes[element_id]["el"]

    def lock(self, ids: Iterable[str]) -> dict[str, Element]:
        return self.peek(ids)

    def peek(self, ids: Iterable[str]) -> dict[str, Element]:
        self._reading()
        return {i: self._el(i).model_copy(deep=True) for i in sorted(set(ids)) if i in self.graph}

    def _pon_load(self, pon_id: str) -> int:
        """ONTs under a PON port plus splitter outputs held for new ONTs under it."""
        seen, queue, load = {pon_id}, deque([pon_id]), 0
        while queue:
            cur = queue.popleft()
            for src, _, key in self.graph.in_edges(cur, keys=True):
                if key in ("FED_BY", "PART_OF") and src not in seen:
                    seen.add(src)
                    queue.append(src)
                    kind = self._el(src).kind
                    held = any(k == "HOLDS" for _, _, k in self.graph.in_edges(src, keys=True))
                    load += kind == "ONT" or (kind == "SplitterPort" and held)
        return load

    def claim(
        self, ids: Sequence[str], *, lead: Sequence[str] = ()
    ) -> tuple[dict[str, Element], dict[str, Facts]]:
        leaders = self.peek(lead)
        out = {}
        for i in sorted(set(ids)):
            if i not in self.graph:
                continue
            el = self._el(i)
            facts = Facts(
                element=el.model_copy(deep=True),
                incoming=sorted({k for _, _, k in self.graph.in_edges(i, keys=True)}),
            )
            if el.kind in _SECTIONS:
                facts.used_slots = sorted(
                    s for _, slots in self.store.slot_holdings(i) for s in slots
                )
            elif el.kind == "PonPort":
                facts.load = self._pon_load(i)
            out[i] = facts
        return leaders, out

    def linked(
        self, element_id: str, edge_type: str, direction: Direction
    ) -> list[tuple[Edge, Element]]:
        self._reading()
        if element_id not in self.graph:
            return []
        return [
            (edge, el)
            for edge, el in self.store.neighbours(element_id, direction, [edge_type])
            if edge.type == edge_type
        ]

    def put(self, element: Element, *, new: bool = False) -> None:
        if element.id in self.graph:
            if new:
                raise AlreadyExists(element.id)
            old = self._el(element.id)
            if old.kind != element.kind:
                raise Conflict(f"id {element.id} is taken", [f"it is a {old.kind}"])
        self._puts[element.id] = element.model_copy(deep=True)

    def link(self, edge: Edge) -> None:
        self._links[edge.key] = edge

    def unlink(self, edge_type: str, src: str, dst: str) -> None:
        self._unlinks.append((src, dst, edge_type))

    def commit(self, actor: str) -> None:
        """Apply the step's writes atomically: unlink, then one validated upsert."""
        removed: list[tuple[str, str, str, dict[str, Any]]] = []
        try:
            for src, dst, key in self._unlinks:
                if self.graph.has_edge(src, dst, key=key):
                    removed.append((src, dst, key, dict(self.graph.edges[src, dst, key])))
                    self.graph.remove_edge(src, dst, key=key)
            if self._puts or self._links:
                self.store.upsert(
                    list(self._puts.values()),
                    list(self._links.values()),
                    actor=actor,
                    reason="provisioning",
                )
        except BaseException:
            for src, dst, key, data in removed:
                self.graph.add_edge(src, dst, key=key, **data)
            raise


class MemoryBackend:
    """Runs provisioning steps on a MemoryStore, one at a time under its lock."""

    def __init__(self, store: MemoryStore, actor: str = "provisioning"):
        self.store = store
        self.actor = actor

    def run(self, work: Callable[[MemoryTx], T]) -> T:
        with self.store.lock:
            tx = MemoryTx(self.store)
            result = work(tx)
            tx.commit(self.actor)
            return result

    def _all(self, kind: str) -> list[Any]:
        out: list[Any] = []
        after = None
        while True:
            page = self.store.find(FindQuery(kind=kind, after=after, limit=1000))
            out += page.items
            if page.next_cursor is None:
                return out
            after = page.next_cursor

    def due_reservations(self, now: datetime, limit: int) -> list[str]:
        due: list[Reservation] = [r for r in self._all("Reservation") if r.is_lapsed(now)]
        due.sort(key=lambda r: (utc(r.valid_until), r.id))
        return [r.id for r in due[:limit]]

    def open_work_orders(self, limit: int) -> list[str]:
        wos: list[WorkOrder] = [w for w in self._all("WorkOrder") if w.state in OPEN_WORK]
        wos.sort(key=lambda w: (utc(w.due_at), w.id))
        return [w.id for w in wos[:limit]]
