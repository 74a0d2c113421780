"""The riders a write would take down, counted inside the write transaction (`impact.py`).

The dependency closure above the resources is write-locked first, in id order, and only then
read again: a rider joins or leaves by an edge to a node of that closure, which needs that node's
lock, so the riders cannot change between the count and the write.
"""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import WRITE, Query
from pboss.inventory.neo4j.queries.fragments import FAIL, lock


def impact_reads(param: str) -> str:
    """`CALL` subqueries that write-lock the dependency closure above the ids in `$<param>` (in
    id order) and then return its services with their customers as `rows` (none for no ids)."""
    return f"""
    CALL () {{
      UNWIND ${param} AS rid
      MATCH (d:Entity)-[:{FAIL}*0..32]->(:Entity {{id: rid}})
      WITH DISTINCT d ORDER BY d.id
      {lock("d")}
      RETURN count(d) AS locked
    }}
    CALL () {{
      UNWIND ${param} AS rid
      MATCH (svc:Service)-[:{FAIL}*0..32]->(:Entity {{id: rid}})
      WITH DISTINCT svc
      OPTIONAL MATCH (svc)-[:FOR]->(c:Customer)
      RETURN collect([properties(svc), properties(c)]) AS rows
    }}
    """


IMPACT = Query("impact.riders", WRITE, f"{impact_reads('ids')}\n    RETURN rows\n")
