"""The provisioning adapter for Neo4j: each step is one managed write transaction.

Neo4j runs at read-committed, so two transactions can both read a port as free. Every step
therefore takes the write lock first (`SET n._lock = true REMOVE n._lock`, in sorted-id order so
no two transactions wait on each other in a cycle), then re-reads what it decides on, then writes.
Writes are buffered and flushed at the end of the step in a few `UNWIND $rows` statements (one per
kind or relationship type). The driver re-runs a step on transient errors (deadlock, leader
switch); steps are pure functions of what they read, so that is safe. Values always travel as
parameters; labels and relationship types come only from the model's registries.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from neo4j import ManagedTransaction, Query
from neo4j.exceptions import ConstraintError

from pboss.inventory.errors import Issue, ValidationFailed
from pboss.inventory.model import Edge, Element
from pboss.inventory.neo4j.store import element_of, labels_for, rel_type
from pboss.provisioning.allocate import Facts
from pboss.provisioning.errors import Conflict
from pboss.provisioning.model import stamp
from pboss.provisioning.tx import AlreadyExists, Direction

T = TypeVar("T")

SCHEMA = (
    "CREATE INDEX reservation_due IF NOT EXISTS FOR (r:Reservation) ON (r.state, r.valid_until)",
    "CREATE INDEX work_order_state IF NOT EXISTS FOR (w:WorkOrder) ON (w.state)",
)

LOCK = """
UNWIND $ids AS id
MATCH (n:Entity {id: id})
SET n._lock = true REMOVE n._lock
RETURN properties(n) AS p
"""

PEEK = "MATCH (n:Entity) WHERE n.id IN $ids RETURN properties(n) AS p"

CLAIM = """
CALL () {
  UNWIND $lead AS id
  MATCH (n:Entity {id: id})
  SET n._lock = true REMOVE n._lock
  RETURN collect(properties(n)) AS lead
}
CALL () {
  UNWIND $ids AS id
  MATCH (n:Entity {id: id})
  SET n._lock = true REMOVE n._lock
  RETURN collect(n) AS locked
}
CALL (locked) {
  UNWIND locked AS n
  RETURN collect({
    p: properties(n),
    incoming: COLLECT { MATCH (n)<-[r]-() RETURN DISTINCT type(r) },
    used_slots: CASE WHEN n:TrunkSection OR n:PartnerLink
      THEN COLLECT { MATCH (n)<-[h:ROUTED_OVER|HOLDS]-() UNWIND coalesce(h.slots, []) AS s
                     RETURN s }
      ELSE [] END,
    load: CASE WHEN n:PonPort
      THEN size(COLLECT { MATCH (n)<-[:FED_BY|PART_OF*1..16]-(o)
                          WHERE o:ONT OR (o:SplitterPort AND EXISTS { (o)<-[:HOLDS]-() })
                          RETURN DISTINCT o.id })
      END
  }) AS facts
}
RETURN lead, facts
"""


class Neo4jTx:
    """One step's view of Neo4j inside one managed write transaction."""

    def __init__(self, store: Any, tx: ManagedTransaction):
        self.store = store
        self.tx = tx
        self._new: dict[str, Element] = {}
        self._changed: dict[str, Element] = {}
        self._links: dict[tuple[str, str, str], Edge] = {}
        self._unlinks: list[tuple[str, str, str]] = []

    def _q(self, name: str, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Run one query in this transaction, counted and timed like the store's own.

        Our queries return only maps and lists, which the driver already hands over as plain
        dicts and lists, so records are read as they are (no `Record.data()` walk).
        """
        started = time.perf_counter()
        rows = [dict(r.items()) for r in self.tx.run(cypher, params)]
        self.store.queries_run += 1
        if self.store.on_query is not None:
            self.store.on_query(f"provisioning.{name}", time.perf_counter() - started)
        return rows

    def lock(self, ids: Iterable[str]) -> dict[str, Element]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {r["p"]["id"]: element_of(r["p"]) for r in self._q("lock", LOCK, ids=wanted)}

    def peek(self, ids: Iterable[str]) -> dict[str, Element]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {r["p"]["id"]: element_of(r["p"]) for r in self._q("peek", PEEK, ids=wanted)}

    def claim(
        self, ids: Sequence[str], *, lead: Sequence[str] = ()
    ) -> tuple[dict[str, Element], dict[str, Facts]]:
        [row] = self._q("claim", CLAIM, ids=sorted(set(ids)), lead=list(lead))
        leaders = {p["id"]: element_of(p) for p in row["lead"]}
        facts = {}
        for f in row["facts"]:
            el = element_of(f["p"])
            facts[el.id] = Facts(
                element=el,
                incoming=sorted(f["incoming"]),
                used_slots=sorted(f["used_slots"]),
                load=f["load"],
            )
        return leaders, facts

    def linked(
        self, element_id: str, edge_type: str, direction: Direction
    ) -> list[tuple[Edge, Element]]:
        arrow = (
            f"-[r:{rel_type(edge_type)}]->"
            if direction == "out"
            else f"<-[r:{rel_type(edge_type)}]-"
        )
        rows = self._q(
            "linked",
            f"MATCH (n:Entity {{id: $id}}){arrow}(m:Entity) "
            "RETURN properties(r) AS r, properties(m) AS m ORDER BY m.id",
            id=element_id,
        )
        out = []
        for row in rows:
            props, other = row["r"], row["m"]
            src, dst = (
                (element_id, other["id"]) if direction == "out" else (other["id"], element_id)
            )
            edge = Edge.from_props(edge_type, src, dst, props)
            out.append((edge, element_of(other)))
        return out

    def put(self, element: Element, *, new: bool = False) -> None:
        (self._new if new else self._changed)[element.id] = element.model_copy(deep=True)

    def link(self, edge: Edge) -> None:
        self._links[edge.key] = edge

    def unlink(self, edge_type: str, src: str, dst: str) -> None:
        self._unlinks.append((edge_type, src, dst))

    # ---- the writes, at the end of the step ---------------------------------------------------

    def flush(self) -> None:
        """Write what the step decided in one statement: unlinks, new nodes, changes, links."""
        parts: list[str] = []
        params: dict[str, Any] = {}
        by_type: dict[str, list[dict[str, str]]] = defaultdict(list)
        for etype, src, dst in self._unlinks:
            by_type[etype].append({"src": src, "dst": dst})
        for n, (etype, rows) in enumerate(sorted(by_type.items())):
            params[f"u{n}"] = rows
            parts.append(
                f"CALL () {{ UNWIND $u{n} AS r "
                f"MATCH (:Entity {{id: r.src}})-[e:{rel_type(etype)}]->"
                "(:Entity {id: r.dst}) DELETE e }"
            )
        for n, (kind, rows) in enumerate(self._grouped(self._new.values())):
            params[f"c{n}"] = rows
            parts.append(f"CALL () {{ UNWIND $c{n} AS r CREATE (x{labels_for(kind)}) SET x = r }}")
        changed = self._grouped(self._changed.values())
        for n, (_, rows) in enumerate(changed):
            params[f"m{n}"] = rows
            parts.append(
                f"CALL () {{ UNWIND $m{n} AS r MATCH (x:Entity {{id: r.id}}) WHERE x.kind = r.kind "
                f"SET x = r RETURN collect(x.id) AS m{n} }}"
            )
        links: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in self._links.values():
            links[e.type].append({"src": e.src, "dst": e.dst, "props": e.props()})
        for n, (etype, rows) in enumerate(sorted(links.items())):
            params[f"l{n}"] = rows
            parts.append(
                f"CALL () {{ UNWIND $l{n} AS r MATCH (a:Entity {{id: r.src}}), "
                f"(b:Entity {{id: r.dst}}) MERGE (a)-[e:{rel_type(etype)}]->(b) SET e = r.props "
                f"RETURN collect([r.src, r.dst]) AS l{n} }}"
            )
        if not parts:
            return
        outputs = [f"m{n}" for n in range(len(changed))] + [f"l{n}" for n in range(len(links))]
        statement = "\n".join(parts) + "\nRETURN " + (", ".join(outputs) or "true AS done")
        try:
            [row] = self._q("write", statement, **params)
        except ConstraintError:
            raise AlreadyExists(", ".join(sorted(self._new))) from None
        self._check(row, changed, sorted(links.items()))

    @staticmethod
    def _check(
        row: dict[str, Any],
        changed: list[tuple[str, list[dict[str, Any]]]],
        links: list[tuple[str, list[dict[str, Any]]]],
    ) -> None:
        """Refuse (roll back) when a changed node or an edge's end was not there."""
        for n, (kind, rows) in enumerate(changed):
            missing = sorted({r["id"] for r in rows} - set(row[f"m{n}"]))
            if missing:
                raise Conflict(f"cannot update {kind}", [f"no {kind} with id {i}" for i in missing])
        issues = []
        for n, (etype, rows) in enumerate(links):
            made = {tuple(pair) for pair in row[f"l{n}"]}
            issues += [
                Issue(item=f"edge {etype}({r['src']!r} -> {r['dst']!r})", reason="missing node")
                for r in rows
                if (r["src"], r["dst"]) not in made
            ]
        if issues:
            raise ValidationFailed(issues)

    @staticmethod
    def _grouped(elements: Iterable[Element]) -> list[tuple[str, list[dict[str, Any]]]]:
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for el in elements:
            by_kind[el.kind].append(el.props())
        return sorted(by_kind.items())


class Neo4jBackend:
    """Runs provisioning steps on a Neo4jStore, one managed write transaction each."""

    def __init__(self, store: Any):
        self.store = store
        with store.driver.session(database=store.database) as session:
            for statement in SCHEMA:
                session.run(Query(statement)).consume()

    def run(self, work: Callable[[Neo4jTx], T]) -> T:
        def in_tx(mtx: ManagedTransaction) -> T:
            tx = Neo4jTx(self.store, mtx)
            result = work(tx)
            tx.flush()
            return result

        return self.store.execute_write(in_tx)

    def due_reservations(self, now: datetime, limit: int) -> list[str]:
        rows = self.store.read(
            "provisioning.due_reservations",
            "MATCH (r:Reservation) WHERE r.state = 'held' AND r.valid_until <= $now "
            "RETURN r.id AS id ORDER BY r.valid_until, r.id LIMIT $limit",
            now=stamp(now),
            limit=limit,
        )
        return [r["id"] for r in rows]

    def open_work_orders(self, limit: int) -> list[str]:
        rows = self.store.read(
            "provisioning.open_work_orders",
            "MATCH (w:WorkOrder) WHERE w.state IN ['open', 'held'] "
            "RETURN w.id AS id ORDER BY w.due_at, w.id LIMIT $limit",
            limit=limit,
        )
        return [r["id"] for r in rows]
