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
from typing import Any

from neo4j.exceptions import ConstraintError

from pboss.inventory.errors import Issue, ValidationFailed
from pboss.inventory.model import SINGLE_UPSTREAM
from pboss.inventory.neo4j.client import Neo4jClient, WriteTx
from pboss.inventory.neo4j.queries import bulk as q
from pboss.inventory.results import UpsertResult
from pboss.inventory.rows import EdgeRow, NodeRow, edge_conflict, refuse_own_conflicts


def insert_new(
    client: Neo4jClient, nodes: Sequence[NodeRow], edges: Sequence[EdgeRow]
) -> UpsertResult:
    """Create the nodes and merge the edges in one transaction; see the module docstring."""
    refuse_own_conflicts(nodes, edges)
    by_kind: dict[str, list[NodeRow]] = defaultdict(list)
    for n in nodes:
        by_kind[n["kind"]].append(n)
    by_type: dict[str, list[EdgeRow]] = defaultdict(list)
    for e in edges:
        by_type[e.type].append(e)

    def work(tx: WriteTx) -> UpsertResult:
        result = UpsertResult(nodes_added=len(nodes))
        for kind, rows in sorted(by_kind.items()):
            try:
                tx.run(q.create_nodes(kind), rows=rows)
            except ConstraintError as exc:
                reason = f"an id of this batch exists already (written since validation): {exc}"
                raise ValidationFailed([Issue(f"{kind} nodes", reason, "id")]) from exc
        for etype, typed in sorted(by_type.items()):
            rows = [{"src": e.src, "dst": e.dst, "props": e.props} for e in typed]
            got = tx.run(q.merge_edges(etype), rows=rows)
            written, existed, same = got[0]["written"], got[0]["existed"], got[0]["same"]
            if written != len(rows):
                raise ValidationFailed(_why_not_written(tx, etype, typed, rows))
            result.edges_added += written - existed
            result.edges_updated += existed - same
            result.edges_unchanged += same
        return result

    return client.write(work)


def _why_not_written(
    tx: WriteTx, etype: str, typed: Sequence[EdgeRow], rows: list[dict[str, Any]]
) -> list[Issue]:
    """The reasons edges of one type were not written (their rows, in input order)."""
    found = tx.run(q.edge_problems(etype), rows=rows)
    by_key = {(f["src"], f["dst"]): f for f in found}
    issues = []
    for e in typed:
        f = by_key[(e.src, e.dst)]
        single = e.type in SINGLE_UPSTREAM
        if not (f["src_exists"] and f["dst_exists"]) or (single and f["upstream"] is not None):
            upstream = f["upstream"] if single else None
            issues.append(edge_conflict(e, f["src_exists"], f["dst_exists"], upstream))
    return issues or [Issue("edges", "not all edges were written (the store changed meanwhile)")]
