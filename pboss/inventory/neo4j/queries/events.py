"""The event log on Neo4j (`pboss.inventory.events`): `:Event` nodes numbered from one counter.

`append` runs inside a step's write transaction, as the last part of its write statement (or
alone, `APPEND`, when the step wrote nothing else): it bumps the single `:EventSeq` node (taking its
write lock, held until the commit, so numbers are gap-free and follow commit order) and creates one
`:Event` per row. `AFTER` pages the log by sequence through the `event_seq` constraint's index,
`LATEST` finds a subject's newest event of a type through the (type, subject) index, and
`LAST_SEQ` reads the counter.
"""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import READ, WRITE, Query


def append(param: str) -> str:
    """Number the rows of `$<param>` from the counter (locking it) and create their `:Event`
    nodes; one row out (how many, and the last one's number). Also a part of the step's write
    statement (`transaction.commit`)."""
    return f"""
    MERGE (c:EventSeq {{id: 1}})
    SET c.n = coalesce(c.n, 0) + size(${param})
    WITH c.n - size(${param}) AS base
    UNWIND range(0, size(${param}) - 1) AS i
    WITH base, i, ${param}[i] AS r
    CREATE (e:Event {{id: r.id, type: r.type, at: r.at, subject: r.subject, body: r.body,
                     sites: r.sites, products: r.products, partners: r.partners,
                     seq: base + i + 1}})
    RETURN count(e) AS events, max(e.seq) AS last_seq
    """


#: A transaction's events when it wrote nothing else.
APPEND = Query("events.append", WRITE, append("events"))

AFTER = Query(
    "events.after",
    READ,
    """
    MATCH (e:Event)
    WHERE e.seq > $after AND ($types IS NULL OR e.type IN $types)
      AND ($subjects IS NULL OR e.subject IN $subjects)
      AND ($sites IS NULL OR any(s IN coalesce(e.sites, []) WHERE s IN $sites))
      AND ($products IS NULL OR any(p IN coalesce(e.products, []) WHERE p IN $products))
      AND ($partner IS NULL OR $partner IN coalesce(e.partners, []))
    RETURN e.seq AS seq, e {.id, .type, .at, .subject, .body, .sites, .products, .partners} AS row
    ORDER BY e.seq
    LIMIT $first
    """,
)

#: The newest event of `$type` about each of `$subjects` (those that have one): an index seek
#: on (type, subject) per subject, newest first, one row each.
LATEST = Query(
    "events.latest",
    READ,
    """
    UNWIND $subjects AS s
    CALL (s) {
      MATCH (e:Event {type: $type, subject: s})
      RETURN e ORDER BY e.seq DESC LIMIT 1
    }
    RETURN e.seq AS seq, e {.id, .type, .at, .subject, .body, .sites, .products, .partners} AS row
    """,
)

#: The counter's committed value: the newest event's number (0 when none was ever numbered).
LAST_SEQ = Query(
    "events.last_seq",
    READ,
    "OPTIONAL MATCH (c:EventSeq {id: 1}) RETURN coalesce(c.n, 0) AS n",
)
