"""The Neo4jStore's edge changes (`GraphStore.change_edges`, `pboss.inventory.edges`).

One managed write transaction of two statements: `queries.edges.READ` locks the nodes whose edges
change (sorted ids) and reads, under those locks, what `edges.plan_edge_changes` decides on and,
with an acknowledgement, the riders (their closure locked too); then the one statement a
transaction's commit uses (`queries.transaction.commit`) deletes the old edges, creates the new
ones and records the history. Readers see the transaction's writes only once it commits, so a
re-point never shows its source without its edge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pboss.inventory.catalog import Catalog
from pboss.inventory.edges import (
    EdgeChanges,
    EdgeFacts,
    EdgeMove,
    EdgePlan,
    EdgeRequest,
    label,
    plan_edge_changes,
)
from pboss.inventory.errors import Issue, ValidationFailed
from pboss.inventory.history import stamped, to_row
from pboss.inventory.impact import Acknowledgement, check, impact_of
from pboss.inventory.neo4j.client import Neo4jClient, WriteTx
from pboss.inventory.neo4j.queries import edges as q
from pboss.inventory.neo4j.queries.transaction import commit
from pboss.inventory.neo4j.reads import element_of
from pboss.inventory.rules import Ref
from pboss.inventory.undo import EdgeKey


def _facts(row: dict[str, Any]) -> EdgeFacts:
    """`EdgeFacts` from `READ`'s row."""
    users: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pid, etype, user in row["users"]:
        users[pid].append((etype, user))
    holdings: dict[str, list[tuple[str, str, list[int]]]] = defaultdict(list)
    for pid, etype, holder, slots in row["holdings"]:
        holdings[pid].append((etype, holder, list(slots or [])))
    return EdgeFacts(
        nodes={r[0]: Ref(*r) for r in row["refs"]},
        edges={(k[0], k[1], k[2]): dict(p) for k, p in row["edges"]},
        upstreams={(t, s): d for t, s, d in row["upstreams"]},
        port_users=users,
        holdings=holdings,
    )


def _write(tx: WriteTx, plan: EdgePlan, history: list[dict[str, Any]]) -> None:
    """Delete and create the plan's edges and record its history, in one statement."""
    deletes: dict[str, list[dict[str, str]]] = defaultdict(list)
    for e in plan.deletes:
        deletes[e.type].append({"src": e.src, "dst": e.dst})
    creates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in plan.creates:
        creates[e.type].append({"src": e.src, "dst": e.dst, "props": e.props()})
    unlinked, linked = sorted(deletes.items()), sorted(creates.items())
    params: dict[str, Any] = {"history": history}
    params.update({f"u{n}": rows for n, (_, rows) in enumerate(unlinked)})
    params.update({f"l{n}": rows for n, (_, rows) in enumerate(linked)})
    query = commit(
        tuple(t for t, _ in unlinked), (), (), tuple(t for t, _ in linked), bool(history)
    )
    [row] = tx.rows(query, **params)
    missing = [
        Issue(f"edge {label((etype, r['src'], r['dst']))}", "missing node")
        for n, (etype, rows) in enumerate(linked)
        for r in rows
        if [r["src"], r["dst"]] not in [list(p) for p in row[f"l{n}"]]
    ]
    if missing:  # the ends were locked and read: only a store changed past the locks gets here
        raise ValidationFailed(missing)


def change_edges(
    client: Neo4jClient,
    catalog: Catalog,
    removals: Sequence[EdgeKey],
    moves: Sequence[EdgeMove],
    actor: str,
    reason: str,
    ack: Acknowledgement | None,
) -> EdgeChanges:
    """`GraphStore.change_edges` on Neo4j (see the module docstring)."""
    request = EdgeRequest.of(removals, moves)
    impact_ids = request.impact_ids if ack is not None else []

    def work(tx: WriteTx) -> EdgeChanges:
        [row] = tx.rows(
            q.READ,
            lock=request.node_ids,
            keys=[list(k) for k in request.keys],
            single=request.single_sources,
            ports=request.ports,
            pools=request.pools,
            impact=impact_ids,
        )
        plan = plan_edge_changes(request, _facts(row), catalog)
        if impact_ids:
            pairs = [(element_of(s), element_of(c) if c else None) for s, c in row["rows"]]
            check(ack, impact_of(impact_ids, request.action, pairs))
        entries = stamped(plan.entries, actor, reason)
        _write(tx, plan, [to_row(e, i) for i, e in enumerate(entries)])
        status = dict(row["statuses"])  # an edge's entry shows its end's status (unchanged)
        shown = [
            e.model_copy(
                update={"from_status": status[e.element_id], "to_status": status[e.element_id]}
            )
            for e in entries
        ]
        return plan.result(shown)

    return client.write(work)
