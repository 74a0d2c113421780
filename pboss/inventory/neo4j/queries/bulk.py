"""The bulk load's writes (`Neo4jStore.insert_new`): create nodes, merge edges and count what
was written; only when that falls short, find out why."""

from __future__ import annotations

from functools import lru_cache

from pboss.inventory.model import SINGLE_UPSTREAM
from pboss.inventory.neo4j.queries.base import READ, WRITE, Query, labels_for, rel_type


@lru_cache(maxsize=128)
def create_nodes(kind: str) -> Query:
    """CREATE nodes of one kind; a node written since validation meets the uniqueness constraint."""
    return Query("bulk.create", WRITE, f"UNWIND $rows AS r CREATE (n{labels_for(kind)}) SET n = r")


@lru_cache(maxsize=64)
def merge_edges(edge_type: str) -> Query:
    """MERGE one type of edge; counts what was written, what existed and what was the same.
    A single-upstream type is written only where the source has no other target."""
    rel = rel_type(edge_type)
    upstream_free = (
        f"WHERE NOT EXISTS {{ MATCH (a)-[:{rel}]->(other) WHERE other <> b }}"
        if edge_type in SINGLE_UPSTREAM
        else ""
    )
    return Query(
        "bulk.edges",
        WRITE,
        f"""
        UNWIND $rows AS r
        MATCH (a:Entity {{id: r.src}})
        MATCH (b:Entity {{id: r.dst}})
        {upstream_free}
        OPTIONAL MATCH (a)-[old:{rel}]->(b)
        WITH a, b, r, old IS NOT NULL AS existed,
             old IS NOT NULL AND properties(old) = r.props AS same
        MERGE (a)-[e:{rel}]->(b)
        SET e = r.props
        RETURN count(*) AS written,
               sum(CASE WHEN existed THEN 1 ELSE 0 END) AS existed,
               sum(CASE WHEN same THEN 1 ELSE 0 END) AS same
        """,
    )


@lru_cache(maxsize=64)
def edge_problems(edge_type: str) -> Query:
    """For each row: do both ends exist, and which other target does the source have."""
    rel = rel_type(edge_type)
    return Query(
        "bulk.edges.why",
        READ,
        f"""
        UNWIND $rows AS r
        OPTIONAL MATCH (a:Entity {{id: r.src}})
        OPTIONAL MATCH (b:Entity {{id: r.dst}})
        OPTIONAL MATCH (a)-[:{rel}]->(other) WHERE other <> b
        RETURN r.src AS src, r.dst AS dst, a IS NOT NULL AS src_exists,
               b IS NOT NULL AS dst_exists, collect(other.id)[0] AS upstream
        """,
    )
