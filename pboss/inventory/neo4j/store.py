"""Neo4jStore: the resource graph in Neo4j, the system of record.

Every protocol call is one managed transaction and, for reads, one Cypher query (one round trip).
Values always travel as parameters; labels and relationship types come only from the model's own
whitelists. Schema (uniqueness constraint, indexes) is ensured at start-up.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from neo4j import (
    READ_ACCESS,
    Driver,
    GraphDatabase,
    ManagedTransaction,
    NotificationDisabledCategory,
    Query,
    Record,
    Result,
)
from neo4j.exceptions import DriverError, Neo4jError

from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.errors import HasDependants, NotFound, StoredDataInvalid, ValidationFailed
from pboss.inventory.lifecycle import DEGRADED, DOWN, check_transition, health_of
from pboss.inventory.model import (
    EDGE_RULES,
    FAILURE_EDGES,
    KINDS,
    SINGLE_UPSTREAM,
    STORED_AS_IS,
    Edge,
    Element,
    from_props,
    from_stored,
)
from pboss.inventory.neo4j import bulk as neo4j_bulk
from pboss.inventory.results import (
    RIDER_CORE,
    ChangeRecord,
    Closure,
    FindQuery,
    Page,
    PortView,
    RiderFields,
    Riders,
    RiderTotals,
    SiteView,
    SplitterView,
    Trace,
    TransportLink,
    UpsertResult,
    new_riders,
)
from pboss.inventory.rows import EdgeRow, NodeRow
from pboss.inventory.rules import (
    BatchPlan,
    Known,
    Ref,
    is_slot_edge,
    plan_batch,
    referenced_ids,
    single_upstream_sources,
    slot_clashes,
)
from pboss.inventory.store import Direction
from pboss.inventory.tracing import build_trace

T = TypeVar("T")
R = TypeVar("R")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
FAIL = "|".join(FAILURE_EDGES)
_SINGLE = "|".join(sorted(SINGLE_UPSTREAM))
_IMPAIRING = sorted(str(s) for s in DOWN | DEGRADED)
#: Notification categories the hot reads do not ask the server for (see `Neo4jStore._fetch`).
_QUIET = [NotificationDisabledCategory.UNRECOGNIZED]

SCHEMA = (
    "CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX entity_site IF NOT EXISTS FOR (n:Entity) ON (n.site)",
    "CREATE INDEX entity_kind IF NOT EXISTS FOR (n:Entity) ON (n.kind)",
    "CREATE INDEX entity_owner IF NOT EXISTS FOR (n:Entity) ON (n.owner)",
    "CREATE INDEX entity_status IF NOT EXISTS FOR (n:Entity) ON (n.status)",
    "CREATE INDEX change_element IF NOT EXISTS FOR (c:Change) ON (c.element_id)",
    "CREATE INDEX change_at IF NOT EXISTS FOR (c:Change) ON (c.at)",
)


def labels_for(kind: str) -> str:
    """`:Entity:<Category>:<Kind>` for a registered kind (never from raw input)."""
    cls = KINDS[kind]
    if not _IDENT.match(kind):  # pragma: no cover - kinds are code-defined identifiers
        raise ValueError(f"kind {kind!r} is not a valid label")
    return f":Entity:{cls.category.value}:{kind}"


def rel_type(edge_type: str) -> str:
    """A relationship type from the model's whitelist (never from raw input)."""
    if edge_type not in EDGE_RULES or not _IDENT.match(edge_type):
        raise ValueError(f"unknown edge type {edge_type!r}")
    return edge_type


def _native(value: Any) -> Any:
    to_native = getattr(value, "to_native", None)
    return to_native() if to_native else value


def element_of(props: dict[str, Any]) -> Element:
    """A typed element from stored properties (internal `_` properties such as locks dropped)."""
    return from_props({k: v for k, v in props.items() if not k.startswith("_")})


def _change(props: dict[str, Any]) -> ChangeRecord:
    return ChangeRecord(
        element_id=props["element_id"],
        from_status=props.get("from_status"),
        to_status=props["to_status"],
        actor=props["actor"],
        reason=props["reason"],
        at=_native(props["at"]),
    )


#: Riders of some resources: totals over all, and one page of services with their customers and
#: impairments. `{start}` finds the resources and their services (below: one or many), `{row}`
#: is how a page row carries its service and customer (see below). A service has at most one
#: customer (FOR is single-upstream), so no aggregation per service is needed: grouping the
#: ≈ 1,000 services of an OLT by service cost ≈ 0.45 ms of a 4.5 ms query.
_RIDERS = f"""
{{start}}
  OPTIONAL MATCH (svc)-[:FOR]->(c:Customer)
  WITH svc, c ORDER BY svc.id
  RETURN collect([svc, c]) AS rows
}}
CALL (rows) {{
  UNWIND rows AS r WITH coalesce(r[0].product, 'unknown') AS k, count(*) AS n
  RETURN collect([k, n]) AS by_product
}}
CALL (rows) {{
  UNWIND rows AS r WITH DISTINCT r[1] AS c WHERE c IS NOT NULL
  WITH coalesce(c.customer_type, 'unknown') AS t,
       coalesce(c.sla_tier, 'unknown') AS tier, count(*) AS n
  RETURN sum(n) AS customers, collect([t, tier, n]) AS kinds
}}
WITH missing, rows, by_product, customers, kinds,
     CASE WHEN $after IS NULL THEN rows
          ELSE [r IN rows WHERE r[0].id > $after] END AS rest
WITH missing, size(rows) AS services, by_product, customers, kinds,
     rest[0..$first] AS page, size(rest) > $first AS more
CALL (page) {{
  UNWIND page AS r
  WITH r[0] AS svc, r[1] AS c
  CALL (svc) {{
    OPTIONAL MATCH (svc)-[:{FAIL}*0..32]->(bad)
    WHERE bad.status IN $impairing
    WITH DISTINCT bad
    RETURN collect(CASE WHEN bad IS NOT NULL THEN [bad.id, bad.status] END) AS bads
  }}
  RETURN collect([{{row}}, bads]) AS items
}}
RETURN missing, services, by_product, customers, kinds, items, more
"""
#: The services riding several resources (`impact`), each counted once.
_FROM_MANY = f"""
UNWIND $ids AS rid
OPTIONAL MATCH (x:Entity {{id: rid}})
WITH collect(x) AS xs, collect(CASE WHEN x IS NULL THEN rid END) AS missing
CALL (xs) {{
  UNWIND xs AS x
  MATCH (svc:Service)-[:{FAIL}*0..32]->(x)
  WITH DISTINCT svc"""
#: The services riding one resource (`riders`): ≈ 0.1 ms less than through a list of one.
_FROM_ONE = f"""
OPTIONAL MATCH (x:Entity {{id: $ids[0]}})
WITH x, CASE WHEN x IS NULL THEN $ids ELSE [] END AS missing
CALL (x) {{
  MATCH (svc:Service)-[:{FAIL}*0..32]->(x)
  WITH DISTINCT svc"""
#: Page rows with whole property maps (any selection may read any property).
_WHOLE_ROW = "properties(svc), properties(c)"
#: Page rows with only the named properties, as value lists in the order of the keys given: the
#: maps' keys and the properties nobody reads are neither sent nor decoded.
_PROJECTED_ROW = (
    "[k IN $service_keys | svc[k]], "
    "CASE WHEN c IS NULL THEN null ELSE [k IN $customer_keys | c[k]] END"
)
#: The riders query by (one resource?, projected rows?).
_RIDERS_BY = {
    (one, projected): _RIDERS.replace("{start}", _FROM_ONE if one else _FROM_MANY).replace(
        "{row}", _PROJECTED_ROW if projected else _WHOLE_ROW
    )
    for one in (False, True)
    for projected in (False, True)
}


def _rider_keys(kind: str, asked: frozenset[str]) -> list[str]:
    """The properties to fetch of a projected rider element: those asked, its identity and kind
    (`RIDER_CORE`) and the kind's required fields (so it is rebuilt without validation); `kind`
    last, so the values before it are the element's fields."""
    return [*sorted((asked | set(RIDER_CORE) | STORED_AS_IS[kind].required) - {"kind"}), "kind"]


def _projected(keys: list[str], values: list[Any]) -> Element:
    """A rider element from its projected values (null: a property not stored)."""
    return from_stored({k: v for k, v in zip(keys, values, strict=True) if v is not None})


class _Projection:
    """Rebuilds the projected rider elements of one kind exactly as `_projected` does, with what
    depends only on the keys (all fields of the kind? where is `kind`?) worked out once per page
    instead of once per element (≈ 1 µs less an element, a hundred a page). Anything else (a row
    of another kind, a key no field claims, a required value missing) goes through `_projected`.
    """

    __slots__ = ("fields", "fields_set", "keys", "kind", "kind_at", "kind_last", "shape")

    def __init__(self, kind: str, keys: list[str]):
        self.kind, self.keys = kind, keys
        self.kind_at = keys.index("kind")
        self.kind_last = self.kind_at == len(keys) - 1  # as `_rider_keys` orders them
        self.fields = keys[: self.kind_at] + keys[self.kind_at + 1 :]
        self.fields_set = frozenset([*self.fields, "attrs"])
        shape = STORED_AS_IS.get(kind)
        plain = shape is not None and all(k in shape.fields for k in self.fields)
        self.shape = shape if plain else None

    def __call__(self, values: list[Any]) -> Element:
        shape, at = self.shape, self.kind_at
        if shape is None or len(values) != len(self.keys) or values[at] != self.kind:
            return _projected(self.keys, values)
        rest = values if self.kind_last else values[:at] + values[at + 1 :]
        if None in rest:  # properties not stored keep their defaults and stay unset
            data = {k: v for k, v in zip(self.fields, rest, strict=False) if v is not None}
            if not shape.required <= data.keys():
                return _projected(self.keys, values)
            data["attrs"] = {}
            return shape.build(data)
        # every field stored: zip stops at the fields (the kind, last, is left out)
        pairs = zip(self.fields, rest, strict=False)
        return shape.build_many_with_attrs([pairs], self.fields_set)[0]

    def many(self, rows: Sequence[list[Any] | None]) -> list[Element | None]:
        """`self(values)` of each row (None for None), the common rows (every field stored, the
        kind last) sorted out in one pass and built in one batch: ≈ 0.8 µs less an element than
        one call each."""
        if self.shape is None or not self.kind_last:
            return [None if values is None else self(values) for values in rows]
        size, kind, fields = len(self.keys), self.kind, self.fields
        out: list[Element | None] = [None] * len(rows)
        batch, at = [], []
        for i, values in enumerate(rows):
            if values is None:
                continue
            if len(values) == size and values[-1] == kind and None not in values:
                # stops before the kind, last; no `strict=`: a keyword costs ≈ 0.15 µs a call
                batch.append(zip(fields, values))  # noqa: B905
                at.append(i)
            else:
                out[i] = self(values)
        built = self.shape.build_many_with_attrs(batch, self.fields_set)
        for i, model in zip(at, built, strict=True):
            out[i] = model
        return out


#: What an upsert reads before planning: its own nodes whole, the ids it refers to, its edges
#: already stored and the single-upstream targets of its sources, with the nodes it writes locked.
_UPSERT_EXISTING = """
CALL () {
  UNWIND $lock AS lid
  MATCH (n:Entity {id: lid})
  SET n._lock = true REMOVE n._lock
  RETURN count(n) AS locked
}
CALL () {
  MATCH (n:Entity) WHERE n.id IN $own
  RETURN collect(properties(n)) AS nodes
}
CALL () {
  MATCH (n:Entity) WHERE n.id IN $refs
  RETURN collect([n.id, n.kind, n.stage, n.capacity_vc12]) AS refs
}
CALL () {
  UNWIND $keys AS k
  MATCH (a:Entity {id: k[1]})
  MATCH (b:Entity {id: k[2]})
  MATCH (a)-[r]->(b) WHERE type(r) = k[0]
  RETURN collect([k, properties(r)]) AS edges
}
CALL () {
  UNWIND $single AS sid
  MATCH (a:Entity {id: sid})-[r:{single}]->(b)
  RETURN collect([type(r), sid, b.id]) AS upstreams
}
RETURN nodes, refs, edges, upstreams
""".replace("{single}", _SINGLE)


class Neo4jStore:
    """A GraphStore on Neo4j (official driver, managed transactions, parameters only)."""

    name = "neo4j"

    def __init__(
        self,
        uri: str,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        catalog: Catalog | None = None,
        driver: Driver | None = None,
    ):
        self.catalog = catalog or default_catalog()
        self.driver: Driver = driver or GraphDatabase.driver(
            uri, auth=auth, notifications_disabled_categories=_QUIET
        )
        self.database = database
        # Every query is a fixed string naming labels, types and properties that may not exist
        # yet (HOLDS before any hold, WorkOrder.due_at before any work order): the server's
        # "unknown name" notices are not asked for, else the driver logs kB-long warnings.
        self._session_config: dict[str, Any] = {
            "database": database,
            "notifications_disabled_categories": _QUIET,
        }
        self.queries_run = 0
        self.on_query: Callable[[str, float], None] | None = None
        try:
            self.ensure_schema()
            self.check_one_customer_each()
        except Exception:
            self.driver.close()
            raise

    # ---- plumbing --------------------------------------------------------------------------------

    def run(
        self, tx: ManagedTransaction, name: str, cypher: str, **params: Any
    ) -> list[dict[str, Any]]:
        """Run one named query in a transaction; counted and timed for metrics and tests."""
        started = time.perf_counter()
        records = [r.data() for r in tx.run(cypher, params)]
        self.queries_run += 1
        if self.on_query is not None:
            self.on_query(name, time.perf_counter() - started)
        return records

    def execute_write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run `work` in one managed write transaction (retried on transient errors)."""
        with self.driver.session(**self._session_config) as session:
            return session.execute_write(work)

    def execute_read(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run `work` in one managed read transaction (retried on transient errors)."""
        with self.driver.session(**self._session_config) as session:
            return session.execute_read(work)

    def read(self, name: str, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """One read query, its rows as plain dicts (`Record.data()`)."""
        return self._read_once(name, cypher, params, lambda result: [r.data() for r in result])

    def _fetch(self, name: str, cypher: str, **params: Any) -> list[Record]:
        """One read query, its records as the driver decoded them.

        For the hot reads (riders, site view, closure), whose columns are plain values, lists and
        property maps: `Record.data()` would copy every nested value once more in Python.
        """
        return self._read_once(name, cypher, params, list)

    def _read_once(
        self, name: str, cypher: str, params: dict[str, Any], rows: Callable[[Result], list[R]]
    ) -> list[R]:
        """Run one read statement as an auto-commit transaction; counted and timed.

        A single statement is atomic by itself, so it needs no explicit transaction: RUN and
        PULL go out together and the answer ends it, where a managed transaction adds BEGIN
        and a COMMIT round trip after the rows (≈ 0.5 ms of a 5 ms riders query on the bench
        machine). Only the managed path retries, so a retryable failure (a lost connection, a
        leader switch, a transient error) runs the statement again there, with the driver's
        back-off; anything else is raised as it is. Reads have no effects, so running one again
        is safe. The fixed queries name relationship types that may not exist yet (HOLDS, before
        provisioning holds anything): the sessions do not ask for the server's "unknown type"
        notices, else the driver logs a warning of several kB per query, on every request.
        """
        started = time.perf_counter()
        text: Any = cypher  # a fixed text, every value a parameter
        try:
            with self.driver.session(
                default_access_mode=READ_ACCESS, **self._session_config
            ) as session:
                records = rows(session.run(Query(text), params))
        except (Neo4jError, DriverError) as error:
            if not error.is_retryable():
                raise
            records = self.execute_read(lambda tx: rows(tx.run(text, params)))
        self.queries_run += 1
        if self.on_query is not None:
            self.on_query(name, time.perf_counter() - started)
        return records

    def ensure_schema(self) -> None:
        """Create the uniqueness constraint and indexes if they are missing."""
        with self.driver.session(database=self.database) as session:
            for statement in SCHEMA:
                session.run(Query(statement)).consume()

    def check_one_customer_each(self) -> None:
        """Refuse a database in which a service (or an order) has two customers.

        FOR is single-upstream since 2026-11-27; a database written before may hold two FOR
        edges of one source, which the riders query (no longer grouping by service) would list
        and count once per customer. Which one is right only the operator knows, so the store
        does not open until one of each pair is deleted.
        """
        rows = self.read(
            "check.one_customer",
            """
            MATCH (s:Entity)-[:FOR]->(c)
            WITH s, collect(c.id) AS customers WHERE size(customers) > 1
            RETURN s.id AS id, customers ORDER BY id LIMIT 5
            """,
        )
        if rows:
            shown = "; ".join(f"{r['id']} -> {', '.join(sorted(r['customers']))}" for r in rows)
            raise StoredDataInvalid(
                f"the store holds services or orders with more than one customer ({shown}"
                f"{', ...' if len(rows) == 5 else ''}); each may have one FOR edge: delete the "
                "wrong ones, then start pboss again"
            )

    # ---- writes ----------------------------------------------------------------------------------

    def _lock_and_fetch(
        self, tx: ManagedTransaction, nodes: Sequence[Element], edges: Sequence[Edge]
    ) -> tuple[
        dict[str, Known], dict[tuple[str, str, str], dict[str, Any]], dict[tuple[str, str], str]
    ]:
        """Take the write locks first (sorted ids), then read what the batch refers to.

        The batch's own nodes come back whole (to tell added, updated and unchanged apart); ids it
        only refers to come back as a `Ref`, which is all planning reads of them.
        """
        own = {n.id for n in nodes}
        lock = sorted(own | {e.dst for e in edges if is_slot_edge(e)})
        rows = self.run(
            tx,
            "upsert.existing",
            _UPSERT_EXISTING,
            lock=lock,
            own=sorted(own),
            refs=sorted(referenced_ids(nodes, edges) - own),
            keys=[list(e.key) for e in edges],
            single=single_upstream_sources(edges),
        )[0]
        existing: dict[str, Known] = {p["id"]: element_of(p) for p in rows["nodes"]}
        existing.update({r[0]: Ref(*r) for r in rows["refs"]})
        existing_edges = {tuple(k): dict(props) for k, props in rows["edges"]}
        upstreams = {(t, src): dst for t, src, dst in rows["upstreams"]}
        return existing, existing_edges, upstreams  # type: ignore[return-value]

    def _write_nodes(self, tx: ManagedTransaction, plan: BatchPlan) -> None:
        """CREATE the new nodes (one query per kind, for its labels; a racing duplicate meets the
        uniqueness constraint), then SET the changed ones, already locked, in one query."""
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for n in plan.nodes_new:
            by_kind[n.kind].append(n.props())
        for kind, rows in sorted(by_kind.items()):
            self.run(
                tx,
                "upsert.create",
                f"UNWIND $rows AS r CREATE (n{labels_for(kind)}) SET n = r",
                rows=rows,
            )
        if plan.nodes_changed:
            self.run(
                tx,
                "upsert.update",
                "UNWIND $rows AS r MATCH (n:Entity {id: r.id}) SET n = r",
                rows=[n.props() for n in plan.nodes_changed],
            )

    def _write_edges(self, tx: ManagedTransaction, edges: list[Edge]) -> None:
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in edges:
            by_type[e.type].append({"src": e.src, "dst": e.dst, "props": e.props()})
        for etype, rows in sorted(by_type.items()):
            self.run(
                tx,
                "upsert.edges",
                f"""
                UNWIND $rows AS r
                MATCH (a:Entity {{id: r.src}}), (b:Entity {{id: r.dst}})
                MERGE (a)-[e:{rel_type(etype)}]->(b)
                SET e = r.props
                """,
                rows=rows,
            )

    def _check_slots(self, tx: ManagedTransaction, plan: BatchPlan) -> None:
        section_ids = plan.pool_targets
        newcomers = {e.src for e in plan.slot_edges}
        if not section_ids:
            return
        rows = self.run(
            tx,
            "upsert.slots",
            """
            UNWIND $ids AS sid
            MATCH (s:Entity {id: sid})
            OPTIONAL MATCH (s)<-[h:ROUTED_OVER|HOLDS]-(holder)
            RETURN properties(s) AS section, collect([holder.id, h.slots]) AS holdings
            """,
            ids=sorted(section_ids),
        )
        issues = []
        for row in rows:
            holdings = [(h, list(s or [])) for h, s in row["holdings"] if h is not None]
            issues += slot_clashes(element_of(row["section"]), holdings, newcomers)
        if issues:
            raise ValidationFailed(issues)

    def _record_changes(self, tx: ManagedTransaction, changes: list[dict[str, Any]]) -> None:
        if changes:
            self.run(
                tx,
                "history.record",
                "UNWIND $rows AS r CREATE (c:Change) SET c = r",
                rows=changes,
            )

    @staticmethod
    def _change_rows(
        triples: Sequence[tuple[str, str | None, str]], actor: str, reason: str
    ) -> list[dict[str, Any]]:
        at = datetime.now(UTC)
        return [
            {
                "element_id": eid,
                "from_status": old,
                "to_status": new,
                "actor": actor,
                "reason": reason,
                "at": at,
                "n": i,
            }
            for i, (eid, old, new) in enumerate(triples)
        ]

    def upsert(
        self,
        nodes: Sequence[Element],
        edges: Sequence[Edge] = (),
        *,
        actor: str = "system",
        reason: str = "upsert",
    ) -> UpsertResult:
        def work(tx: ManagedTransaction) -> UpsertResult:
            existing, existing_edges, upstreams = self._lock_and_fetch(tx, nodes, edges)
            plan = plan_batch(nodes, edges, existing, existing_edges, self.catalog, upstreams)
            self._write_nodes(tx, plan)
            self._write_edges(tx, plan.edges_new + plan.edges_changed)
            self._check_slots(tx, plan)
            triples = [(c.element_id, c.from_status, c.to_status) for c in plan.status_changes]
            self._record_changes(tx, self._change_rows(triples, actor, reason))
            return plan.result()

        return self.execute_write(work)

    def insert_new(self, nodes: Sequence[NodeRow], edges: Sequence[EdgeRow] = ()) -> UpsertResult:
        return neo4j_bulk.insert_new(self, nodes, edges)

    def set_status(
        self, element_id: str, status: str, *, actor: str, reason: str
    ) -> ChangeRecord | None:
        def work(tx: ManagedTransaction) -> ChangeRecord | None:
            rows = self.run(
                tx,
                "status.lock",
                "MATCH (n:Entity {id: $id}) SET n._lock = true REMOVE n._lock RETURN n.status AS s",
                id=element_id,
            )
            if not rows:
                raise NotFound(element_id)
            old = rows[0]["s"]
            if old == status:
                return None
            check_transition(element_id, old, status)
            change = self._change_rows([(element_id, old, status)], actor, reason)[0]
            self.run(
                tx,
                "status.set",
                "MATCH (n:Entity {id: $id}) SET n.status = $status "
                "CREATE (c:Change) SET c = $change",
                id=element_id,
                status=status,
                change=change,
            )
            return _change(change)

        return self.execute_write(work)

    def delete(
        self, element_ids: Sequence[str], *, cascade: bool = False, actor: str = "system"
    ) -> list[str]:
        def work(tx: ManagedTransaction) -> list[str]:
            rows = self.run(
                tx,
                "delete.plan",
                f"""
                CALL () {{
                  UNWIND $ids AS lid
                  MATCH (n:Entity {{id: lid}})
                  SET n._lock = true REMOVE n._lock
                  RETURN count(n) AS locked
                }}
                UNWIND $ids AS rid
                OPTIONAL MATCH (x:Entity {{id: rid}})
                OPTIONAL MATCH (d:Entity)-[:{FAIL}*1..32]->(x)
                RETURN rid, x IS NOT NULL AS found, x.status AS status,
                       collect(DISTINCT [d.id, d.status]) AS dependants
                """,
                ids=sorted(set(element_ids)),
            )
            missing = [r["rid"] for r in rows if not r["found"]]
            if missing:
                raise NotFound(missing[0])
            status = {r["rid"]: r["status"] for r in rows}
            for r in rows:
                status.update({d: s for d, s in r["dependants"] if d is not None})
            dependants = sorted(set(status) - set(element_ids))
            if dependants and not cascade:
                raise HasDependants(list(element_ids), dependants)
            doomed = sorted(status)
            held = self.run(
                tx,
                "delete.nodes",
                """
                UNWIND $ids AS did
                MATCH (n:Entity {id: did})
                OPTIONAL MATCH (n)<-[:HOLDS]-(h) WHERE NOT h.id IN $ids
                WITH n, collect(h.id) AS holders
                DETACH DELETE n
                RETURN collect(holders) AS held
                """,
                ids=doomed,
            )[0]["held"]
            holders = sorted({h for hs in held for h in hs})
            if holders:  # raising rolls the deletes above back
                raise HasDependants(list(element_ids), holders)
            at = datetime.now(UTC)
            changes = [
                {
                    "element_id": d,
                    "from_status": status[d],
                    "to_status": "deleted",
                    "actor": actor,
                    "reason": "delete" if d in element_ids else "cascade delete",
                    "at": at,
                    "n": i,
                }
                for i, d in enumerate(doomed)
            ]
            self._record_changes(tx, changes)
            return doomed

        return self.execute_write(work)

    def clear(self) -> None:
        with self.driver.session(database=self.database) as session:
            session.run(
                Query("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")
            ).consume()

    # ---- reads -----------------------------------------------------------------------------------

    def get(self, element_id: str) -> Element | None:
        rows = self.read(
            "get", "MATCH (n:Entity {id: $id}) RETURN properties(n) AS p", id=element_id
        )
        return element_of(rows[0]["p"]) if rows else None

    def get_many(self, element_ids: Sequence[str]) -> dict[str, Element]:
        rows = self.read(
            "get_many",
            "MATCH (n:Entity) WHERE n.id IN $ids RETURN properties(n) AS p",
            ids=list(element_ids),
        )
        return {r["p"]["id"]: element_of(r["p"]) for r in rows}

    def find(self, query: FindQuery) -> Page[Element]:
        clauses = []
        params: dict[str, Any] = {}
        for field in ("kind", "site", "owner", "status"):
            value = getattr(query, field)
            if value is not None:
                clauses.append(f"n.{field} = ${field}")
                params[field] = value
        if query.text:
            clauses.append(
                "(toLower(n.id) CONTAINS $text OR toLower(n.name) CONTAINS $text "
                "OR toLower(coalesce(n.code, '')) CONTAINS $text "
                "OR toLower(coalesce(n.address, '')) CONTAINS $text)"
            )
            params["text"] = query.text.lower()
        where = " AND ".join(clauses) or "true"
        rows = self.read(
            "find",
            f"""
            CALL () {{ MATCH (n:Entity) WHERE {where} RETURN count(n) AS total }}
            CALL () {{
              MATCH (n:Entity) WHERE {where} AND ($after IS NULL OR n.id > $after)
              WITH n ORDER BY n.id LIMIT $limit
              RETURN collect(properties(n)) AS page
            }}
            RETURN total, page
            """,
            after=query.after,
            limit=query.limit + 1,
            **params,
        )[0]
        page = rows["page"]
        more = len(page) > query.limit
        items = [element_of(p) for p in page[: query.limit]]
        return Page(
            items=items, total=rows["total"], next_cursor=items[-1].id if more and items else None
        )

    def neighbours(
        self, element_id: str, direction: Direction = "out", types: Sequence[str] | None = None
    ) -> list[tuple[Edge, Element]]:
        pattern = "(n)-[r]->(m)" if direction == "out" else "(n)<-[r]-(m)"
        rows = self.read(
            "neighbours",
            f"""
            MATCH (n:Entity {{id: $id}})
            OPTIONAL MATCH {pattern} WHERE $types IS NULL OR type(r) IN $types
            RETURN n.id AS id,
                   collect(CASE WHEN r IS NOT NULL THEN [type(r), properties(r), properties(m)] END)
                   AS out
            """,
            id=element_id,
            types=list(types) if types else None,
        )
        if not rows:
            raise NotFound(element_id)
        out = []
        for etype, props, other in rows[0]["out"]:
            src, dst = (
                (element_id, other["id"]) if direction == "out" else (other["id"], element_id)
            )
            out.append((Edge.from_props(etype, src, dst, props), element_of(other)))
        out.sort(key=lambda pair: (pair[0].type, pair[0].seq or 0, pair[1].id))
        return out

    def closure(self, element_id: str) -> Closure:
        """The forward dependency closure of one element, with pool usage, in one query."""
        rows = self._fetch(
            "closure",
            f"""
            MATCH (root:Entity {{id: $id}})
            OPTIONAL MATCH p = (root)-[:{FAIL}*1..24]->(m)
            WITH root, m, min(length(p)) AS depth
            WITH root, [x IN collect([m, depth]) WHERE x[0] IS NOT NULL] AS found
            WITH [[root, 0]] + found AS members
            WITH members, [x IN members | x[0]] AS ns
            UNWIND members AS mem
            WITH mem[0] AS n, mem[1] AS depth, ns
            CALL (n, ns) {{
              OPTIONAL MATCH (n)-[r:{FAIL}]->(m) WHERE m IN ns
              RETURN collect([type(r), m.id, r.seq, r.slots]) AS out
            }}
            CALL (n) {{
              OPTIONAL MATCH (n)<-[h:ROUTED_OVER|HOLDS]-()
              WHERE n:TrunkSection OR n:PartnerLink
              RETURN sum(size(coalesce(h.slots, []))) AS slots_used
            }}
            CALL (n) {{
              OPTIONAL MATCH (n)<-[:PART_OF]-(sp:SplitterPort)
              WHERE n:Splitter AND EXISTS {{ (sp)<-[:FED_BY|HOLDS]-() }}
              RETURN count(sp) AS busy
            }}
            RETURN properties(n) AS props, depth, out, slots_used, busy
            """,
            id=element_id,
        )
        if not rows:
            raise NotFound(element_id)
        nodes: dict[str, Element] = {}
        depth: dict[str, int] = {}
        edges = []
        used: dict[str, int] = {}
        for row in rows:
            el = from_stored(row["props"])
            nodes[el.id] = el
            depth[el.id] = row["depth"]
            edges += [(t, el.id, d, s, sl) for t, d, s, sl in row["out"] if t is not None]
            if el.kind in ("TrunkSection", "PartnerLink"):
                used[el.id] = row["slots_used"]
            elif el.kind == "Splitter":
                used[el.id] = row["busy"]
        return Closure(root=element_id, nodes=nodes, depth=depth, edges=edges, used=used)

    def trace(self, element_id: str) -> Trace:
        return build_trace(self.closure(element_id))

    def riders(
        self,
        element_ids: Sequence[str],
        *,
        first: int = 50,
        after: str | None = None,
        fields: RiderFields | None = None,
    ) -> Riders:
        keys = {}
        if fields is not None:
            keys = {
                "service_keys": _rider_keys("Service", fields.service),
                "customer_keys": _rider_keys("Customer", fields.customer),
            }
        query = _RIDERS_BY[len(element_ids) == 1, fields is not None]
        row = self._fetch(
            "riders",
            query,
            ids=list(element_ids),
            first=first,
            after=after,
            impairing=_IMPAIRING,
            **keys,
        )[0]
        if row["missing"]:
            raise NotFound(row["missing"][0])
        by_type: dict[str, int] = defaultdict(int)
        by_tier: dict[str, int] = defaultdict(int)
        for ctype, tier, count in row["kinds"]:
            by_type[ctype] += count
            by_tier[tier] += count
        found = row["items"]
        if fields is None:
            services = [from_stored(s) for s, _, _ in found]
            customers = [from_stored(c) if c else None for _, c, _ in found]
        else:
            services = _Projection("Service", keys["service_keys"]).many([s for s, _, _ in found])
            customers = _Projection("Customer", keys["customer_keys"]).many(
                [c or None for _, c, _ in found]
            )
        items = new_riders(
            (svc, cust, health_of([s for _, s in bads]), sorted(b for b, _ in bads))
            if bads
            else (svc, cust, "ok", [])
            for svc, cust, (_, _, bads) in zip(services, customers, found, strict=True)
        )
        totals = RiderTotals(
            services=row["services"],
            customers=row["customers"] or 0,
            by_product=dict(sorted((k, n) for k, n in row["by_product"])),
            by_customer_type=dict(sorted(by_type.items())),
            by_sla_tier=dict(sorted(by_tier.items())),
        )
        return Riders(
            resource_ids=list(element_ids),
            totals=totals,
            items=items,
            next_cursor=items[-1].service.id if row["more"] and items else None,
        )

    def history(
        self, element_id: str | None = None, *, actor: str | None = None, limit: int = 100
    ) -> list[ChangeRecord]:
        rows = self.read(
            "history",
            """
            MATCH (c:Change)
            WHERE ($id IS NULL OR c.element_id = $id) AND ($actor IS NULL OR c.actor = $actor)
            RETURN properties(c) AS c ORDER BY c.at DESC, c.n DESC LIMIT $limit
            """,
            id=element_id,
            actor=actor,
            limit=limit,
        )
        return [_change(r["c"]) for r in rows]

    def site_view(self, site_id: str) -> SiteView:
        rows = self._fetch(
            "site_view",
            """
            MATCH (site:Entity {id: $site})
            CALL (site) {
              MATCH (spl:Entity {site: site.id}) WHERE spl:Splitter
              CALL (spl) {
                OPTIONAL MATCH (sp:SplitterPort)-[:PART_OF]->(spl)
                WITH sp ORDER BY sp.index, sp.id
                RETURN collect([sp.id, sp.status,
                                EXISTS { (sp)<-[:FED_BY|HOLDS]-() }]) AS ports
              }
              CALL (spl) {
                OPTIONAL MATCH p = (spl)-[:FED_BY|PART_OF*1..16]->(top)
                WHERE NOT EXISTS { (top)-[:FED_BY|PART_OF]->() }
                WITH p ORDER BY length(p) DESC LIMIT 1
                RETURN CASE WHEN p IS NULL THEN [] ELSE nodes(p)[1..] END AS chain
              }
              WITH spl, ports, chain, [n IN chain WHERE n:PonPort][0] AS pon ORDER BY spl.id
              WITH collect([properties(spl), ports, [n IN chain | properties(n)], pon.id,
                            pon.max_split]) AS splitters, collect(DISTINCT pon) AS pons
              CALL (pons) {
                UNWIND pons AS pon
                OPTIONAL MATCH (pon)<-[:FED_BY|PART_OF*1..16]-(o)
                WHERE o:ONT OR (o:SplitterPort AND EXISTS { (o)<-[:HOLDS]-() })
                WITH pon, count(DISTINCT o) AS load
                RETURN collect([pon.id, load]) AS loads
              }
              RETURN splitters, loads
            }
            CALL (site) {
              OPTIONAL MATCH (pa:Entity {site: site.id}) WHERE pa:PartnerAccess
              WITH pa ORDER BY pa.id
              RETURN collect(properties(pa)) AS pools
            }
            CALL (site) {
              OPTIONAL MATCH (ne:Entity {site: site.id}) WHERE ne:NE
              WITH ne ORDER BY ne.id
              RETURN collect(properties(ne)) AS nes
            }
            CALL (site) {
              MATCH (ne:Entity {site: site.id}) WHERE ne:NE
              MATCH (p:Port)-[:PART_OF]->(ne)
              WITH p, ne ORDER BY p.id
              RETURN collect([properties(p), ne.id,
                              EXISTS { (p)<-[:A_END|Z_END|TERMINATES|HOLDS]-() }]) AS ports
            }
            RETURN properties(site) AS site, splitters, loads, pools, nes, ports
            """,
            site=site_id,
        )
        if not rows or rows[0]["site"].get("kind") != "Site":
            raise NotFound(site_id, "Site")
        row = rows[0]
        loads = dict(row["loads"])
        # splitters under one PON port share their chain above it: build each element once
        seen: dict[str, Element] = {}

        def upstream_of(chain: list[dict[str, Any]]) -> list[Element]:
            return [seen.get(p["id"]) or seen.setdefault(p["id"], from_stored(p)) for p in chain]

        splitters = []
        for spl, ports, chain, pon, budget in row["splitters"]:
            upstream = upstream_of(chain)
            splitters.append(
                SplitterView.model_construct(
                    splitter=from_stored(spl),
                    free_ports=[p for p, st, busy in ports if p and not busy and st == "available"],
                    busy_ports=sum(1 for p, _, busy in ports if p and busy),
                    upstream=upstream,
                    pon_port=pon,
                    olt=next((e.id for e in upstream if e.kind == "OLT"), None),
                    pon_load=loads.get(pon, 0) if pon else 0,
                    pon_budget=budget or 0,
                )
            )
        return SiteView.model_construct(
            site=from_stored(row["site"]),
            splitters=splitters,
            partner_access=[from_stored(p) for p in row["pools"]],
            nes=[from_stored(p) for p in row["nes"]],
            ports=[
                PortView.model_construct(port=from_stored(p), ne=ne, busy=busy)
                for p, ne, busy in row["ports"]
            ],
        )

    def transport_links(self) -> list[TransportLink]:
        rows = self.read(
            "transport_links",
            """
            MATCH (l:Entity) WHERE l:TrunkSection OR l:PartnerLink
            CALL (l) {
              OPTIONAL MATCH (l)-[:TERMINATES]->(t)
              OPTIONAL MATCH (t)-[:PART_OF]->(ne:NE)
              WITH CASE WHEN t:NE THEN t.id ELSE ne.id END AS e
              WITH e WHERE e IS NOT NULL
              RETURN collect(e) AS ends
            }
            CALL (l) {
              OPTIONAL MATCH (l)<-[h:ROUTED_OVER|HOLDS]-()
              RETURN collect(h.slots) AS held
            }
            RETURN properties(l) AS link, ends, held
            """,
        )
        order = {"TrunkSection": 0, "PartnerLink": 1}
        out = []
        for row in rows:
            ends = sorted(row["ends"])
            out.append(
                TransportLink(
                    link=element_of(row["link"]),
                    a_ne=ends[0] if ends else None,
                    z_ne=ends[1] if len(ends) > 1 else None,
                    used_slots=sorted(s for slots in row["held"] if slots for s in slots),
                )
            )
        out.sort(key=lambda t: (order[t.link.kind], t.link.id))
        return out

    def counts(self) -> dict[str, int]:
        rows = self.read(
            "counts",
            """
            CALL () {
              MATCH (n:Entity) WITH n.kind AS k, count(*) AS c RETURN collect([k, c]) AS kinds
            }
            CALL () { MATCH (:Entity)-[r]->(:Entity) WITH type(r) AS t, count(*) AS c
                      RETURN collect([t, c]) AS types }
            RETURN kinds, types
            """,
        )[0]
        out = {k: c for k, c in sorted(rows["kinds"])}
        out.update({f"edge:{t}": c for t, c in sorted(rows["types"])})
        return out

    def close(self) -> None:
        self.driver.close()
