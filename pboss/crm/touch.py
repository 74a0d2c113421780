"""Which sites and elements a write touched, for resource publishing: a store wrapper and the
set it fills.

Provisioning's changes reach the publisher as order events (their scope names the sites); the
other writers, the GraphQL inventory mutations (`upsertElements`, `setStatus`, `deleteElements`)
and loads, go through the store's `upsert`, `insert_new`, `set_status` and `delete`.
`TouchingStore` wraps the store those writers are given (and `change_edges`, the edge
mutations' write) and, after each write that succeeded,
adds what it wrote to a `Touches`: the sites named by the nodes (a node's `site`, a Site's own
id) and the ids of what may matter elsewhere (`_to_resolve`: nodes of the access chain, edge ends
written without their node). The publisher turns element ids into the
sites whose packages hang off them (`pboss.crm.publisher`). Nothing is added for a write that
failed, and nothing is read except before a delete (the sites of what is about to go).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pboss.inventory.edges import EdgeChanges, EdgeMove
from pboss.inventory.impact import Acknowledgement
from pboss.inventory.model import Edge, Element
from pboss.inventory.results import ChangeRecord, UpsertResult
from pboss.inventory.rows import EdgeRow, NodeRow
from pboss.inventory.store import GraphStore
from pboss.inventory.undo import EdgeKey


class Touches:
    """Sites and element ids written since the last drain; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sites: set[str] = set()
        self._elements: set[str] = set()
        self._listeners: list[Callable[[], None]] = []

    def add(self, sites: Iterable[str], elements: Iterable[str]) -> None:
        """Remember these, then tell the listeners (the publisher wakes up)."""
        with self._lock:
            self._sites.update(s for s in sites if s)
            self._elements.update(e for e in elements if e)
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def drain(self) -> tuple[set[str], set[str]]:
        """The sites and elements touched since the last drain, forgotten here."""
        with self._lock:
            out = (self._sites, self._elements)
            self._sites, self._elements = set(), set()
            return out

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` after each add; returns the way to stop."""
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop


#: Kinds of the access chain a splitter package hangs off: a write to one of these may change
#: packages at other sites than its own (an OLT's status reaches every estate under it).
CHAIN_KINDS = frozenset({"OLT", "PonPort", "Splitter", "SplitterPort"})


def _node_sites(nodes: Iterable[Element]) -> set[str]:
    return {n.id if n.kind == "Site" else n.site or "" for n in nodes} - {""}


def _to_resolve(
    nodes: Iterable[tuple[str, str, str | None]], ends: Iterable[tuple[str, str]]
) -> set[str]:
    """Of (id, kind, site) nodes and (src, dst) edge ends written, the ids whose sites the
    publisher must look up: chain nodes (what hangs off them is elsewhere), nodes without a
    site, and edge ends not written in the same call."""
    written: set[str] = set()
    out: set[str] = set()
    for eid, kind, site in nodes:
        written.add(eid)
        if kind in CHAIN_KINDS or (not site and kind != "Site"):
            out.add(eid)
    out.update(i for pair in ends for i in pair if i not in written)
    return out


class TouchingStore:
    """A GraphStore proxy that reports the writes of `upsert`, `insert_new`, `set_status`,
    `delete` and `change_edges` to a `Touches`; every other attribute passes through."""

    def __init__(self, store: GraphStore, touches: Touches):
        self._store = store
        self.touches = touches
        self.name = store.name

    @property
    def inner(self) -> GraphStore:
        """The wrapped store."""
        return self._store

    def upsert(
        self,
        nodes: Sequence[Element],
        edges: Sequence[Edge] = (),
        *,
        actor: str = "system",
        reason: str = "upsert",
        ack: Acknowledgement | None = None,
    ) -> UpsertResult:
        """`GraphStore.upsert`, then report its nodes' sites and every id it wrote."""
        result = self._store.upsert(nodes, edges, actor=actor, reason=reason, ack=ack)
        ids = _to_resolve(((n.id, n.kind, n.site) for n in nodes), ((e.src, e.dst) for e in edges))
        self.touches.add(_node_sites(nodes), ids)
        return result

    def insert_new(self, nodes: Sequence[NodeRow], edges: Sequence[EdgeRow] = ()) -> UpsertResult:
        """`GraphStore.insert_new`, then report its rows' sites and ids."""
        result = self._store.insert_new(nodes, edges)
        sites = {n["id"] if n.get("kind") == "Site" else n.get("site") or "" for n in nodes}
        rows = ((n["id"], n.get("kind", ""), n.get("site")) for n in nodes)
        ids = _to_resolve(rows, ((e.src, e.dst) for e in edges))
        self.touches.add(sites - {""}, ids)
        return result

    def set_status(
        self,
        element_id: str,
        status: str,
        *,
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
    ) -> ChangeRecord | None:
        """`GraphStore.set_status`, then report the element when its status changed."""
        change = self._store.set_status(element_id, status, actor=actor, reason=reason, ack=ack)
        if change is not None:
            self.touches.add((), [element_id])
        return change

    def delete(
        self,
        element_ids: Sequence[str],
        *,
        cascade: bool = False,
        actor: str = "system",
        ack: Acknowledgement | None = None,
    ) -> list[str]:
        """`GraphStore.delete`, then report the deleted ids and the sites they were at (read
        before deleting: afterwards nothing says where they were)."""
        before = self._store.get_many(list(element_ids))
        deleted = self._store.delete(element_ids, cascade=cascade, actor=actor, ack=ack)
        self.touches.add(_node_sites(before.values()), [*element_ids, *deleted])
        return deleted

    def change_edges(
        self,
        removals: Sequence[EdgeKey] = (),
        moves: Sequence[EdgeMove] = (),
        *,
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
    ) -> EdgeChanges:
        """`GraphStore.change_edges`, then report every end of the edges removed or moved (a
        re-homed ONT frees one splitter output and takes another)."""
        changes = self._store.change_edges(removals, moves, actor=actor, reason=reason, ack=ack)
        ends = {i for _, src, dst in removals for i in (src, dst)}
        for move in moves:
            ends.update(i for i in (move.src, move.dst, move.new_src, move.new_dst) if i)
        self.touches.add((), ends)
        return changes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
