"""The riders a write would take down, counted inside the write transaction (`impact.py`).

The dependency closure above the resources is write-locked first, in id order, and only then
read again: a rider joins or leaves by an edge to a node of that closure, which needs that node's
lock, so the riders cannot change between the count and the write.
"""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import WRITE, Query
from pboss.inventory.neo4j.queries.fragments import FAIL, lock

IMPACT = Query(
    "impact.riders",
    WRITE,
    f"""
    CALL () {{
      UNWIND $ids AS rid
      MATCH (d:Entity)-[:{FAIL}*0..32]->(:Entity {{id: rid}})
      WITH DISTINCT d ORDER BY d.id
      {lock("d")}
      RETURN count(d) AS locked
    }}
    CALL () {{
      UNWIND $ids AS rid
      MATCH (svc:Service)-[:{FAIL}*0..32]->(:Entity {{id: rid}})
      WITH DISTINCT svc
      OPTIONAL MATCH (svc)-[:FOR]->(c:Customer)
      RETURN collect([properties(svc), properties(c)]) AS rows
    }}
    RETURN rows
    """,
)
