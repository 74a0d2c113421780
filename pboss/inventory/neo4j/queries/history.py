"""Writing history entries (`pboss.inventory.history`) as `Change` nodes, as a fragment every
write statement shares: an edge entry takes the status of the element it is entered at."""

from __future__ import annotations


def record(param: str) -> str:
    """Create a `Change` node from each row of `$<param>`; a row without `to_status` (an edge's
    entry) gets the element's status as now written ("deleted" when it is gone)."""
    return f"""
    UNWIND ${param} AS r
    OPTIONAL MATCH (e:Entity {{id: r.element_id}})
    CREATE (c:Change)
    SET c = r
    SET c.to_status = coalesce(r.to_status, e.status, 'deleted'),
        c.from_status = CASE WHEN r.to_status IS NULL
                             THEN coalesce(e.status, 'deleted') ELSE r.from_status END
    """
