"""`Neo4jStore.insert_new`: the bulk write of a validated load, without a read before writing.

Nodes are CREATEd, one query per kind (its labels); a node written since validation meets the
uniqueness constraint on `Entity.id`. Edges are MERGEd from both ends, one query per type, and
single-upstream types (PART_OF, FED_BY, A_END, Z_END, FOR) only where the source has no other
target. The query returns how many rows it wrote; only when that falls short does a second query
find out why, and the transaction is rolled back with every reason. See `pboss.inventory.rows`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from pboss.inventory.errors import Issue, ValidationFailed
from pboss.inventory.model import SINGLE_UPSTREAM
from pboss.inventory.results import UpsertResult
from pboss.inventory.rows import EdgeRow, NodeRow, edge_conflict, refuse_own_conflicts

if TYPE_CHECKING:
    from pboss.inventory.neo4j.store import Neo4jStore


def _edge_write(rel: str, single: bool) -> str:
    """MERGE one type of edge; counts what was written, what existed and what was the same."""
    upstream_free = (
        f"WHERE NOT EXISTS {{ MATCH (a)-[:{rel}]->(other) WHERE other <> b }}" if single else ""
    )
    return f"""
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
    """


def _edge_problems(rel: str) -> str:
    """For each row: do both ends exist, and which other target does the source have."""
    return f"""
        UNWIND $rows AS r
        OPTIONAL MATCH (a:Entity {{id: r.src}})
        OPTIONAL MATCH (b:Entity {{id: r.dst}})
        OPTIONAL MATCH (a)-[:{rel}]->(other) WHERE other <> b
        RETURN r.src AS src, r.dst AS dst, a IS NOT NULL AS src_exists,
               b IS NOT NULL AS dst_exists, collect(other.id)[0] AS upstream
    """


def insert_new(
    store: Neo4jStore, nodes: Sequence[NodeRow], edges: Sequence[EdgeRow]
) -> UpsertResult:
    """Create the nodes and merge the edges in one transaction; see the module docstring."""
    from pboss.inventory.neo4j.store import labels_for, rel_type

    refuse_own_conflicts(nodes, edges)
    by_kind: dict[str, list[NodeRow]] = defaultdict(list)
    for n in nodes:
        by_kind[n["kind"]].append(n)
    by_type: dict[str, list[EdgeRow]] = defaultdict(list)
    for e in edges:
        by_type[e.type].append(e)

    def work(tx: ManagedTransaction) -> UpsertResult:
        result = UpsertResult(nodes_added=len(nodes))
        for kind, rows in sorted(by_kind.items()):
            cypher = f"UNWIND $rows AS r CREATE (n{labels_for(kind)}) SET n = r"
            try:
                store.run(tx, "bulk.create", cypher, rows=rows)
            except ConstraintError as exc:
                reason = f"an id of this batch exists already (written since validation): {exc}"
                raise ValidationFailed([Issue(f"{kind} nodes", reason, "id")]) from exc
        for etype, typed in sorted(by_type.items()):
            rel = rel_type(etype)
            rows = [{"src": e.src, "dst": e.dst, "props": e.props} for e in typed]
            got = store.run(tx, "bulk.edges", _edge_write(rel, etype in SINGLE_UPSTREAM), rows=rows)
            written, existed, same = got[0]["written"], got[0]["existed"], got[0]["same"]
            if written != len(rows):
                raise ValidationFailed(_why_not_written(store, tx, rel, typed, rows))
            result.edges_added += written - existed
            result.edges_updated += existed - same
            result.edges_unchanged += same
        return result

    return store.execute_write(work)


def _why_not_written(
    store: Neo4jStore,
    tx: ManagedTransaction,
    rel: str,
    typed: Sequence[EdgeRow],
    rows: list[dict[str, Any]],
) -> list[Issue]:
    """The reasons edges of one type were not written (their rows, in input order)."""
    found = store.run(tx, "bulk.edges.why", _edge_problems(rel), rows=rows)
    by_key = {(f["src"], f["dst"]): f for f in found}
    issues = []
    for e in typed:
        f = by_key[(e.src, e.dst)]
        single = e.type in SINGLE_UPSTREAM
        if not (f["src_exists"] and f["dst_exists"]) or (single and f["upstream"] is not None):
            upstream = f["upstream"] if single else None
            issues.append(edge_conflict(e, f["src_exists"], f["dst_exists"], upstream))
    return issues or [Issue("edges", "not all edges were written (the store changed meanwhile)")]
