"""The multi-step write transaction (`Neo4jStore.transact`): lock, read what a step decides on,
and at the end one read of what validation needs and one statement writing everything."""

from __future__ import annotations

from functools import lru_cache

from pboss.inventory.neo4j.queries.base import WRITE, Query, labels_for, rel_type
from pboss.inventory.neo4j.queries.events import append
from pboss.inventory.neo4j.queries.fragments import VALIDATION_READS, lock, pon_load, slot_holders
from pboss.inventory.neo4j.queries.history import record

LOCK = Query(
    "tx.lock",
    WRITE,
    f"""
    UNWIND $ids AS id
    MATCH (n:Entity {{id: id}})
    {lock("n")}
    RETURN properties(n) AS p
    """,
)

PEEK = Query("tx.peek", WRITE, "MATCH (n:Entity) WHERE n.id IN $ids RETURN properties(n) AS p")

#: Lock the lead nodes (in their order), then the resources (sorted), and say how each resource
#: is occupied: the types of edges into it, the VC-12 slots held of a section, a PON port's load.
CLAIM = Query(
    "tx.claim",
    WRITE,
    f"""
    CALL () {{
      UNWIND $lead AS id
      MATCH (n:Entity {{id: id}})
      {lock("n")}
      RETURN collect(properties(n)) AS lead
    }}
    CALL () {{
      UNWIND $ids AS id
      MATCH (n:Entity {{id: id}})
      {lock("n")}
      RETURN collect(n) AS locked
    }}
    CALL (locked) {{
      UNWIND locked AS n
      RETURN collect({{
        p: properties(n),
        incoming: COLLECT {{ MATCH (n)<-[r]-() RETURN DISTINCT type(r) }},
        used_slots: CASE WHEN n:TrunkSection OR n:PartnerLink
          THEN COLLECT {{ MATCH {slot_holders("n")} UNWIND coalesce(h.slots, []) AS s
                         RETURN s }}
          ELSE [] END,
        load: CASE WHEN n:PonPort
          THEN size(COLLECT {{ MATCH {pon_load("n")} RETURN DISTINCT o.id }})
          END
      }}) AS facts
    }}
    RETURN lead, facts
    """,
)


@lru_cache(maxsize=128)
def linked_many(edge_type: str, direction: str) -> Query:
    """The edges of one type at each of several nodes, with the node at the other end: (id,
    edge, other end) rows by id, then the other end's id (one node's `linked` asks for one)."""
    rel = rel_type(edge_type)
    arrow = f"-[r:{rel}]->" if direction == "out" else f"<-[r:{rel}]-"
    return Query(
        "tx.linked",
        WRITE,
        f"UNWIND $ids AS id MATCH (n:Entity {{id: id}}){arrow}(m:Entity) "
        "RETURN id, properties(r) AS r, properties(m) AS m ORDER BY id, m.id",
    )


#: What validating the transaction's writes needs and it has not read under lock yet: the nodes
#: it changes (whole, write-locked first in sorted-id order, so the check and the history's
#: `from_status` see what the write replaces), the ids it refers to (as `rules.Ref`), the
#: single-upstream edges of its link sources, the slots held of the sections its links hold
#: slots of, and the edges it links or unlinks between nodes already stored (`$keys`: type, src,
#: dst), whose properties before the write its history records.
COMMIT_READ = Query(
    "tx.commit_read",
    WRITE,
    f"""
    CALL () {{
      UNWIND $own AS oid
      MATCH (n:Entity {{id: oid}})
      {lock("n")}
      RETURN count(n) AS locked
    }}
    {VALIDATION_READS}
    CALL () {{
      UNWIND $pools AS pid
      MATCH {slot_holders("s:Entity {id: pid}", "h", "holder")}
      RETURN collect([pid, type(h), holder.id, h.slots]) AS holdings
    }}
    CALL () {{
      UNWIND $keys AS k
      MATCH (a:Entity {{id: k[1]}})-[r]->(b:Entity {{id: k[2]}}) WHERE type(r) = k[0]
      RETURN collect([k, properties(r)]) AS edges
    }}
    RETURN nodes, refs, upstreams, holdings, edges
    """,
)


@lru_cache(maxsize=256)
def commit(
    unlinks: tuple[str, ...],
    creates: tuple[str, ...],
    changes: tuple[str, ...],
    links: tuple[str, ...],
    history: bool,
    events: bool = False,
) -> Query:
    """One statement writing a transaction: delete edges (`$u<i>`, by type), create nodes
    (`$c<i>`, by kind), replace nodes (`$m<i>`, by kind; returns the ids it found), merge edges
    (`$l<i>`, by type; returns the pairs it joined), record the history (`$history`) and, last,
    number and store the events (`$events`, `queries/events.py`: the counter's lock is taken as
    late as it can be, and no extra round trip; returns the last one's number, `last_seq`)."""
    parts = [
        f"CALL () {{ UNWIND $u{n} AS r "
        f"MATCH (:Entity {{id: r.src}})-[e:{rel_type(t)}]->(:Entity {{id: r.dst}}) DELETE e }}"
        for n, t in enumerate(unlinks)
    ]
    parts += [
        f"CALL () {{ UNWIND $c{n} AS r CREATE (x{labels_for(k)}) SET x = r }}"
        for n, k in enumerate(creates)
    ]
    parts += [
        f"CALL () {{ UNWIND $m{n} AS r MATCH (x:Entity {{id: r.id}}) WHERE x.kind = r.kind "
        f"SET x = r RETURN collect(x.id) AS m{n} }}"
        for n in range(len(changes))
    ]
    parts += [
        f"CALL () {{ UNWIND $l{n} AS r MATCH (a:Entity {{id: r.src}}), (b:Entity {{id: r.dst}}) "
        f"MERGE (a)-[e:{rel_type(t)}]->(b) SET e = r.props "
        f"RETURN collect([r.src, r.dst]) AS l{n} }}"
        for n, t in enumerate(links)
    ]
    if history:
        parts.append(f"CALL () {{ {record('history')} }}")
    if events:
        parts.append(f"CALL () {{ {append('events')} }}")
    outputs = [f"m{n}" for n in range(len(changes))] + [f"l{n}" for n in range(len(links))]
    if events:
        outputs.append("last_seq")
    text = "\n".join(parts) + "\nRETURN " + (", ".join(outputs) or "true AS done")
    return Query("tx.commit", WRITE, text)
