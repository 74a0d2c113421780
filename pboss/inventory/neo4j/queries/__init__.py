"""Every Cypher statement pboss runs on Neo4j, as named, parameterised queries, by topic.

`base` says what a query is; `fragments` holds the pieces several queries share (the write lock,
the PON load, the VC-12 slot holders), written once. The topics: `schema` (constraints and
indexes), `lookups` (get, find, neighbours, history, counts), `riders`, `trace`, `site_view`,
`upsert` (and status changes, deletes, history records), `bulk` (the validated load),
`transaction` (the multi-step write transaction), `scans` (whole-store streams), `impact`
(the riders a write takes down, counted under lock), `history` (writing history entries),
`events` (the event log).
"""

from pboss.inventory.neo4j.queries.base import READ, WRITE, Access, Query

__all__ = ["READ", "WRITE", "Access", "Query"]
