"""The bulk import's statements (`neo4j/imported.py`): is the database empty, wait for the
indexes, set what the CSV files could not carry, put repeated edges right, count the result."""

from __future__ import annotations

from functools import lru_cache

from pboss.inventory.model import KINDS, Category
from pboss.inventory.neo4j.queries.base import READ, WRITE, Query, kind_label, rel_type

#: Every label a pboss node may carry: `Entity`, the categories and the registered kinds.
LABELS = frozenset({"Entity", *(c.value for c in Category)})

ANY_NODE = Query(
    "import.any_node", READ, "MATCH (n) RETURN n.id AS id, labels(n) AS labels LIMIT 1"
)

AWAIT_INDEXES = Query("import.await_indexes", READ, "CALL db.awaitIndexes($seconds)")

PATCH_NODES = Query(
    "import.patch_nodes",
    WRITE,
    """
    UNWIND $rows AS r
    MATCH (n:Entity {id: r.node})
    SET n += r.props
    RETURN count(n) AS patched
    """,
)

NODES_ALL = Query("import.nodes_all", READ, "MATCH (n) RETURN count(n) AS n")

EDGES_ALL = Query("import.edges_all", READ, "MATCH ()-[r]->() RETURN count(r) AS n")


@lru_cache(maxsize=128)
def nodes_labelled(label: str) -> Query:
    """How many nodes carry a label (`Entity`, a category or a kind): the count store answers."""
    if label not in LABELS and kind_label(label) not in KINDS:
        raise ValueError(f"unknown label {label!r}")
    return Query("import.count_label", READ, f"MATCH (n:{label}) RETURN count(n) AS n")


@lru_cache(maxsize=64)
def edges_typed(edge_type: str) -> Query:
    """How many edges of one type: the count store answers."""
    rel = rel_type(edge_type)
    return Query("import.count_type", READ, f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n")


@lru_cache(maxsize=64)
def patch_edges(edge_type: str) -> Query:
    """SET what the CSV files could not carry on edges of one type."""
    rel = rel_type(edge_type)
    return Query(
        "import.patch_edges",
        WRITE,
        f"""
        UNWIND $rows AS r
        MATCH (:Entity {{id: r.src}})-[e:{rel}]->(:Entity {{id: r.dst}})
        SET e += r.props
        RETURN count(e) AS patched
        """,
    )


@lru_cache(maxsize=64)
def keep_last_edge(edge_type: str) -> Query:
    """Of an edge imported more than once, keep one with the last row's properties; returns
    how many copies were deleted (a key imported once is left alone)."""
    rel = rel_type(edge_type)
    return Query(
        "import.keep_last_edge",
        WRITE,
        f"""
        UNWIND $rows AS r
        MATCH (:Entity {{id: r.src}})-[e:{rel}]->(:Entity {{id: r.dst}})
        WITH r, collect(e) AS copies
        WHERE size(copies) > 1
        WITH r, head(copies) AS keep, tail(copies) AS extra
        FOREACH (x IN extra | DELETE x)
        SET keep = r.props
        RETURN coalesce(sum(size(extra)), 0) AS deleted
        """,
    )
