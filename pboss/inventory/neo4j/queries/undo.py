"""The queries that undo a load's batch (`pboss.inventory.undo`): read what it may change, then
put it back: created edges and nodes deleted, prior properties set again, its history removed."""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import WRITE, Query

#: The stored properties of the given nodes and edges (`_` keys included), before a batch.
SNAPSHOT = Query(
    "undo.snapshot",
    WRITE,
    """
    CALL () {
      UNWIND $ids AS i
      MATCH (n:Entity {id: i})
      RETURN collect(properties(n)) AS nodes
    }
    CALL () {
      UNWIND $keys AS k
      MATCH (a:Entity {id: k[1]})-[r]->(b:Entity {id: k[2]}) WHERE type(r) = k[0]
      RETURN collect([k, properties(r)]) AS edges
    }
    RETURN nodes, edges
    """,
)

DELETE_EDGES = Query(
    "undo.delete_edges",
    WRITE,
    """
    UNWIND $keys AS k
    MATCH (a:Entity {id: k[1]})-[r]->(b:Entity {id: k[2]}) WHERE type(r) = k[0]
    DELETE r
    """,
)

RESTORE_EDGES = Query(
    "undo.restore_edges",
    WRITE,
    """
    UNWIND $rows AS row
    MATCH (a:Entity {id: row.k[1]})-[r]->(b:Entity {id: row.k[2]}) WHERE type(r) = row.k[0]
    SET r = row.props
    """,
)

RESTORE_NODES = Query(
    "undo.restore_nodes", WRITE, "UNWIND $rows AS r MATCH (n:Entity {id: r.id}) SET n = r"
)

#: Delete the created nodes with their edges; say who outside them holds any (then roll back).
DELETE_NODES = Query(
    "undo.delete_nodes",
    WRITE,
    """
    UNWIND $ids AS did
    MATCH (n:Entity {id: did})
    OPTIONAL MATCH (n)<-[:HOLDS]-(h) WHERE NOT h.id IN $ids
    WITH n, collect(h.id) AS holders
    DETACH DELETE n
    RETURN collect(holders) AS held
    """,
)

DELETE_HISTORY = Query(
    "undo.delete_history",
    WRITE,
    """
    UNWIND $ids AS eid
    MATCH (c:Change {element_id: eid})
    WHERE c.actor = $actor AND c.reason = $reason AND c.at >= $since
    DELETE c
    """,
)
