"""Reads of single elements and small lists: get, find, neighbours, history, counts, the
transport links, the sweeper's due ids and the start-up check of one customer per service."""

from __future__ import annotations

from functools import lru_cache

from pboss.inventory.neo4j.queries.base import READ, WRITE, Query, kind_label
from pboss.inventory.neo4j.queries.fragments import slot_holders

GET = Query("get", READ, "MATCH (n:Entity {id: $id}) RETURN properties(n) AS p")
GET_MANY = Query("get_many", READ, "MATCH (n:Entity) WHERE n.id IN $ids RETURN properties(n) AS p")

#: The fields `find` filters on by equality (each a parameter of its own name).
FIND_FIELDS = ("kind", "site", "owner", "status")
_TEXT = (
    "(toLower(n.id) CONTAINS $text OR toLower(n.name) CONTAINS $text "
    "OR toLower(coalesce(n.code, '')) CONTAINS $text "
    "OR toLower(coalesce(n.address, '')) CONTAINS $text)"
)


#: A phone compared by its digits ($phone holds digits only): the usual punctuation dropped.
_PHONE = (
    "replace(replace(replace(replace(replace(coalesce(n.phone, ''), '-', ''), ' ', ''), "
    "'+', ''), '(', ''), ')', '') CONTAINS $phone"
)


@lru_cache(maxsize=64)
def find(fields: tuple[str, ...], text: bool, phone: bool = False) -> Query:
    """A page of elements and their total, filtered on the given `FIND_FIELDS` (and the text,
    or the phone digits: either matching)."""
    clauses = [f"n.{f} = ${f}" for f in fields if f in FIND_FIELDS]
    matches = [m for m, on in ((_TEXT, text), (_PHONE, phone)) if on]
    if matches:
        clauses.append(f"({' OR '.join(matches)})")
    where = " AND ".join(clauses) or "true"
    return Query(
        "find",
        READ,
        f"""
        CALL () {{ MATCH (n:Entity) WHERE {where} RETURN count(n) AS total }}
        CALL () {{
          MATCH (n:Entity) WHERE {where} AND ($after IS NULL OR n.id > $after)
          WITH n ORDER BY n.id LIMIT $limit
          RETURN collect(properties(n)) AS page
        }}
        RETURN total, page
        """,
    )


def _neighbours(pattern: str) -> str:
    return f"""
    MATCH (n:Entity {{id: $id}})
    OPTIONAL MATCH {pattern} WHERE $types IS NULL OR type(r) IN $types
    RETURN n.id AS id,
           collect(CASE WHEN r IS NOT NULL THEN [type(r), properties(r), properties(m)] END) AS out
    """


NEIGHBOURS = {
    "out": Query("neighbours", READ, _neighbours("(n)-[r]->(m)")),
    "in": Query("neighbours", READ, _neighbours("(n)<-[r]-(m)")),
}


def _neighbours_many(pattern: str) -> str:
    return f"""
    UNWIND $ids AS id
    MATCH (n:Entity {{id: id}})
    OPTIONAL MATCH {pattern} WHERE $types IS NULL OR type(r) IN $types
    RETURN n.id AS id,
           collect(CASE WHEN r IS NOT NULL THEN [type(r), properties(r), properties(m)] END) AS out
    """


#: The links of a page of elements in one round trip (what `dependants` of a list asks).
NEIGHBOURS_MANY = {
    "out": Query("neighbours_many", READ, _neighbours_many("(n)-[r]->(m)")),
    "in": Query("neighbours_many", READ, _neighbours_many("(n)<-[r]-(m)")),
}

HISTORY = Query(
    "history",
    READ,
    """
    MATCH (c:Change)
    WHERE ($id IS NULL OR c.element_id = $id) AND ($actor IS NULL OR c.actor = $actor)
      AND ($id IS NOT NULL OR c.edge_src IS NULL OR c.edge_src = c.element_id)
    RETURN properties(c) AS c ORDER BY c.at DESC, c.n DESC LIMIT $limit
    """,
)

#: The newest `$limit` changes of each of a page of elements, in one round trip (the same order
#: as HISTORY: by time, then by sequence).
HISTORY_MANY = Query(
    "history_many",
    READ,
    """
    UNWIND $ids AS id
    CALL (id) {
      MATCH (c:Change) WHERE c.element_id = id
      WITH c ORDER BY c.at DESC, c.n DESC LIMIT $limit
      RETURN collect(properties(c)) AS changes
    }
    RETURN id, changes
    """,
)

COUNTS = Query(
    "counts",
    READ,
    """
    CALL () {
      MATCH (n:Entity) WITH n.kind AS k, count(*) AS c RETURN collect([k, c]) AS kinds
    }
    CALL () { MATCH (:Entity)-[r]->(:Entity) WITH type(r) AS t, count(*) AS c
              RETURN collect([t, c]) AS types }
    RETURN kinds, types
    """,
)

TRANSPORT_LINKS = Query(
    "transport_links",
    READ,
    f"""
    MATCH (l:Entity) WHERE l:TrunkSection OR l:PartnerLink
    CALL (l) {{
      OPTIONAL MATCH (l)-[:TERMINATES]->(t)
      OPTIONAL MATCH (t)-[:PART_OF]->(ne:NE)
      WITH CASE WHEN t:NE THEN t.id ELSE ne.id END AS e
      WITH e WHERE e IS NOT NULL
      RETURN collect(e) AS ends
    }}
    CALL (l) {{
      OPTIONAL MATCH {slot_holders("l")}
      RETURN collect(h.slots) AS held
    }}
    RETURN properties(l) AS link, ends, held
    """,
)

SLOT_USE = Query(
    "slot_use",
    READ,
    f"""
    UNWIND $ids AS id
    MATCH (l:Entity {{id: id}}) WHERE l:TrunkSection OR l:PartnerLink
    CALL (l) {{
      OPTIONAL MATCH {slot_holders("l")}
      RETURN collect(CASE WHEN h IS NULL THEN null ELSE [type(h), h.slots] END) AS held
    }}
    RETURN l.id AS id, l.capacity_vc12 AS capacity, held
    """,
)

ONE_CUSTOMER_EACH = Query(
    "check.one_customer",
    READ,
    """
    MATCH (s:Entity)-[:FOR]->(c)
    WITH s, collect(c.id) AS customers WHERE size(customers) > 1
    RETURN s.id AS id, customers ORDER BY id LIMIT 5
    """,
)


@lru_cache(maxsize=32)
def due_ids(kind: str, time_field: str, until: bool) -> Query:
    """Ids of nodes of a kind whose state is in `$states` (and, with `until`, whose time field is
    at or before `$until`), by (time field, id), at most `$limit`. The time field must be one of
    the kind's model fields (it is part of the text)."""
    from pboss.inventory.model import KINDS

    label = kind_label(kind)
    if time_field not in KINDS[kind].model_fields or not time_field.isidentifier():
        raise ValueError(f"{kind} has no field {time_field!r}")
    bound = f" AND n.{time_field} <= $until" if until else ""
    return Query(
        f"due_ids.{kind}",
        READ,
        f"MATCH (n:{label}) WHERE n.state IN $states{bound} "
        f"RETURN n.id AS id ORDER BY n.{time_field}, n.id LIMIT $limit",
    )


CLEAR = Query(
    "clear", WRITE, "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
)
