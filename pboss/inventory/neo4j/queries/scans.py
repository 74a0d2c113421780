"""Whole-store streams (export, the drift report): every node of a kind, every id of a kind
and owner, every edge of a type. Names come from the model's closed sets."""

from __future__ import annotations

from functools import lru_cache

from pboss.inventory.neo4j.queries.base import READ, Query, kind_label, rel_type


@lru_cache(maxsize=64)
def nodes(kind: str) -> Query:
    """The stored properties of every node of a kind, by id."""
    return Query(
        f"scan.nodes.{kind}",
        READ,
        f"MATCH (n:{kind_label(kind)}) WHERE n.kind = $kind "
        "RETURN properties(n) AS p ORDER BY n.id",
    )


@lru_cache(maxsize=64)
def ids(kind: str) -> Query:
    """The ids of every node of a kind with one owner, by id."""
    return Query(
        f"scan.ids.{kind}",
        READ,
        f"MATCH (n:{kind_label(kind)}) WHERE n.kind = $kind AND n.owner = $owner "
        "RETURN n.id AS id ORDER BY id",
    )


@lru_cache(maxsize=128)
def edges(edge_type: str, ordered: bool, props: bool) -> Query:
    """(src, dst, properties or {}) of every edge of a type, by src then dst when `ordered`."""
    order = " ORDER BY src, dst" if ordered else ""
    what = "properties(r)" if props else "{}"
    return Query(
        f"scan.edges.{edge_type}",
        READ,
        f"MATCH (a:Entity)-[r:{rel_type(edge_type)}]->(b:Entity) "
        f"RETURN a.id AS src, b.id AS dst, {what} AS p{order}",
    )
