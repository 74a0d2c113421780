"""The MemoryStore's edge changes (`GraphStore.change_edges`, `pboss.inventory.edges`).

Runs under the store's one lock (the caller holds it): reads what planning needs from the graph,
lets `edges.plan_edge_changes` decide, checks the acknowledgement, then deletes and adds the edges
and enters the history. Nothing is changed before every check has passed, so a refusal writes
nothing and a reader (who takes the same lock) never sees a half-made move.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pboss.inventory.edges import EdgeChanges, EdgeFacts, EdgeMove, EdgeRequest, plan_edge_changes
from pboss.inventory.impact import Acknowledgement, check
from pboss.inventory.memory.rows import element
from pboss.inventory.model import SINGLE_UPSTREAM
from pboss.inventory.rules import PORT_EDGE_TYPES, Known
from pboss.inventory.undo import EdgeKey

if TYPE_CHECKING:
    from pboss.inventory.memory.store import MemoryStore


def facts_of(store: MemoryStore, request: EdgeRequest) -> EdgeFacts:
    """What `plan_edge_changes` reads, from the graph as it is (under the store's lock)."""
    graph = store.graph
    nodes: dict[str, Known] = {i: element(graph, i) for i in request.node_ids if i in graph}
    edges = {
        k: dict(graph.edges[k[1], k[2], k[0]])
        for k in request.keys
        if graph.has_edge(k[1], k[2], key=k[0])
    }
    upstreams = {
        (key, src): dst
        for src in request.single_sources
        if src in graph
        for _, dst, key in graph.out_edges(src, keys=True)
        if key in SINGLE_UPSTREAM
    }
    users = {
        p: [(k, src) for src, _, k in graph.in_edges(p, keys=True) if k in PORT_EDGE_TYPES]
        for p in request.ports
        if p in graph
    }
    holdings = {
        p: [
            (k, src, list(data.get("slots") or []))
            for src, _, k, data in graph.in_edges(p, keys=True, data=True)
            if k in ("ROUTED_OVER", "HOLDS")
        ]
        for p in request.pools
        if p in graph
    }
    return EdgeFacts(nodes, edges, upstreams, users, holdings)


def change_edges(
    store: MemoryStore,
    removals: Sequence[EdgeKey],
    moves: Sequence[EdgeMove],
    actor: str,
    reason: str,
    ack: Acknowledgement | None,
) -> EdgeChanges:
    """`GraphStore.change_edges` on the embedded store (the caller holds `store.lock`)."""
    request = EdgeRequest.of(removals, moves)
    plan = plan_edge_changes(request, facts_of(store, request), store.catalog)
    if ack is not None and request.impact_ids:
        check(ack, store._impact(request.impact_ids, request.action))
    for e in plan.deletes:
        store.graph.remove_edge(e.src, e.dst, key=e.type)
    for e in plan.creates:
        store.graph.add_edge(e.src, e.dst, key=e.type, **e.props())
    return plan.result(store._enter(plan.entries, actor, reason))
