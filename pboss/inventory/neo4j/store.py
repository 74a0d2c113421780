"""Neo4jStore: the resource graph in Neo4j, the system of record.

Every protocol call is one managed transaction and, for reads, one Cypher query (one round trip),
run through the one client (`client.py`) by name; the Cypher itself lives in `queries/`, by topic.
Values always travel as parameters; labels and relationship types come only from the model's own
closed sets. Schema (uniqueness constraint, indexes) is ensured at start-up. This module holds the
writes, the multi-step transaction, the sweeper's and the scans' reads; `reads.py` the other reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import Histogram

from pboss.inventory import history
from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.edges import EdgeChanges, EdgeMove
from pboss.inventory.errors import (
    HasDependants,
    NotFound,
    PortInUse,
    StoredDataInvalid,
    ValidationFailed,
)
from pboss.inventory.events import EventFilter, StoredEvent, check_page
from pboss.inventory.impact import Acknowledgement, Impact, check, impact_of, status_needs_ack
from pboss.inventory.lifecycle import check_transition
from pboss.inventory.listeners import DeadLetter, DeadLetterState, DeliveryReport, Listener
from pboss.inventory.model import Edge, Element
from pboss.inventory.neo4j import bulk, undo
from pboss.inventory.neo4j import edges as edge_changes
from pboss.inventory.neo4j.client import Neo4jClient, WriteTx
from pboss.inventory.neo4j.hub import Neo4jHub
from pboss.inventory.neo4j.outage import Timeouts
from pboss.inventory.neo4j.queries import READ, Query, events, lookups, scans, schema
from pboss.inventory.neo4j.queries import upsert as q
from pboss.inventory.neo4j.queries.impact import IMPACT
from pboss.inventory.neo4j.reads import Neo4jReads, element_of, native
from pboss.inventory.neo4j.reports import Neo4jReports
from pboss.inventory.neo4j.transaction import Neo4jTx, check_port_rows, history_rows
from pboss.inventory.reports import TakeUpRow, UtilisationRow
from pboss.inventory.results import ChangeRecord, UpsertResult
from pboss.inventory.rows import EdgeRow, NodeRow
from pboss.inventory.rules import (
    BatchPlan,
    Known,
    Ref,
    is_port_edge,
    is_slot_edge,
    plan_batch,
    referenced_ids,
    single_upstream_sources,
    slot_clashes,
)
from pboss.inventory.timestamps import stamp
from pboss.inventory.transaction import GraphTx
from pboss.inventory.undo import EdgeKey, Snapshot, Undo

if TYPE_CHECKING:
    from neo4j import Driver, ManagedTransaction

T = TypeVar("T")

__all__ = ["Neo4jStore", "element_of"]


class Neo4jStore(Neo4jReads):
    """A GraphStore on Neo4j (official driver through `Neo4jClient`, parameters only)."""

    name = "neo4j"

    def __init__(
        self,
        uri: str,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        catalog: Catalog | None = None,
        driver: Driver | None = None,
        histogram: Histogram | None = None,
        timeouts: Timeouts | None = None,
    ):
        self.catalog = catalog or default_catalog()
        self.client = Neo4jClient(
            uri, auth, database, driver=driver, histogram=histogram, timeouts=timeouts
        )
        self.database = database
        #: listener records, the event log's small reads and this process's event watchers
        self.hub = Neo4jHub(self.client)
        #: the statistics reports' aggregate reads
        self.reports = Neo4jReports(self.client)
        try:
            self.ensure_schema()
            self.check_one_customer_each()
        except Exception:
            self.client.close()
            raise

    # ---- for tools and tests: the client's counters and ad-hoc Cypher ---------------------------

    @property
    def queries_run(self) -> int:
        """Queries run so far (tests count round trips with it)."""
        return self.client.queries_run

    def read(self, name: str, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """One ad-hoc read query (tests, benchmarks); pboss's own reads are named in `queries`."""
        return self.client.read(Query(name, READ, cypher), **params)

    def execute_write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Ad-hoc Cypher in one managed write transaction (tests and benchmarks only)."""
        return self.client.execute_write(work)

    # ---- start-up --------------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the uniqueness constraint and indexes if they are missing."""
        for statement in schema.STATEMENTS:
            self.client.run_auto(statement)

    def check_one_customer_each(self) -> None:
        """Refuse a database in which a service (or an order) has two customers.

        FOR is single-upstream since 2026-11-27; a database written before may hold two FOR
        edges of one source, which the riders query (no longer grouping by service) would list
        and count once per customer. Which one is right only the operator knows, so the store
        does not open until one of each pair is deleted.
        """
        rows = self.client.read(lookups.ONE_CUSTOMER_EACH)
        if rows:
            shown = "; ".join(f"{r['id']} -> {', '.join(sorted(r['customers']))}" for r in rows)
            raise StoredDataInvalid(
                f"the store holds services or orders with more than one customer ({shown}"
                f"{', ...' if len(rows) == 5 else ''}); each may have one FOR edge: delete the "
                "wrong ones, then start pboss again"
            )

    # ---- writes ----------------------------------------------------------------------------------

    def _lock_and_fetch(
        self, tx: WriteTx, nodes: Sequence[Element], edges: Sequence[Edge]
    ) -> tuple[
        dict[str, Known], dict[tuple[str, str, str], dict[str, Any]], dict[tuple[str, str], str]
    ]:
        """Take the write locks first (sorted ids), then read what the batch refers to.

        The batch's own nodes come back whole (to tell added, updated and unchanged apart); ids it
        only refers to come back as a `Ref`, which is all planning reads of them.
        """
        own = {n.id for n in nodes}
        lock = sorted(own | {e.dst for e in edges if is_slot_edge(e) or is_port_edge(e)})
        row = tx.run(
            q.EXISTING,
            lock=lock,
            own=sorted(own),
            refs=sorted(referenced_ids(nodes, edges) - own),
            keys=[list(e.key) for e in edges],
            single=single_upstream_sources(edges),
        )[0]
        existing: dict[str, Known] = {p["id"]: element_of(p) for p in row["nodes"]}
        existing.update({r[0]: Ref(*r) for r in row["refs"]})
        existing_edges = {tuple(k): dict(props) for k, props in row["edges"]}
        upstreams = {(t, src): dst for t, src, dst in row["upstreams"]}
        return existing, existing_edges, upstreams  # type: ignore[return-value]

    @staticmethod
    def _write_nodes(tx: WriteTx, plan: BatchPlan) -> None:
        """CREATE the new nodes (one query per kind, for its labels; a racing duplicate meets the
        uniqueness constraint), then SET the changed ones, already locked, in one query."""
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for n in plan.nodes_new:
            by_kind[n.kind].append(n.props())
        for kind, rows in sorted(by_kind.items()):
            tx.run(q.create_nodes(kind), rows=rows)
        if plan.nodes_changed:
            tx.run(q.UPDATE_NODES, rows=[n.props() for n in plan.nodes_changed])

    @staticmethod
    def _write_edges(tx: WriteTx, edges: list[Edge]) -> None:
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in edges:
            by_type[e.type].append({"src": e.src, "dst": e.dst, "props": e.props()})
        for etype, rows in sorted(by_type.items()):
            tx.run(q.merge_edges(etype), rows=rows)

    @staticmethod
    def _check_slots(tx: WriteTx, plan: BatchPlan) -> None:
        section_ids = plan.pool_targets
        newcomers = {e.src for e in plan.slot_edges}
        if not section_ids:
            return
        issues = []
        for row in tx.run(q.SLOTS, ids=sorted(section_ids)):
            holdings = [(h, list(s or [])) for h, s in row["holdings"] if h is not None]
            issues += slot_clashes(element_of(row["section"]), holdings, newcomers)
        if issues:
            raise ValidationFailed(issues)

    @staticmethod
    def _impact(tx: WriteTx, element_ids: Sequence[str], action: str) -> Impact:
        """The riders of these elements, with their dependency closure write-locked first (see
        `queries.impact`), so they cannot change before this transaction commits."""
        rows = tx.run(IMPACT, ids=sorted(set(element_ids)))[0]["rows"]
        pairs = [(element_of(s), element_of(c) if c else None) for s, c in rows]
        return impact_of(list(element_ids), action, pairs)

    @staticmethod
    def _check_ports(tx: WriteTx, edges: list[Edge]) -> None:
        """Refuse a batch that gave an exclusive port a second user or took a held one: read
        after the batch wrote its edges, under the port's lock (taken first, or by the edge's
        creation), so of two concurrent batches the second sees the first."""
        mine = [e for e in edges if is_port_edge(e)]
        if not mine:
            return
        issues = check_port_rows(tx.run(q.PORT_USERS, ids=sorted({e.dst for e in mine})), mine)
        if issues:
            raise PortInUse(issues)

    @staticmethod
    def _record_changes(tx: WriteTx, changes: list[dict[str, Any]]) -> None:
        if changes:
            tx.run(q.RECORD_CHANGES, rows=changes)

    def upsert(
        self,
        nodes: Sequence[Element],
        edges: Sequence[Edge] = (),
        *,
        actor: str = "system",
        reason: str = "upsert",
        ack: Acknowledgement | None = None,
    ) -> UpsertResult:
        def work(tx: WriteTx) -> UpsertResult:
            existing, existing_edges, upstreams = self._lock_and_fetch(tx, nodes, edges)
            plan = plan_batch(nodes, edges, existing, existing_edges, self.catalog, upstreams)
            gated = [
                c.element_id
                for c in plan.status_changes
                if ack is not None and status_needs_ack(c.from_status, c.to_status)
            ]
            if gated:
                check(ack, self._impact(tx, gated, "status change"))
            self._write_nodes(tx, plan)
            self._write_edges(tx, plan.edges_new + plan.edges_changed)
            self._check_slots(tx, plan)
            self._check_ports(tx, plan.port_edges)
            entries = history.plan_entries(
                plan.nodes_new,
                plan.nodes_changed,
                existing,
                plan.edges_new,
                plan.edges_changed,
                existing_edges,
            )
            self._record_changes(tx, history_rows(entries, actor, reason))
            return plan.result()

        return self.client.write(work)

    def insert_new(self, nodes: Sequence[NodeRow], edges: Sequence[EdgeRow] = ()) -> UpsertResult:
        return bulk.insert_new(self.client, nodes, edges)

    def transact(self, work: Callable[[GraphTx], T], *, actor: str, reason: str) -> T:
        """Run `work` in one managed write transaction (see `transaction.py`): all its writes
        commit or none, after the same validation as `upsert`; it may run more than once. Once
        a transaction that stored events has committed, this process's watchers hear of it."""

        committed: list[Neo4jTx] = []

        def in_tx(tx: WriteTx) -> T:
            step = Neo4jTx(tx, self.catalog)
            result = work(step)
            step.commit(actor, reason)
            committed[:] = [step]  # the last attempt's (the driver may run `in_tx` again)
            return result

        result = self.client.write(in_tx)
        if committed and committed[0].last_seq:
            self.hub.notify(committed[0].last_seq)
        return result

    def set_status(
        self,
        element_id: str,
        status: str,
        *,
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
    ) -> ChangeRecord | None:
        def work(tx: WriteTx) -> ChangeRecord | None:
            rows = tx.run(q.STATUS_LOCK, id=element_id)
            if not rows:
                raise NotFound(element_id)
            old = rows[0]["s"]
            if old == status:
                return None
            check_transition(element_id, old, status)
            if ack is not None and status_needs_ack(old, status):
                check(ack, self._impact(tx, [element_id], f"status change to {status}"))
            entry = history.stamped(
                [history.status_changed(element_id, old, status)], actor, reason
            )[0]
            tx.run(q.STATUS_SET, id=element_id, status=status, change=history.to_row(entry, 0))
            return entry

        return self.client.write(work)

    def delete(
        self,
        element_ids: Sequence[str],
        *,
        cascade: bool = False,
        actor: str = "system",
        ack: Acknowledgement | None = None,
    ) -> list[str]:
        def work(tx: WriteTx) -> list[str]:
            rows = tx.run(q.DELETE_PLAN, ids=sorted(set(element_ids)))
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
            if ack is not None:
                action = "cascade delete" if cascade else "delete"
                check(ack, self._impact(tx, element_ids, action))
            row = tx.run(q.DELETE_NODES, ids=doomed)[0]
            holders = sorted({h for hs in row["held"] for h in hs})
            if holders:  # raising rolls the deletes above back
                raise HasDependants(list(element_ids), holders)
            asked, cascaded = self._deleted_entries(row["gone"], set(element_ids))
            rows = history_rows(asked, actor, "delete")
            rows += history_rows(cascaded, actor, "cascade delete")
            self._record_changes(tx, [{**r, "n": i} for i, r in enumerate(rows)])
            return doomed

        return self.client.write(work)

    def change_edges(
        self,
        removals: Sequence[EdgeKey] = (),
        moves: Sequence[EdgeMove] = (),
        *,
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
    ) -> EdgeChanges:
        return edge_changes.change_edges(
            self.client, self.catalog, removals, moves, actor, reason, ack
        )

    def snapshot(self, node_ids: Sequence[str], edge_keys: Sequence[EdgeKey]) -> Snapshot:
        return undo.snapshot(self.client, node_ids, edge_keys)

    def restore(self, change: Undo) -> None:
        undo.restore(self.client, change)

    @staticmethod
    def _deleted_entries(
        gone: list[list[Any]], asked: set[str]
    ) -> tuple[list[ChangeRecord], list[ChangeRecord]]:
        """History entries of a delete (`DELETE_NODES`' rows, by id): each node deleted and its
        edges cut at the nodes that stay; those of the ids asked for, and those cascaded."""
        direct: list[ChangeRecord] = []
        cascaded: list[ChangeRecord] = []
        for props, cut in sorted(gone, key=lambda g: g[0]["id"]):
            entries = [history.deleted({k: native(v) for k, v in props.items()})]
            for etype, src, dst, eprops, other in sorted(cut, key=lambda c: c[:3]):
                before = {k: native(v) for k, v in eprops.items()}
                kind = history.ChangeKind.EDGE_REMOVED
                entries += history.edge_entries(kind, etype, src, dst, before, None, [other])
            (direct if props["id"] in asked else cascaded).extend(entries)
        return direct, cascaded

    def clear(self) -> None:
        self.client.run_auto(lookups.CLEAR)

    # ---- the sweeper's reads and whole-store scans -----------------------------------------------

    def events_after(
        self,
        after: int,
        *,
        types: Sequence[str] | None = None,
        first: int = 50,
        where: EventFilter | None = None,
    ) -> list[StoredEvent]:
        wanted = check_page(after, first, types, where)
        rows = self.client.read(events.AFTER, after=after, first=first, **wanted.params())
        return [StoredEvent.from_row(r["seq"], r["row"]) for r in rows]

    # ---- the statistics reports (`reports.py`) ----------------------------------------------

    def utilisation(self, kind: str, site: str | None = None) -> list[UtilisationRow]:
        return self.reports.utilisation(kind, site)

    def take_up(self) -> list[TakeUpRow]:
        return self.reports.take_up()

    def records(
        self, kind: str, *, time_field: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        return self.reports.records(kind, time_field=time_field, since=since, until=until)

    # ---- the event hub (`hub.py`) -----------------------------------------------------------

    def latest_events(self, event_type: str, subjects: Sequence[str]) -> dict[str, StoredEvent]:
        return self.hub.latest_events(event_type, subjects)

    def last_event_seq(self) -> int:
        return self.hub.last_event_seq()

    def watch_events(self, watcher: Callable[[int], None]) -> Callable[[], None]:
        return self.hub.watch_events(watcher)

    def add_listener(self, listener: Listener) -> None:
        self.hub.add_listener(listener)

    def get_listener(self, listener_id: str) -> Listener | None:
        return self.hub.get_listener(listener_id)

    def list_listeners(self) -> list[Listener]:
        return self.hub.list_listeners()

    def remove_listener(self, listener_id: str) -> bool:
        return self.hub.remove_listener(listener_id)

    def claim_listeners(
        self, owner: str, *, now: datetime, until: datetime, limit: int
    ) -> list[Listener]:
        return self.hub.claim_listeners(owner, now=now, until=until, limit=limit)

    def record_delivery(self, listener_id: str, owner: str, report: DeliveryReport) -> bool:
        return self.hub.record_delivery(listener_id, owner, report)

    def release_listener(self, listener_id: str, owner: str) -> None:
        self.hub.release_listener(listener_id, owner)

    def dead_letters(
        self,
        *,
        listener: str | None = None,
        states: Sequence[DeadLetterState] | None = None,
        first: int = 100,
    ) -> list[DeadLetter]:
        return self.hub.dead_letters(listener=listener, states=states, first=first)

    def set_dead_letters(
        self, ids: Sequence[str], state: DeadLetterState, *, reason: str | None = None
    ) -> list[DeadLetter]:
        return self.hub.set_dead_letters(ids, state, reason=reason)

    def due_ids(
        self,
        kind: str,
        *,
        states: Sequence[str],
        time_field: str,
        until: datetime | None,
        limit: int,
    ) -> list[str]:
        """Ids of nodes of `kind` in one of `states` (and, given `until`, whose `time_field` is
        at or before it), by (`time_field`, id), at most `limit`. Times are stored as the
        provisioning model's ISO strings, so `until` is compared as the same string."""
        query = lookups.due_ids(kind, time_field, until is not None)
        params: dict[str, Any] = {"states": list(states), "limit": limit}
        if until is not None:
            params["until"] = stamp(until)
        return [r["id"] for r in self.client.read(query, **params)]

    def scan_nodes(self, kind: str) -> Iterator[dict[str, Any]]:
        """Flat stored properties of every node of a kind (no `_` keys, Python values), by id."""
        for rec in self.client.stream(scans.nodes(kind), kind=kind):
            yield {k: native(v) for k, v in rec["p"].items() if not k.startswith("_")}

    def scan_ids(self, kind: str, owner: str) -> Iterator[str]:
        """Ids of every node of a kind with this owner, by id."""
        for rec in self.client.stream(scans.ids(kind), kind=kind, owner=owner):
            yield rec["id"]

    def scan_edges(
        self, edge_type: str, *, ordered: bool = True, props: bool = True
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(src, dst, properties) of every edge of a type; by src then dst when `ordered`;
        without properties (an empty dict) unless `props`."""
        for rec in self.client.stream(scans.edges(edge_type, ordered, props)):
            p = rec["p"]
            yield rec["src"], rec["dst"], {k: native(v) for k, v in p.items() if k[:1] != "_"}

    def close(self) -> None:
        self.client.close()
