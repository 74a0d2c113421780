"""The MemoryStore's write transaction (`GraphTx`): a unit of work runs under the store's lock.

The lock serialises every transaction, so `lock()` needs no per-node locks. Writes are collected
and handed to the store at the end (`MemoryStore.transact`), which applies them all or nothing
through the same validation as `upsert` (`rules.plan_batch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pboss.inventory.errors import TxConflict
from pboss.inventory.events import NewEvent
from pboss.inventory.memory.occupancy import pon_load, used_slots
from pboss.inventory.memory.rows import element
from pboss.inventory.model import Edge, Element
from pboss.inventory.transaction import AlreadyExists, Direction, Facts

if TYPE_CHECKING:
    from pboss.inventory.memory.store import MemoryStore

_SECTIONS = ("TrunkSection", "PartnerLink")


class MemoryTx:
    """One unit of work's view of the MemoryStore; the caller holds `store.lock` throughout."""

    def __init__(self, store: MemoryStore):
        self.store = store
        self.graph = store.graph
        self.puts: dict[str, Element] = {}
        self.links: dict[tuple[str, str, str], Edge] = {}
        self.unlinks: list[tuple[str, str, str]] = []
        #: re-pointed edges (as read, as they will be): also in `unlinks` and `links`
        self.moves: list[tuple[Edge, Edge]] = []
        self.events: list[NewEvent] = []

    def _reading(self) -> None:
        if self.puts or self.links or self.unlinks:
            raise RuntimeError("a transaction read after writing (not allowed: see transaction.py)")

    def _el(self, element_id: str) -> Element:
        return element(self.graph, element_id)

    def lock(self, ids: Iterable[str]) -> dict[str, Element]:
        return self.peek(ids)

    def peek(self, ids: Iterable[str]) -> dict[str, Element]:
        self._reading()
        return {i: self._el(i) for i in sorted(set(ids)) if i in self.graph}

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
                element=el,
                incoming=sorted({k for _, _, k in self.graph.in_edges(i, keys=True)}),
            )
            if el.kind in _SECTIONS:
                facts.used_slots = used_slots(self.graph, i)
            elif el.kind == "PonPort":
                facts.load = pon_load(self.graph, i)
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

    def linked_many(
        self, element_ids: Sequence[str], edge_type: str, direction: Direction
    ) -> dict[str, list[tuple[Edge, Element]]]:
        return {i: self.linked(i, edge_type, direction) for i in dict.fromkeys(element_ids)}

    def put(self, element: Element, *, new: bool = False) -> None:
        if element.id not in self.graph:
            if not new:  # an update of what is not there, refused as Neo4j's transaction does
                raise TxConflict(
                    f"cannot update {element.kind}", [f"no {element.kind} with id {element.id}"]
                )
        elif new:
            raise AlreadyExists(element.id)
        else:
            old = self._el(element.id)
            if old.kind != element.kind:
                raise TxConflict(f"id {element.id} is taken", [f"it is a {old.kind}"])
        self.puts[element.id] = element.model_copy(deep=True)

    def link(self, edge: Edge) -> None:
        self.links[edge.key] = edge

    def unlink(self, edge_type: str, src: str, dst: str) -> None:
        self.unlinks.append((src, dst, edge_type))

    def repoint(self, edge: Edge, *, src: str | None = None, dst: str | None = None) -> Edge:
        after = edge.model_copy(update={"src": src or edge.src, "dst": dst or edge.dst})
        self.unlink(edge.type, edge.src, edge.dst)
        self.link(after)
        self.moves.append((edge.model_copy(deep=True), after))
        return after

    def emit(self, event: NewEvent) -> None:
        self.events.append(event.model_copy(deep=True))
