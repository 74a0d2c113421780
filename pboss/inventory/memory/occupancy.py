"""How occupied a resource is in the memory graph: the rules the site view, the transport view
and a transaction's `claim` share, written once so they cannot drift apart.

(Neo4j states the same rules once in Cypher fragments; the contract tests keep the two equal.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection

import networkx as nx

from pboss.inventory.memory.rows import kind_of

#: Edges that take VC-12 slots of a trunk section or partner link: circuits and holds.
SLOT_EDGES = ("ROUTED_OVER", "HOLDS")
#: Edges that lead from a PON port down to what it feeds.
_PON_TREE = ("FED_BY", "PART_OF")


def has_in(graph: nx.MultiDiGraph, node_id: str, types: Collection[str]) -> bool:
    """True when an edge of one of these types arrives at the node."""
    return any(k in types for _, _, k in graph.in_edges(node_id, keys=True))


def slot_holdings(graph: nx.MultiDiGraph, section_id: str) -> list[tuple[str, list[int]]]:
    """Who holds which VC-12 slots of a section: circuits (ROUTED_OVER) and holds (HOLDS)."""
    out = []
    for src, _, key, data in graph.in_edges(section_id, keys=True, data=True):
        if key in SLOT_EDGES and data.get("slots"):
            out.append((src, list(data["slots"])))
    return out


def used_slots(graph: nx.MultiDiGraph, section_id: str) -> list[int]:
    """Every VC-12 slot of a section in use or held, sorted."""
    return sorted(s for _, slots in slot_holdings(graph, section_id) for s in slots)


def pon_load(graph: nx.MultiDiGraph, pon_id: str) -> int:
    """The PON-load rule: ONTs fed from a PON port (through its splitters, at any depth) plus
    splitter outputs held for new ONTs under it; compared with the port's split budget."""
    seen, queue, load = {pon_id}, deque([pon_id]), 0
    while queue:
        cur = queue.popleft()
        for src, _, key in graph.in_edges(cur, keys=True):
            if key in _PON_TREE and src not in seen:
                seen.add(src)
                queue.append(src)
                kind = kind_of(graph, src)
                load += kind == "ONT" or (kind == "SplitterPort" and has_in(graph, src, ("HOLDS",)))
    return load
