"""The validated writes of `Neo4jStore`: upsert (read what the batch refers to under lock, then
create, update and merge), status changes, deletes, and the history records they leave."""

from __future__ import annotations

from functools import lru_cache

from pboss.inventory.neo4j.queries.base import WRITE, Query, labels_for, rel_type
from pboss.inventory.neo4j.queries.fragments import (
    FAIL,
    PORT_TAKING,
    VALIDATION_READS,
    lock,
    slot_holders,
)
from pboss.inventory.neo4j.queries.history import record

#: What an upsert reads before planning: its own nodes whole, the ids it refers to, its edges
#: already stored and the single-upstream targets of its sources, with the nodes it writes locked.
EXISTING = Query(
    "upsert.existing",
    WRITE,
    f"""
    CALL () {{
      UNWIND $lock AS lid
      MATCH (n:Entity {{id: lid}})
      {lock("n")}
      RETURN count(n) AS locked
    }}
    CALL () {{
      UNWIND $keys AS k
      MATCH (a:Entity {{id: k[1]}})
      MATCH (b:Entity {{id: k[2]}})
      MATCH (a)-[r]->(b) WHERE type(r) = k[0]
      RETURN collect([k, properties(r)]) AS edges
    }}
    {VALIDATION_READS}
    RETURN nodes, refs, edges, upstreams
    """,
)


@lru_cache(maxsize=128)
def create_nodes(kind: str) -> Query:
    """CREATE nodes of one kind with its labels (a duplicate id meets the uniqueness constraint)."""
    return Query(
        "upsert.create", WRITE, f"UNWIND $rows AS r CREATE (n{labels_for(kind)}) SET n = r"
    )


UPDATE_NODES = Query(
    "upsert.update", WRITE, "UNWIND $rows AS r MATCH (n:Entity {id: r.id}) SET n = r"
)


@lru_cache(maxsize=64)
def merge_edges(edge_type: str) -> Query:
    """MERGE edges of one type between existing nodes, setting their properties."""
    return Query(
        "upsert.edges",
        WRITE,
        f"""
        UNWIND $rows AS r
        MATCH (a:Entity {{id: r.src}}), (b:Entity {{id: r.dst}})
        MERGE (a)-[e:{rel_type(edge_type)}]->(b)
        SET e = r.props
        """,
    )


#: The slots each given section's holders hold (after the batch wrote its edges).
SLOTS = Query(
    "upsert.slots",
    WRITE,
    f"""
    UNWIND $ids AS sid
    MATCH (s:Entity {{id: sid}})
    OPTIONAL MATCH {slot_holders("s", "h", "holder")}
    RETURN properties(s) AS section, collect([holder.id, h.slots]) AS holdings
    """,
)

#: Who arrives at each given port over an edge type that may take it (`rules.PORT_EDGE_TYPES`),
#: read after the batch wrote its edges, with the port's kind (`rules.port_clashes` decides).
PORT_USERS = Query(
    "upsert.port_users",
    WRITE,
    f"""
    UNWIND $ids AS pid
    MATCH (p:Entity {{id: pid}})
    OPTIONAL MATCH (p)<-[r:{PORT_TAKING}]-(user)
    RETURN p.id AS id, p.kind AS kind, collect([type(r), user.id]) AS users
    """,
)

RECORD_CHANGES = Query("history.record", WRITE, record("rows"))

#: Lock one node and read its status (the first half of `set_status`).
STATUS_LOCK = Query(
    "status.lock", WRITE, f"MATCH (n:Entity {{id: $id}}) {lock('n')} RETURN n.status AS s"
)
STATUS_SET = Query(
    "status.set",
    WRITE,
    "MATCH (n:Entity {id: $id}) SET n.status = $status CREATE (c:Change) SET c = $change",
)

#: Lock the nodes to delete and find each one's dependants (over the failure edges).
DELETE_PLAN = Query(
    "delete.plan",
    WRITE,
    f"""
    CALL () {{
      UNWIND $ids AS lid
      MATCH (n:Entity {{id: lid}})
      {lock("n")}
      RETURN count(n) AS locked
    }}
    UNWIND $ids AS rid
    OPTIONAL MATCH (x:Entity {{id: rid}})
    OPTIONAL MATCH (d:Entity)-[:{FAIL}*1..32]->(x)
    RETURN rid, x IS NOT NULL AS found, x.status AS status,
           collect(DISTINCT [d.id, d.status]) AS dependants
    """,
)

#: Delete nodes with their edges; say who held any of them (then the caller rolls back), and,
#: for the history, what each node was and its edges to the nodes that stay.
DELETE_NODES = Query(
    "delete.nodes",
    WRITE,
    """
    UNWIND $ids AS did
    MATCH (n:Entity {id: did})
    OPTIONAL MATCH (n)<-[:HOLDS]-(h) WHERE NOT h.id IN $ids
    WITH n, collect(h.id) AS holders
    WITH n, holders, properties(n) AS p, COLLECT {
      MATCH (n)-[r]-(m) WHERE NOT m.id IN $ids
      RETURN [type(r), startNode(r).id, endNode(r).id, properties(r), m.id]
    } AS cut
    DETACH DELETE n
    RETURN collect(holders) AS held, collect([p, cut]) AS gone
    """,
)
