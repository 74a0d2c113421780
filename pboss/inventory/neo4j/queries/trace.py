"""Trace: what a circuit or service depends on, in path order, in one query that reads only what
a trace shows.

The trace (`pboss.inventory.tracing.build_trace`) walks the failure edges down from the root and
stops at a circuit, of which it shows the A-end port and what it is part of, the trunk sections in
`seq` order and the Z-end likewise. So the query reads, whole, only the nodes of that walk (a
circuit root: its ends, their NEs and its trunks, ≈ 10 of the ≈ 30 nodes its whole closure holds),
with the edges the walk follows and pool use; of the whole closure it reads only each node's id,
distance from the root and status (the trace's health). One row.
"""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import READ, Query
from pboss.inventory.neo4j.queries.fragments import FAIL, slot_holders, splitter_port_busy

TRACE = Query(
    "trace",
    READ,
    f"""
    MATCH (root:Entity {{id: $id}})
    CALL (root) {{
      MATCH p = (root)-[:{FAIL}*0..24]->(n)
      WITH n, min(length(p)) AS depth
      RETURN collect([n.id, depth, n.status]) AS closure
    }}
    CALL (root) {{
      MATCH (root) ((a)-[:{FAIL}]->(b) WHERE NOT a:Circuit){{0,24}} (w)
      RETURN collect(DISTINCT w) AS walked
    }}
    CALL (walked) {{
      UNWIND walked AS c
      MATCH (c:Circuit)-[:A_END|Z_END]->(port)
      OPTIONAL MATCH (port)-[:PART_OF]->(parent)
      RETURN collect(DISTINCT port) AS ends, collect(DISTINCT parent) AS parents
    }}
    CALL (walked) {{
      UNWIND walked AS c
      MATCH (c:Circuit)-[:ROUTED_OVER]->(trunk)
      RETURN collect(DISTINCT trunk) AS trunks
    }}
    CALL (walked, ends, trunks, parents) {{
      UNWIND walked + ends + trunks + parents AS x
      WITH DISTINCT x
      CALL (x, walked, ends) {{
        OPTIONAL MATCH (x)-[r:{FAIL}]->(m)
        WHERE (x:Circuit AND type(r) IN ['A_END', 'Z_END', 'ROUTED_OVER'])
           OR (NOT x:Circuit AND x IN walked)
           OR (x IN ends AND type(r) = 'PART_OF')
        RETURN collect(CASE WHEN r IS NOT NULL THEN [type(r), m.id, r.seq, r.slots] END) AS out
      }}
      RETURN collect([properties(x), out,
        CASE WHEN x:TrunkSection OR x:PartnerLink
          THEN size(COLLECT {{ MATCH {slot_holders("x")} UNWIND coalesce(h.slots, []) AS s
                               RETURN s }})
        WHEN x:Splitter
          THEN COUNT {{ MATCH (x)<-[:PART_OF]-(sp:SplitterPort)
                        WHERE {splitter_port_busy("sp")} }}
        END]) AS shown
    }}
    RETURN closure, shown
    """,
)
