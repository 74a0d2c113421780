"""The reports' aggregate reads (`pboss.inventory.reports`): one statement per report and kind,
whole network or one site (through the site index), by the occupancy rules of `fragments.py`."""

from __future__ import annotations

import re
from functools import cache

from pboss.inventory.model import KINDS
from pboss.inventory.neo4j.queries.base import READ, Query, kind_label
from pboss.inventory.neo4j.queries.fragments import pon_load

_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")


def _pon_counts(pon: str) -> str:
    """The ONTs and held outputs below the PON port bound to `pon`: `used`, `held`."""
    return f"""
    CALL ({pon}) {{
      OPTIONAL MATCH {pon_load(pon)}
      WITH DISTINCT o
      RETURN count(CASE WHEN o:ONT THEN 1 END) AS used,
             count(CASE WHEN o:SplitterPort THEN 1 END) AS held
    }}
    """


_BODIES: dict[str, str] = {
    "PonPort": f"""
    {_pon_counts("n")}
    RETURN n.id AS id, n.kind AS kind, n.name AS name, n.site AS site, n.owner AS owner,
           coalesce(n.max_split, 64) AS capacity, used, held, used AS users
    """,
    "OLT": f"""
    CALL (n) {{
      OPTIONAL MATCH (p:PonPort)-[:PART_OF]->(n)
      {_pon_counts("p")}
      RETURN sum(coalesce(p.max_split, 64)) AS capacity, sum(used) AS used, sum(held) AS held
    }}
    RETURN n.id AS id, n.kind AS kind, n.name AS name, n.site AS site, n.owner AS owner,
           capacity, used, held, used AS users
    """,
    "Splitter": """
    CALL (n) {
      OPTIONAL MATCH (sp:SplitterPort)-[:PART_OF]->(n)
      WITH sp, EXISTS { (sp)<-[:FED_BY]-() } AS busy, EXISTS { (sp)<-[:HOLDS]-() } AS kept
      RETURN count(sp) AS capacity, count(CASE WHEN busy THEN 1 END) AS used,
             count(CASE WHEN kept AND NOT busy THEN 1 END) AS held
    }
    RETURN n.id AS id, n.kind AS kind, n.name AS name, n.site AS site, n.owner AS owner,
           capacity, used, held, used AS users
    """,
    "TrunkSection": """
    CALL (n) {
      OPTIONAL MATCH (n)<-[r:ROUTED_OVER|HOLDS]-(x)
      RETURN collect(CASE WHEN type(r) = 'ROUTED_OVER' THEN r.slots END) AS routed,
             collect(CASE WHEN type(r) = 'HOLDS' THEN r.slots END) AS kept,
             count(DISTINCT CASE WHEN type(r) = 'ROUTED_OVER' THEN x END) AS users
    }
    RETURN n.id AS id, n.kind AS kind, n.name AS name, n.site AS site, n.owner AS owner,
           coalesce(n.capacity_vc12, 63) AS capacity, routed, kept, users
    """,
    "PartnerAccess": """
    RETURN n.id AS id, n.kind AS kind, n.name AS name, n.site AS site, n.owner AS owner,
           coalesce(n.total, 0) AS capacity, coalesce(n.used, 0) AS used,
           coalesce(n.reserved, 0) AS held, coalesce(n.used, 0) AS users
    """,
}
_BODIES["PartnerLink"] = _BODIES["TrunkSection"]


@cache
def utilisation(kind: str, by_site: bool) -> Query:
    """Every resource of one kind (at `$site` when `by_site`) with its capacity, used, held."""
    label = kind_label(kind)
    match = f"MATCH (n:Entity {{site: $site}}) WHERE n:{label}" if by_site else f"MATCH (n:{label})"
    return Query(
        f"reports.utilisation.{kind}{'.site' if by_site else ''}",
        READ,
        f"{match}\n{_BODIES[kind]}\nORDER BY id",
    )


TAKE_UP = Query(
    "reports.take_up",
    READ,
    """
    MATCH (s:Site) WHERE s.site_type IN ['building', 'estate']
    CALL (s) {
      OPTIONAL MATCH (o:Entity {site: s.id}) WHERE o:ONT AND EXISTS { (o)-[:FED_BY]->() }
      RETURN count(o) AS connected
    }
    WITH s, connected WHERE coalesce(s.households, 0) > 0 OR connected > 0
    RETURN s.id AS site, coalesce(s.name, '') AS name, s.site_type AS site_type,
           s.region AS region, coalesce(s.households, 0) AS households, connected
    ORDER BY site
    """,
)


@cache
def records(kind: str, time_field: str) -> Query:
    """The records of a kind whose `time_field` (a stamped time) is in [$lo, $hi), by time."""
    label = kind_label(kind)
    if not _FIELD.match(time_field) or time_field not in KINDS[kind].model_fields:
        raise ValueError(f"{kind} has no time field {time_field!r}")
    return Query(
        f"reports.records.{kind}.{time_field}",
        READ,
        f"""
        MATCH (n:{label}) WHERE n.{time_field} >= $lo AND n.{time_field} < $hi
        RETURN properties(n) AS p ORDER BY n.{time_field}, n.id
        """,
    )
