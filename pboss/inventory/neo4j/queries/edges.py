"""Edge changes (`Neo4jStore.change_edges`, `pboss.inventory.edges`): one read under lock, then
the one write statement a transaction's commit uses (`transaction.commit`).

`READ` write-locks every node whose edges change (`$lock`, sorted ids) before anything is read,
so what it returns cannot change before the transaction commits (Neo4j runs read-committed):
the nodes named (as `rules.Ref` rows, and their statuses for the history), the named edges as
stored, the single-upstream edges of the new sources, the users of the ports moves land on, the
slots held of the sections moved routes land on, and, when an acknowledgement is asked for, the
riders of `$impact` (their closure write-locked first, as `queries.impact` does).
"""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import WRITE, Query
from pboss.inventory.neo4j.queries.fragments import PORT_TAKING, SINGLE, lock, slot_holders
from pboss.inventory.neo4j.queries.impact import impact_reads

READ = Query(
    "edges.read",
    WRITE,
    f"""
    CALL () {{
      UNWIND $lock AS lid
      MATCH (n:Entity {{id: lid}})
      {lock("n")}
      RETURN count(n) AS ends_locked
    }}
    CALL () {{
      MATCH (n:Entity) WHERE n.id IN $lock
      RETURN collect([n.id, n.kind, n.stage, n.capacity_vc12]) AS refs,
             collect([n.id, n.status]) AS statuses
    }}
    CALL () {{
      UNWIND $keys AS k
      MATCH (a:Entity {{id: k[1]}})-[r]->(b:Entity {{id: k[2]}}) WHERE type(r) = k[0]
      RETURN collect([k, properties(r)]) AS edges
    }}
    CALL () {{
      UNWIND $single AS sid
      MATCH (:Entity {{id: sid}})-[r:{SINGLE}]->(b:Entity)
      RETURN collect([type(r), sid, b.id]) AS upstreams
    }}
    CALL () {{
      UNWIND $ports AS pid
      MATCH (:Entity {{id: pid}})<-[r:{PORT_TAKING}]-(u:Entity)
      RETURN collect([pid, type(r), u.id]) AS users
    }}
    CALL () {{
      UNWIND $pools AS pid
      MATCH {slot_holders("s:Entity {id: pid}", "h", "holder")}
      RETURN collect([pid, type(h), holder.id, h.slots]) AS holdings
    }}
    {impact_reads("impact")}
    RETURN refs, statuses, edges, upstreams, users, holdings, rows
    """,
)
