"""The event hub's records on Neo4j (`pboss.inventory.listeners`): `:Listener` and `:DeadLetter`.

Neither is an `:Entity` and neither has an edge: a dead letter names its listener in its
`listener` property (indexed), so no traversal of the graph, of impact or otherwise, can reach
them. Properties are flat: a listener's filter is its JSON (`where`), times are `stamp`s (fixed-
width UTC strings, compared as strings). Neo4j reads at read-committed, so every statement that
decides on a lease takes the listener's write lock first (`fragments.lock`) and only then reads
the lease it decides on; `CLAIM` locks its candidates in id order, so claimers never deadlock.
"""

from __future__ import annotations

from pboss.inventory.listeners import ListenerState
from pboss.inventory.neo4j.queries.base import READ, WRITE, Query
from pboss.inventory.neo4j.queries.fragments import lock

#: A listener whose lease may be taken by `$owner` at `$now` (read again under the lock).
_CLAIMABLE = f"""l.state = '{ListenerState.ACTIVE.value}' AND (l.lease_owner IS NULL
      OR l.lease_until IS NULL OR l.lease_owner = $owner OR l.lease_until <= $now)"""

ADD = Query("listeners.add", WRITE, "CREATE (l:Listener) SET l = $row")

GET = Query("listeners.get", READ, "MATCH (l:Listener {id: $id}) RETURN properties(l) AS p")

ALL = Query("listeners.all", READ, "MATCH (l:Listener) RETURN properties(l) AS p ORDER BY l.id")

#: Lock the listener (so a concurrent delivery record cannot add dead letters after they are
#: read), find it again (a concurrent removal may have deleted it meanwhile), drop its dead
#: letters, then it; one row: how many listeners this call removed (0 or 1).
REMOVE = Query(
    "listeners.remove",
    WRITE,
    f"""
    OPTIONAL MATCH (l:Listener {{id: $id}})
    CALL (l) {{
      WITH l WHERE l IS NOT NULL
      {lock("l")}
    }}
    WITH l
    OPTIONAL MATCH (x:Listener {{id: $id}})
    CALL (x) {{
      WITH x WHERE x IS NOT NULL
      MATCH (d:DeadLetter {{listener: x.id}})
      DELETE d
    }}
    WITH x, CASE WHEN x IS NULL THEN 0 ELSE 1 END AS gone
    DELETE x
    RETURN gone
    """,
)

#: Take or renew leases: candidates by id, each locked and then checked again (another claimer
#: may have taken it since the match read it), at most `$limit` of those that still qualify.
CLAIM = Query(
    "listeners.claim",
    WRITE,
    f"""
    MATCH (l:Listener)
    WHERE {_CLAIMABLE}
    WITH l ORDER BY l.id
    {lock("l")}
    WITH l
    WHERE {_CLAIMABLE}
    WITH l LIMIT $limit
    SET l.lease_owner = $owner, l.lease_until = $until
    RETURN properties(l) AS p
    ORDER BY l.id
    """,
)

#: Under the listener's lock, only while `$owner` holds its lease: cursor forward (never back),
#: lease renewed, counts added, dead letters kept (replacing any of the same id). One row when
#: recorded, none when refused.
RECORD = Query(
    "listeners.record",
    WRITE,
    f"""
    MATCH (l:Listener {{id: $id}})
    {lock("l")}
    WITH l
    WHERE l.lease_owner = $owner
    SET l.cursor = CASE WHEN $cursor > l.cursor THEN $cursor ELSE l.cursor END,
        l.lease_until = $until,
        l.delivered = l.delivered + $delivered,
        l.dead = l.dead + size($dead),
        l.last_error = CASE WHEN $last_error <> '' OR $delivered > 0 THEN $last_error
                            ELSE l.last_error END,
        l.last_delivered_at = coalesce($last_delivered_at, l.last_delivered_at)
    WITH l
    CALL (l) {{
      UNWIND $dead AS row
      MERGE (d:DeadLetter {{id: row.id}})
      SET d = row
    }}
    RETURN l.id AS id
    """,
)

#: Give up `$owner`'s lease (checked under the lock: it may have been taken over meanwhile).
RELEASE = Query(
    "listeners.release",
    WRITE,
    f"""
    MATCH (l:Listener {{id: $id}})
    {lock("l")}
    WITH l
    WHERE l.lease_owner = $owner
    REMOVE l.lease_owner, l.lease_until
    """,
)


def _dead_letters(name: str, match: str) -> Query:
    """Dead letters matched by `match`, in `$states` (any when null), a page by (listener, seq)."""
    return Query(
        name,
        READ,
        f"""
    MATCH {match}
    WHERE $states IS NULL OR d.state IN $states
    RETURN properties(d) AS p
    ORDER BY d.listener, d.seq, d.id
    LIMIT $first
    """,
    )


#: Every listener's dead letters in these states (an admin's view).
DEAD_LETTERS = _dead_letters("listeners.dead_letters", "(d:DeadLetter)")
#: One listener's, through the `dead_letter_listener` index.
DEAD_LETTERS_OF = _dead_letters("listeners.dead_letters_of", "(d:DeadLetter {listener: $listener})")

#: Move dead letters to `$state` (sorted ids, each locked before its replay count is read), all
#: or none: when one of `$ids` is missing, nothing changes and no row comes back.
SET_DEAD_LETTERS = Query(
    "listeners.set_dead_letters",
    WRITE,
    f"""
    UNWIND $ids AS id
    OPTIONAL MATCH (d:DeadLetter {{id: id}})
    WITH collect(d) AS found
    WHERE size(found) = size($ids)
    UNWIND found AS d
    {lock("d")}
    SET d.state = $state,
        d.replays = d.replays + CASE WHEN $state = 'replay' THEN 1 ELSE 0 END,
        d.reason = coalesce($reason, d.reason)
    RETURN properties(d) AS p
    """,
)

#: Dead letters by id (those that exist), as they are.
DEAD_LETTERS_BY_ID = Query(
    "listeners.dead_letters_by_id",
    READ,
    """
    UNWIND $ids AS id
    MATCH (d:DeadLetter {id: id})
    RETURN properties(d) AS p
    """,
)
