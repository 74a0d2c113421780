"""The constraints and indexes the store ensures at start-up (each statement is idempotent)."""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import WRITE, Query

STATEMENTS = (
    Query(
        "schema.entity_id",
        WRITE,
        "CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE",
    ),
    Query(
        "schema.entity_site",
        WRITE,
        "CREATE INDEX entity_site IF NOT EXISTS FOR (n:Entity) ON (n.site)",
    ),
    Query(
        "schema.entity_kind",
        WRITE,
        "CREATE INDEX entity_kind IF NOT EXISTS FOR (n:Entity) ON (n.kind)",
    ),
    Query(
        "schema.entity_owner",
        WRITE,
        "CREATE INDEX entity_owner IF NOT EXISTS FOR (n:Entity) ON (n.owner)",
    ),
    Query(
        "schema.entity_status",
        WRITE,
        "CREATE INDEX entity_status IF NOT EXISTS FOR (n:Entity) ON (n.status)",
    ),
    Query(
        "schema.change_element",
        WRITE,
        "CREATE INDEX change_element IF NOT EXISTS FOR (c:Change) ON (c.element_id)",
    ),
    Query(
        "schema.change_at", WRITE, "CREATE INDEX change_at IF NOT EXISTS FOR (c:Change) ON (c.at)"
    ),
    # the sweeper's reads (`Neo4jStore.due_ids`): lapsed holds, open work orders
    Query(
        "schema.reservation_due",
        WRITE,
        "CREATE INDEX reservation_due IF NOT EXISTS "
        "FOR (r:Reservation) ON (r.state, r.valid_until)",
    ),
    Query(
        "schema.work_order_state",
        WRITE,
        "CREATE INDEX work_order_state IF NOT EXISTS FOR (w:WorkOrder) ON (w.state)",
    ),
    # the batch correlator's queue (`assurance/pending.py`): records waiting, oldest first
    Query(
        "schema.ticket_correlate_due",
        WRITE,
        "CREATE INDEX ticket_correlate_due IF NOT EXISTS "
        "FOR (t:TroubleTicket) ON (t.correlate_due)",
    ),
    Query(
        "schema.alarm_correlate_due",
        WRITE,
        "CREATE INDEX alarm_correlate_due IF NOT EXISTS FOR (a:Alarm) ON (a.correlate_due)",
    ),
    # the event log (`queries/events.py`): ids unique, sequence numbers unique and indexed
    Query(
        "schema.event_id",
        WRITE,
        "CREATE CONSTRAINT event_id IF NOT EXISTS FOR (e:Event) REQUIRE e.id IS UNIQUE",
    ),
    Query(
        "schema.event_seq",
        WRITE,
        "CREATE CONSTRAINT event_seq IF NOT EXISTS FOR (e:Event) REQUIRE e.seq IS UNIQUE",
    ),
    Query(
        "schema.event_counter",
        WRITE,
        "CREATE CONSTRAINT event_counter IF NOT EXISTS FOR (c:EventSeq) REQUIRE c.id IS UNIQUE",
    ),
    # a subject's newest event of a type (`events.LATEST`): equality on both, newest by seq
    Query(
        "schema.event_subject",
        WRITE,
        "CREATE INDEX event_type_subject IF NOT EXISTS FOR (e:Event) ON (e.type, e.subject)",
    ),
    # the event hub's records (`queries/listeners.py`)
    Query(
        "schema.listener_id",
        WRITE,
        "CREATE CONSTRAINT listener_id IF NOT EXISTS FOR (l:Listener) REQUIRE l.id IS UNIQUE",
    ),
    Query(
        "schema.dead_letter_id",
        WRITE,
        "CREATE CONSTRAINT dead_letter_id IF NOT EXISTS FOR (d:DeadLetter) REQUIRE d.id IS UNIQUE",
    ),
    Query(
        "schema.dead_letter_listener",
        WRITE,
        "CREATE INDEX dead_letter_listener IF NOT EXISTS FOR (d:DeadLetter) ON (d.listener)",
    ),
)
