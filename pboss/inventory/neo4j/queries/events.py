"""The event log on Neo4j (`pboss.inventory.events`): `:Event` nodes, numbered after their commit.

`append` runs inside a step's write transaction, as the last part of its write statement (or
alone, `APPEND`, when the step wrote nothing else): it creates one `:Event` per row, not yet
numbered: labelled `:EventDue`, stamped with the server's clock as the statement runs (`due_at`)
and with its transaction (`due_tx`, its first event's id) and place in it (`due_i`). It takes no
shared lock, so writers no longer queue on one counter from their write to their commit.
`sequencer.py` then numbers them: `NUMBER` takes the single `:EventSeq` node's write lock (so
numbering runs one at a time and numbers follow one another gap-free), then gives every
committed `:EventDue` event the next numbers in stamp order (a transaction that read
another's committed writes stamps after it, so cause comes before effect), then makes it an
ordinary `:Event`; a reader sees an event only once numbered, so the log is read in numbering
order and a number read means every lower one is readable. `AFTER` pages the log by sequence
through the `event_seq` constraint's index, `LATEST` finds a subject's newest numbered event of a
type through the (type, subject) index (one still due is numbered first: a writer that
waited on another's lock must see what it committed), and `LAST_SEQ` reads the counter.
"""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import READ, WRITE, Query


def append(param: str) -> str:
    """Create the rows of `$<param>` as `:Event` nodes due for numbering (no lock taken); one
    row out (how many). Also a part of the step's write statement (`transaction.commit`)."""
    return f"""
    WITH datetime.realtime() AS at, ${param}[0].id AS tx
    UNWIND range(0, size(${param}) - 1) AS i
    WITH at, tx, i, ${param}[i] AS r
    CREATE (e:Event:EventDue {{id: r.id, type: r.type, at: r.at, subject: r.subject,
                     body: r.body, sites: r.sites, products: r.products,
                     partners: r.partners, due_at: at, due_tx: tx, due_i: i}})
    RETURN count(e) AS events
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
#: on (type, subject) per subject, newest first, one row each; one committed but not numbered
#: yet (`seq` null) comes first, newest of all (the reader has it numbered and asks again).
LATEST = Query(
    "events.latest",
    READ,
    """
    UNWIND $subjects AS s
    CALL (s) {
      MATCH (e:Event {type: $type, subject: s})
      RETURN e ORDER BY e.seq IS NOT NULL, e.seq DESC LIMIT 1
    }
    RETURN e.seq AS seq, e {.id, .type, .at, .subject, .body, .sites, .products, .partners} AS row
    """,
)

#: One numbering round in one statement: take the counter's write lock (made on first use; held
#: to the round's commit), then, in the subquery run for the locked counter's row (so after the
#: lock: it reads every event committed by then), number every committed event due in stamp
#: order, from the counter on; the events numbered, as (id, seq).
NUMBER = Query(
    "events.number",
    WRITE,
    """
    MERGE (c:EventSeq {id: 1}) ON CREATE SET c.n = 0
    SET c._lock = true REMOVE c._lock
    WITH c
    CALL (c) {
      MATCH (e:EventDue)
      WITH e ORDER BY e.due_at, e.due_tx, e.due_i
      RETURN collect(e) AS due
    }
    WITH c, due, c.n AS base
    SET c.n = base + size(due)
    WITH due, base
    UNWIND range(0, size(due) - 1) AS k
    WITH due[k] AS e, base + k + 1 AS seq
    SET e.seq = seq
    REMOVE e:EventDue, e.due_at, e.due_tx, e.due_i
    RETURN e.id AS id, seq
    """,
)

#: Whether any event waits for its number (a writer died between its commit and the numbering).
ANY_DUE = Query("events.any_due", READ, "RETURN EXISTS { MATCH (e:EventDue) } AS due")

#: The numbers of these events (those numbered).
SEQ_OF = Query(
    "events.seq_of",
    READ,
    "MATCH (e:Event) WHERE e.id IN $ids AND e.seq IS NOT NULL RETURN e.id AS id, e.seq AS seq",
)

#: The counter's committed value: the newest event's number (0 when none was ever numbered).
LAST_SEQ = Query(
    "events.last_seq",
    READ,
    "OPTIONAL MATCH (c:EventSeq {id: 1}) RETURN coalesce(c.n, 0) AS n",
)
