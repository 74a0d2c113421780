"""`Neo4jStore.snapshot` and `restore`: a load's batch undone in one transaction (see
`pboss.inventory.undo`); the Cypher is in `queries/undo.py`."""

from __future__ import annotations

from collections.abc import Sequence

from pboss.inventory.errors import HasDependants
from pboss.inventory.neo4j.client import Neo4jClient, WriteTx
from pboss.inventory.neo4j.queries import undo as q
from pboss.inventory.undo import EdgeKey, Snapshot, Undo


def snapshot(
    client: Neo4jClient, node_ids: Sequence[str], edge_keys: Sequence[EdgeKey]
) -> Snapshot:
    """The stored properties of those of the nodes and edges that exist, in one query."""
    if not node_ids and not edge_keys:
        return Snapshot()

    def work(tx: WriteTx) -> Snapshot:
        row = tx.run(q.SNAPSHOT, ids=list(node_ids), keys=[list(k) for k in edge_keys])[0]
        nodes = {p["id"]: dict(p) for p in row["nodes"]}
        edges = {(k[0], k[1], k[2]): dict(p) for k, p in row["edges"]}
        return Snapshot(nodes, edges)

    return client.write(work)


def restore(client: Neo4jClient, undo: Undo) -> None:
    """Put back what `undo` says, all or nothing; HasDependants (nothing changed) when a
    reservation made meanwhile holds a node the batch created."""
    if undo.empty and not undo.history_ids:
        return

    def work(tx: WriteTx) -> None:
        if undo.created_edges:
            tx.run(q.DELETE_EDGES, keys=[list(k) for k in undo.created_edges])
        if undo.prior_edges:
            rows = [{"k": list(k), "props": p} for k, p in undo.prior_edges]
            tx.run(q.RESTORE_EDGES, rows=rows)
        if undo.prior_nodes:
            tx.run(q.RESTORE_NODES, rows=undo.prior_nodes)
        if undo.created_nodes:
            held = tx.run(q.DELETE_NODES, ids=undo.created_nodes)[0]["held"]
            holders = sorted({h for hs in held for h in hs})
            if holders:  # raising rolls the transaction back
                raise HasDependants(list(undo.created_nodes[:5]), holders)
        if undo.history_ids and undo.since is not None:
            params = {"actor": undo.actor, "reason": undo.reason, "since": undo.since}
            tx.run(q.DELETE_HISTORY, ids=undo.history_ids, **params)

    client.write(work)
