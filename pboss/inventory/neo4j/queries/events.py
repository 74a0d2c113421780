"""The event log on Neo4j (`pboss.inventory.events`): `:Event` nodes numbered from one counter.

`APPEND` runs inside a step's write transaction: it bumps the single `:EventSeq` node (taking its
write lock, held until the commit, so numbers are gap-free and follow commit order) and creates one
`:Event` per row. `AFTER` pages the log by sequence through the `event_seq` constraint's index.
"""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import READ, WRITE, Query

APPEND = Query(
    "events.append",
    WRITE,
    """
    MERGE (c:EventSeq {id: 1})
    SET c.n = coalesce(c.n, 0) + size($events)
    WITH c.n - size($events) AS base
    UNWIND range(0, size($events) - 1) AS i
    WITH base, i, $events[i] AS r
    CREATE (e:Event {id: r.id, type: r.type, at: r.at, subject: r.subject, body: r.body,
                     seq: base + i + 1})
    RETURN count(e) AS n
    """,
)

AFTER = Query(
    "events.after",
    READ,
    """
    MATCH (e:Event)
    WHERE e.seq > $after AND ($types IS NULL OR e.type IN $types)
    RETURN e.seq AS seq, e {.id, .type, .at, .subject, .body} AS row
    ORDER BY e.seq
    LIMIT $first
    """,
)
