"""Whole-store scans that export and the drift report need, streamed, for each store.

The GraphStore protocol pages elements by filters but has no "every edge of a type" call, and
paging `find` over millions of rows costs a count per page. So this module streams from the
store's own engine when it knows it (Neo4j: one Cypher query per kind or type; MemoryStore: its
networkx graph) and falls back to the protocol (find + neighbours) for any other store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from pboss.inventory.model import EDGE_RULES, KINDS
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore

EdgeRow = tuple[str, str, dict[str, Any]]


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Stored properties without internal `_` keys, as Python values."""
    return {k: _native(v) for k, v in props.items() if not k.startswith("_")}


def _native(value: Any) -> Any:
    """A driver value (e.g. a Neo4j DateTime) as a Python value."""
    to_native = getattr(value, "to_native", None)
    return to_native() if to_native else value


def _cypher_stream(store: Any, cypher: str, **params: Any) -> Iterator[Any]:
    """Stream one read query's records from the store's driver."""
    from neo4j import READ_ACCESS, Query

    with store.driver.session(
        database=store.database,
        default_access_mode=READ_ACCESS,
        notifications_min_severity="OFF",  # scanning a kind or type the graph lacks is fine
    ) as s:
        yield from s.run(Query(cypher), params)  # type: ignore[arg-type]


def _checked(name: str, allowed: Any) -> str:
    """A label or type name, only if the model defines it (never raw input)."""
    if name not in allowed or not name.isidentifier():
        raise ValueError(f"unknown kind or edge type {name!r}")
    return name


def is_empty(store: GraphStore) -> bool:
    """True when the store holds no element at all."""
    return store.find(FindQuery(limit=1)).total == 0


def iter_nodes(store: GraphStore, kind: str) -> Iterator[dict[str, Any]]:
    """Flat properties of every node of a kind, ordered by id."""
    if hasattr(store, "scan_nodes"):  # the store's own scan (GraphStore protocol, spec §2)
        yield from store.scan_nodes(kind)
        return
    if hasattr(store, "driver"):
        label = _checked(kind, KINDS)
        cypher = f"MATCH (n:{label}) WHERE n.kind = $kind RETURN properties(n) AS p ORDER BY n.id"
        for rec in _cypher_stream(store, cypher, kind=kind):
            yield _clean(rec["p"])
        return
    graph = getattr(store, "graph", None)
    if graph is not None:
        with store.lock:  # type: ignore[attr-defined]
            ids = sorted(n for n, el in graph.nodes(data="el") if el.kind == kind)
        for i in ids:
            el = graph.nodes[i].get("el") if i in graph else None
            if el is not None:
                yield el.props()
        return
    after = None
    while True:
        page = store.find(FindQuery(kind=kind, after=after, limit=1000))
        for el in page.items:
            yield el.props()
        if page.next_cursor is None:
            return
        after = page.next_cursor


T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Items in lists of `size` (itertools.batched arrives with Python 3.12)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def iter_ids(store: GraphStore, kind: str, owner: str) -> Iterator[str]:
    """Ids of the nodes of one kind and owner (the scope a feed covers), in no particular order."""
    if hasattr(store, "scan_ids"):  # the store's own scan (GraphStore protocol, spec §2)
        yield from store.scan_ids(kind, owner)
        return
    if hasattr(store, "driver"):
        label = _checked(kind, KINDS)
        for rec in _cypher_stream(
            store, f"MATCH (n:{label}) WHERE n.kind = $kind AND n.owner = $owner RETURN n.id AS id",
            kind=kind, owner=owner,
        ):  # fmt: skip
            yield rec["id"]
        return
    graph = getattr(store, "graph", None)
    if graph is not None:
        with store.lock:  # type: ignore[attr-defined]
            ids = [n for n, el in graph.nodes(data="el") if el.kind == kind and el.owner == owner]
        yield from ids
        return
    after = None
    while True:
        page = store.find(FindQuery(kind=kind, owner=owner, after=after, limit=1000))
        yield from (el.id for el in page.items)
        if page.next_cursor is None:
            return
        after = page.next_cursor


def iter_edges(
    store: GraphStore, etype: str, *, ordered: bool = True, props: bool = True
) -> Iterator[EdgeRow]:
    """(src, dst, properties) of every edge of a type; by src then dst when `ordered`; without
    properties (an empty dict) unless `props`, for scans that only need the keys."""
    if hasattr(store, "scan_edges"):  # the store's own scan (GraphStore protocol, spec §2)
        yield from store.scan_edges(etype, ordered=ordered, props=props)
        return
    if hasattr(store, "driver"):
        rel = _checked(etype, EDGE_RULES)
        order = " ORDER BY src, dst" if ordered else ""
        what = "properties(r)" if props else "{}"
        cypher = (
            f"MATCH (a:Entity)-[r:{rel}]->(b:Entity) "
            f"RETURN a.id AS src, b.id AS dst, {what} AS p{order}"
        )
        for rec in _cypher_stream(store, cypher):
            yield rec["src"], rec["dst"], _clean(rec["p"])
        return
    graph = getattr(store, "graph", None)
    if graph is not None:
        with store.lock:  # type: ignore[attr-defined]
            rows = [
                (s, d, dict(data))
                for s, d, k, data in graph.edges(keys=True, data=True)
                if k == etype
            ]
        yield from (sorted(rows, key=lambda r: (r[0], r[1])) if ordered else rows)
        return
    rows = []
    for kind in sorted({a for a, _ in EDGE_RULES.get(etype, set())}):
        for props in iter_nodes(store, kind):
            for edge, _ in store.neighbours(props["id"], "out", [etype]):
                rows.append((edge.src, edge.dst, edge.props()))
    yield from sorted(rows, key=lambda r: (r[0], r[1]))
