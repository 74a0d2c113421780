"""The embedded store's graph, noting which nodes and edges every write touched.

The durable embedded store (`pboss.inventory.memory.durable`) writes, at each commit, the state
as it now is of whatever the commit touched. Rather than ask every write path (there are many,
and more are added) to say what it changed, the graph itself notes each node and edge that any
networkx mutator reached; the journal then reads those nodes and edges back once, at the commit.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import networkx as nx

EdgeId = tuple[Hashable, Hashable, Hashable]


class RecordingGraph(nx.MultiDiGraph):
    """A MultiDiGraph whose mutators note the nodes and edges they touch (`take_touched`)."""

    def __init__(self, incoming_graph_data: Any = None, **attr: Any) -> None:
        self.touched_nodes: set[Hashable] = set()
        self.touched_edges: set[EdgeId] = set()
        self.cleared = False
        super().__init__(incoming_graph_data, **attr)

    def __getstate__(self) -> dict[str, Any]:
        """The graph's own state for a snapshot, without the notes of the commit in progress."""
        state = dict(self.__dict__)
        for name in ("touched_nodes", "touched_edges", "cleared"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Back from a snapshot, with nothing noted."""
        self.__dict__.update(state)
        self.touched_nodes, self.touched_edges, self.cleared = set(), set(), False

    def add_node(self, node_for_adding: Hashable, **attr: Any) -> None:
        """networkx's add_node, noted."""
        super().add_node(node_for_adding, **attr)
        self.touched_nodes.add(node_for_adding)

    def add_nodes_from(self, nodes_for_adding: Iterable[Any], **attr: Any) -> None:
        """networkx's add_nodes_from, noted node by node."""
        for n in nodes_for_adding:
            if isinstance(n, tuple) and len(n) == 2 and isinstance(n[1], dict):
                self.add_node(n[0], **{**attr, **n[1]})
            else:
                self.add_node(n, **attr)

    def remove_node(self, n: Hashable) -> None:
        """networkx's remove_node, noting the node and every edge it takes with it."""
        if n in self:
            self.touched_edges.update((n, v, k) for v, keys in self.succ[n].items() for k in keys)
            self.touched_edges.update((u, n, k) for u, keys in self.pred[n].items() for k in keys)
        super().remove_node(n)
        self.touched_nodes.add(n)

    def remove_nodes_from(self, nodes: Iterable[Hashable]) -> None:
        """networkx's remove_nodes_from (absent nodes ignored), noted node by node."""
        for n in list(nodes):
            if n in self:
                self.remove_node(n)

    def add_edge(
        self, u_for_edge: Hashable, v_for_edge: Hashable, key: Any = None, **attr: Any
    ) -> Any:
        """networkx's add_edge, noting the edge and its two ends (which it may create)."""
        key = super().add_edge(u_for_edge, v_for_edge, key, **attr)
        self.touched_nodes.update((u_for_edge, v_for_edge))
        self.touched_edges.add((u_for_edge, v_for_edge, key))
        return key

    def remove_edge(self, u: Hashable, v: Hashable, key: Any = None) -> None:
        """networkx's remove_edge, noted (every key between the two when none is named)."""
        if key is None and self.has_edge(u, v):
            self.touched_edges.update((u, v, k) for k in self.succ[u][v])
        elif key is not None:
            self.touched_edges.add((u, v, key))
        super().remove_edge(u, v, key)

    def clear(self) -> None:
        """networkx's clear, noted as a clean slate."""
        super().clear()
        self.cleared = True
        self.touched_nodes.clear()
        self.touched_edges.clear()

    def clear_edges(self) -> None:
        """networkx's clear_edges, noting every edge it drops."""
        self.touched_edges.update(self.edges(keys=True))
        super().clear_edges()

    def take_touched(self) -> tuple[bool, set[Hashable], set[EdgeId]]:
        """What was noted since the last call (cleared?, nodes, edges), forgetting it."""
        out = (self.cleared, self.touched_nodes, self.touched_edges)
        self.cleared, self.touched_nodes, self.touched_edges = False, set(), set()
        return out

    @property
    def touched(self) -> bool:
        """True when anything was noted since the last `take_touched`."""
        return self.cleared or bool(self.touched_nodes) or bool(self.touched_edges)
