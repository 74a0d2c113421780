"""MemoryStore: the resource graph in a networkx MultiDiGraph, the embedded default.

For trying pboss, small deployments and fast tests: everything lives in one process's memory.
Given a data directory (`PBOSS_DATA_DIR`, what `pboss serve` uses by default) it keeps what it is
given: every commit is journaled and fsynced before it returns, beside a snapshot
(`memory/durable.py`); without one (tests, `PBOSS_DATA_DIR=`) it is lost when the process stops.
Writes are serialised by one lock; reads of a consistent snapshot are not guaranteed while a write
runs in another thread, so use Neo4j when many writers, several processes or replicas matter.

Size: the GraphStore protocol's methods in one class (views and scans already live beside it).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pboss.inventory import history
from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.dependants import Dependant, breadth_first
from pboss.inventory.edges import EdgeChanges, EdgeMove, EdgeNotFound, onto_existing
from pboss.inventory.errors import HasDependants, Issue, NotFound, PortInUse, ValidationFailed
from pboss.inventory.events import EventFilter, StoredEvent
from pboss.inventory.impact import Acknowledgement, Impact, check, impact_of, status_needs_ack
from pboss.inventory.lifecycle import DEGRADED, DOWN, check_transition, health_of
from pboss.inventory.listeners import DeadLetter, DeadLetterState, DeliveryReport, Listener
from pboss.inventory.memory import edges as edge_changes
from pboss.inventory.memory import reports, scans, views
from pboss.inventory.memory.durable import DEFAULT_COMPACT_BYTES, CommitLock, Durability
from pboss.inventory.memory.events import EventLog
from pboss.inventory.memory.listeners import ListenerBook
from pboss.inventory.memory.occupancy import slot_holdings, used_slots
from pboss.inventory.memory.recording import RecordingGraph
from pboss.inventory.memory.riders_cache import RidersCache
from pboss.inventory.memory.rows import (
    H_ACTOR,
    H_AT,
    H_EDGE_SRC,
    H_ELEMENT,
    H_REASON,
    HistoryRow,
    Row,
    kind_of,
    pack,
    pack_entry,
    row_of,
    unpack,
    unpack_entry,
    value_of,
)
from pboss.inventory.memory.transaction import MemoryTx
from pboss.inventory.model import (
    FAILURE_EDGES,
    KINDS,
    SINGLE_UPSTREAM,
    Edge,
    Element,
    from_props,
)
from pboss.inventory.reports import TakeUpRow, UtilisationRow, check_utilisation_kind
from pboss.inventory.results import (
    ChangeRecord,
    Closure,
    FindQuery,
    Page,
    Rider,
    RiderFields,
    RiderRow,
    Riders,
    SiteView,
    SlotUse,
    Trace,
    TransportLink,
    UpsertResult,
)
from pboss.inventory.rows import EdgeRow, NodeRow, edge_conflict, refuse_own_conflicts
from pboss.inventory.rules import (
    BatchPlan,
    plan_batch,
    port_clashes,
    referenced_ids,
    single_upstream_sources,
    slot_clashes,
)
from pboss.inventory.store import Direction, known_edge_type, known_kind
from pboss.inventory.tracing import build_trace, rider_totals
from pboss.inventory.transaction import GraphTx
from pboss.inventory.undo import EdgeKey, Snapshot, Undo

_FAILURE = frozenset(FAILURE_EDGES)
#: resources whose riders a snapshot keeps computed: the ones with thousands of riders
WARMED_RIDERS = ("OLT",)
T = TypeVar("T")


def _matches_text(row: Row, needle: str) -> bool:
    """True when the element's id, name, code or address contains the (lower-case) needle."""
    hay = [value_of(row, name) or "" for name in ("id", "name", "code", "address")]
    return any(needle in h.lower() for h in hay)


def _matches_phone(row: Row, digits: str) -> bool:
    """True when the element's phone, punctuation ignored, contains these digits."""
    phone = value_of(row, "phone")
    return bool(phone) and digits in "".join(c for c in phone if c.isdigit())


class MemoryStore:
    """A GraphStore in process memory (networkx); see the module docstring for its limits."""

    name = "memory"

    def __init__(
        self,
        catalog: Catalog | None = None,
        *,
        data_dir: Path | None = None,
        compact_bytes: int = DEFAULT_COMPACT_BYTES,
    ):
        """An empty store, or, with `data_dir`, the one kept there (loaded, then journaled)."""
        self.catalog = catalog or default_catalog()
        self.graph: RecordingGraph = RecordingGraph()
        self.lock = CommitLock(self._on_commit)
        self._history: list[HistoryRow] = []  # packed (rows.py), shared with _history_of
        self._history_of: dict[str, list[HistoryRow]] = {}
        self._by_kind: dict[str, set[str]] = {}
        self._by_site: dict[str, set[str]] = {}
        self.events = EventLog()
        self.listeners = ListenerBook()
        self._entered: set[str] = set()  # elements history entries named since the last commit
        self._riders_cache = RidersCache()
        self.durable: Durability | None = None
        if data_dir is not None:
            durable = Durability(self, Path(data_dir), compact_bytes)
            durable.open()
            self.durable = durable

    def _on_commit(self) -> None:
        """At the outermost release of the lock: drop the cached answers the writes touched and
        journal them (with a data directory) before anyone hears the write is done."""
        durable = self.durable
        if not (self.graph.touched or self._entered or (durable and durable.pending())):
            return  # a read
        cleared, nodes, edges = self.graph.take_touched()
        nodes |= self._entered  # an element changed in place (a status) has a history entry
        self._entered = set()
        if cleared:
            self._riders_cache.clear()
        self._riders_cache.invalidate(nodes)
        if durable is not None:
            durable.commit(cleared, nodes, edges)

    # ---- helpers --------------------------------------------------------------------------------

    def _el(self, element_id: str) -> Element:
        """A fresh element of a node (built from its row: the caller may change it)."""
        return unpack(self.graph.nodes[element_id]["row"])

    def _enter(
        self, entries: Sequence[ChangeRecord], actor: str, reason: str
    ) -> list[ChangeRecord]:
        """Enter history entries, stamped, an edge's entry with its element's status now; each
        element's are also kept apart, so reading one element's history scans only its own."""
        out = []
        for e in history.stamped(entries, actor, reason):
            if e.to_status is None:
                here = e.element_id in self.graph
                now = str(value_of(row_of(self.graph, e.element_id), "status")) if here else None
                e = e.model_copy(update={"from_status": now, "to_status": now or "deleted"})
            out.append(e)
            self._entered.add(e.element_id)
        packed = [pack_entry(e) for e in out]
        self.keep_history(packed)
        if self.durable is not None:
            self.durable.changes.history.append(("add", packed))
        return out

    def keep_history(self, entries: list[HistoryRow]) -> None:
        """Append stamped, packed entries to the history and to each element's own list."""
        for e in entries:
            self._history_of.setdefault(e[H_ELEMENT], []).append(e)
        self._history += entries

    def forget_history(self, ids: set[str], actor: str, reason: str, since: datetime) -> None:
        """Drop the entries of these elements by this actor and reason since then (an undone
        load's, `restore`), from the history and from each element's own list."""

        def undone(r: HistoryRow) -> bool:
            return (r[H_ELEMENT] in ids and r[H_ACTOR] == actor and r[H_REASON] == reason) and r[
                H_AT
            ] >= since

        self._history = [r for r in self._history if not undone(r)]
        for i in ids & self._history_of.keys():  # each element's own list too
            kept = [r for r in self._history_of[i] if not undone(r)]
            if kept:
                self._history_of[i] = kept
            else:  # as a snapshot rebuilds it: no empty lists
                del self._history_of[i]
        if self.durable is not None:
            self.durable.changes.history.append(("forget", (ids, actor, reason, since)))

    def place_node(self, row: Row) -> None:
        """Put an element's row in the graph and the indexes (a write's, a journal's)."""
        node_id = value_of(row, "id")
        if node_id in self.graph:
            self._unindex(row_of(self.graph, node_id))
        self.graph.add_node(node_id, row=row)
        self._by_kind.setdefault(row[0], set()).add(node_id)
        site = value_of(row, "site")
        if site:
            self._by_site.setdefault(site, set()).add(node_id)

    def drop_node(self, element_id: str) -> None:
        """Remove a node, its edges and its index entries, if it is there (a journal's)."""
        if element_id in self.graph:
            self._unindex(row_of(self.graph, element_id))
            self.graph.remove_node(element_id)

    def _put_node(self, node: Element) -> None:
        self.place_node(pack(node))

    def _unindex(self, row: Row) -> None:
        node_id, site = value_of(row, "id"), value_of(row, "site")
        self._by_kind[row[0]].discard(node_id)
        if site:
            self._by_site.get(site, set()).discard(node_id)

    def used_of(self, element_id: str) -> int | None:
        """How much of a pool is taken: VC-12 slots of a section, occupied outputs of a splitter."""
        kind = kind_of(self.graph, element_id)
        if kind in ("TrunkSection", "PartnerLink"):
            return len(used_slots(self.graph, element_id))
        if kind == "Splitter":
            busy = 0
            for port, _, key in self.graph.in_edges(element_id, keys=True):
                if key == "PART_OF" and any(
                    k in ("FED_BY", "HOLDS") for _, _, k in self.graph.in_edges(port, keys=True)
                ):
                    busy += 1
            return busy
        return None

    def _reverse_closure(self, start: Iterable[str]) -> set[str]:
        seen = set(start)
        queue = deque(seen)
        pred = self.graph.pred
        while queue:
            cur = queue.popleft()
            for src, keys in pred[cur].items():
                if src not in seen and not _FAILURE.isdisjoint(keys):
                    seen.add(src)
                    queue.append(src)
        return seen

    def _forward_closure(self, root: str) -> dict[str, int]:
        depth = {root: 0}
        queue = deque([root])
        succ = self.graph.succ
        while queue:
            cur = queue.popleft()
            for dst, keys in succ[cur].items():
                if dst not in depth and not _FAILURE.isdisjoint(keys):
                    depth[dst] = depth[cur] + 1
                    queue.append(dst)
        return depth

    def _impact(self, element_ids: Sequence[str], action: str) -> Impact:
        """The riders of these elements (as `riders` finds them) that a write would affect."""
        rows = []
        for sid in self._reverse_closure(element_ids):
            if kind_of(self.graph, sid) != "Service":
                continue
            cust = next((d for _, d, k in self.graph.out_edges(sid, keys=True) if k == "FOR"), None)
            rows.append((self._el(sid), self._el(cust) if cust else None))
        return impact_of(list(element_ids), action, rows)

    def _require(self, element_id: str) -> Element:
        if element_id not in self.graph:
            raise NotFound(element_id)
        return self._el(element_id)

    # ---- GraphStore -----------------------------------------------------------------------------

    def upsert(
        self,
        nodes: Sequence[Element],
        edges: Sequence[Edge] = (),
        *,
        actor: str = "system",
        reason: str = "upsert",
        ack: Acknowledgement | None = None,
    ) -> UpsertResult:
        with self.lock:
            return self._upsert(nodes, edges, actor, reason, ack)

    def _upsert(
        self,
        nodes: Sequence[Element],
        edges: Sequence[Edge],
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
        prior: Sequence[ChangeRecord] = (),
        moves: Sequence[tuple[Edge, Edge]] = (),
    ) -> UpsertResult:
        """`upsert` under the lock: `rules.plan_batch` validates, then the batch is applied."""
        ids = referenced_ids(nodes, edges)
        existing = {i: self._el(i) for i in ids if i in self.graph}
        existing_edges: dict[tuple[str, str, str], dict[str, Any]] = {}
        for e in edges:
            if self.graph.has_edge(e.src, e.dst, key=e.type):
                existing_edges[e.key] = dict(self.graph.edges[e.src, e.dst, e.type])
        upstreams = {
            (key, src): dst
            for src in single_upstream_sources(edges)
            if src in self.graph
            for _, dst, key in self.graph.out_edges(src, keys=True)
            if key in SINGLE_UPSTREAM
        }
        plan = plan_batch(nodes, edges, existing, existing_edges, self.catalog, upstreams)
        self._check_slots(plan)
        self._check_ports(plan)
        if ack is not None:
            gated = [
                c.element_id
                for c in plan.status_changes
                if status_needs_ack(c.from_status, c.to_status)
            ]
            if gated:
                check(ack, self._impact(gated, "status change"))
        for node in plan.nodes_new + plan.nodes_changed:
            self._put_node(node)
        for e in plan.edges_new + plan.edges_changed:
            if self.graph.has_edge(e.src, e.dst, key=e.type):
                self.graph.remove_edge(e.src, e.dst, key=e.type)  # replace, never merge, props
            self.graph.add_edge(e.src, e.dst, key=e.type, **e.props())
        entries = list(prior)
        entries += history.plan_entries(
            plan.nodes_new,
            plan.nodes_changed,
            existing,
            plan.edges_new,
            plan.edges_changed,
            existing_edges,
        )
        self._enter(history.fold_moves(entries, moves), actor, reason)
        return plan.result()

    def insert_new(self, nodes: Sequence[NodeRow], edges: Sequence[EdgeRow] = ()) -> UpsertResult:
        refuse_own_conflicts(nodes, edges)
        with self.lock:
            taken = [n["id"] for n in nodes if n["id"] in self.graph]
            if taken:
                reason = f"exists already (written since validation): {taken[:5]}"
                raise ValidationFailed([Issue("nodes", reason, "id")])
            new_ids = {n["id"] for n in nodes}
            issues = []
            for e in edges:
                src_ok = e.src in self.graph or e.src in new_ids
                dst_ok = e.dst in self.graph or e.dst in new_ids
                upstream = self._other_upstream(e) if e.type in SINGLE_UPSTREAM else None
                if not (src_ok and dst_ok) or upstream is not None:
                    issues.append(edge_conflict(e, src_ok, dst_ok, upstream))
            if issues:
                raise ValidationFailed(issues)
            for props in nodes:
                self._put_node(from_props(props))
            result = UpsertResult(nodes_added=len(nodes))
            for e in edges:
                old = self.graph.get_edge_data(e.src, e.dst, key=e.type)
                if old is None:
                    result.edges_added += 1
                elif old == e.props:
                    result.edges_unchanged += 1
                    continue
                else:
                    result.edges_updated += 1
                    self.graph.remove_edge(e.src, e.dst, key=e.type)
                self.graph.add_edge(e.src, e.dst, key=e.type, **e.props)
            return result

    def _other_upstream(self, edge: EdgeRow) -> str | None:
        """The target other than `edge.dst` that the source already has over the edge's type."""
        if edge.src not in self.graph:
            return None
        for _, dst, key in self.graph.out_edges(edge.src, keys=True):
            if key == edge.type and dst != edge.dst:
                return str(dst)
        return None

    def _check_slots(self, plan: BatchPlan) -> None:
        """Refuse a batch that would hold a VC-12 slot twice or beyond a section's capacity."""
        written = {n.id: n for n in plan.nodes_new + plan.nodes_changed}
        issues = []
        for section_id in sorted(plan.pool_targets):
            incoming = [e for e in plan.slot_edges if e.dst == section_id]
            replaced = {e.src for e in incoming}
            holdings = [h for h in slot_holdings(self.graph, section_id) if h[0] not in replaced]
            holdings += [(e.src, e.slots or []) for e in incoming]
            section = written.get(section_id) or self._el(section_id)
            issues += slot_clashes(section, holdings, replaced)
        if issues:
            raise ValidationFailed(issues)

    def _check_ports(self, plan: BatchPlan) -> None:
        """Refuse a batch that would give an exclusive port a second user or take a held one
        (a transaction's unlinks are already applied when its writes get here)."""
        by_port = plan.port_newcomers()
        if not by_port:
            return
        written = {n.id: n for n in plan.nodes_new + plan.nodes_changed}
        issues = []
        for port_id, newcomers in sorted(by_port.items()):
            stored = []
            if port_id in self.graph:
                stored = [(k, src) for src, _, k in self.graph.in_edges(port_id, keys=True)]
            port = written.get(port_id) or self._el(port_id)
            issues += port_clashes(port, stored + newcomers, newcomers)
        if issues:
            raise PortInUse(issues)

    def get(self, element_id: str) -> Element | None:
        with self.lock:
            if element_id not in self.graph:
                return None
            return self._el(element_id)

    def get_many(self, element_ids: Sequence[str]) -> dict[str, Element]:
        with self.lock:
            return {i: self._el(i) for i in element_ids if i in self.graph}

    def find(self, query: FindQuery) -> Page[Element]:
        with self.lock:
            ids: Iterable[str] = (
                self._by_kind.get(query.kind, set()) if query.kind else self.graph.nodes
            )
            needle = query.text.lower() if query.text else None
            hits = []
            for i in ids:  # read from the rows: an element is built only for the page
                row = row_of(self.graph, i)
                if query.site is not None and value_of(row, "site") != query.site:
                    continue
                if query.owner is not None and value_of(row, "owner") != query.owner:
                    continue
                if query.status is not None and value_of(row, "status") != query.status:
                    continue
                if (needle or query.phone) and not (
                    (needle and _matches_text(row, needle))
                    or (query.phone and _matches_phone(row, query.phone))
                ):
                    continue
                hits.append(i)
            hits.sort()
            start = bisect_right(hits, query.after) if query.after is not None else 0
            page = hits[start : start + query.limit]
            more = start + query.limit < len(hits)
            return Page(
                items=[self._el(i) for i in page],
                total=len(hits),
                next_cursor=page[-1] if more and page else None,
            )

    def neighbours(
        self, element_id: str, direction: Direction = "out", types: Sequence[str] | None = None
    ) -> list[tuple[Edge, Element]]:
        with self.lock:
            self._require(element_id)
            raw = (
                self.graph.out_edges(element_id, keys=True, data=True)
                if direction == "out"
                else self.graph.in_edges(element_id, keys=True, data=True)
            )
            out = [
                (
                    Edge.from_props(key, src, dst, data),
                    self._el(dst if direction == "out" else src),
                )
                for src, dst, key, data in raw
                if not types or key in types
            ]
        out.sort(key=lambda pair: (pair[0].type, pair[0].seq or 0, pair[1].id))
        return out

    def neighbours_many(
        self,
        element_ids: Sequence[str],
        direction: Direction = "out",
        types: Sequence[str] | None = None,
    ) -> dict[str, list[tuple[Edge, Element]]]:
        with self.lock:
            known = [i for i in dict.fromkeys(element_ids) if i in self.graph]
            return {i: self.neighbours(i, direction, types) for i in known}

    def dependants(self, element_ids: Sequence[str]) -> list[Dependant]:
        """What depends on these resources, breadth first (`inventory.dependants`)."""
        with self.lock:
            return breadth_first(self.graph.pred, self._el, element_ids)

    def closure(self, element_id: str) -> Closure:
        """The forward dependency closure of one element, with pool usage."""
        with self.lock:
            self._require(element_id)
            depth = self._forward_closure(element_id)
            edges = []
            for nid in depth:
                for _, dst, key, data in self.graph.out_edges(nid, keys=True, data=True):
                    if key in _FAILURE and dst in depth:
                        edges.append((key, nid, dst, data.get("seq"), data.get("slots")))
            used = {n: u for n in depth if (u := self.used_of(n)) is not None}
            nodes = {n: self._el(n) for n in depth}
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
        # `fields` only lets a store fetch less; copies of whole elements cost nothing to fetch here
        key = (tuple(element_ids), first, after)
        with self.lock:
            for i in element_ids:
                self._require(i)
            cached = self._riders_cache.get(key)
            if cached is not None:
                return cached
            reads: set[str] = set()  # every node the answer depends on (riders_cache.py)
            answer = self._riders(element_ids, first, after, reads)
            self._riders_cache.put(key, answer, reads)
            return answer

    def warm_riders(self, kinds: Sequence[str] = WARMED_RIDERS) -> None:
        """Compute and keep the riders (first page, as the API asks) of every resource of these
        kinds not kept yet: a compaction does it, so the snapshot holds them and the first ask
        after a start-up is a kept answer (each dropped as soon as a write touches what it read)."""
        room = self._riders_cache.size // 2  # the rest for answers asked since
        with self.lock:
            for kind in kinds:
                for rid in sorted(self._by_kind.get(kind, ()))[:room]:
                    self.riders([rid])

    def _riders(
        self, element_ids: Sequence[str], first: int, after: str | None, reads: set[str]
    ) -> Riders:
        """`riders` under the lock, noting in `reads` every node it read."""
        reached = self._reverse_closure(element_ids)
        reads |= reached
        nodes = self.graph.nodes
        services = sorted(i for i in reached if nodes[i]["row"][0] == "Service")
        rows: list[RiderRow] = []
        customer_of: dict[str, str | None] = {}
        for sid in services:  # counted from the rows: no element is built for the totals
            cust_id = next((d for d, keys in self.graph.succ[sid].items() if "FOR" in keys), None)
            customer_of[sid] = cust_id
            cust = None
            if cust_id is not None:
                reads.add(cust_id)
                cust = nodes[cust_id]["row"]
            rows.append(
                RiderRow(
                    service_id=sid,
                    product=value_of(nodes[sid]["row"], "product"),
                    customer_id=cust_id,
                    customer_type=value_of(cust, "customer_type") if cust else None,
                    sla_tier=value_of(cust, "sla_tier") if cust else None,
                )
            )
        start = bisect_right(services, after) if after is not None else 0
        page = services[start : start + first]
        items = []
        for sid in page:
            ids = self._forward_closure(sid)
            reads.update(ids)
            status = {n: value_of(nodes[n]["row"], "status") for n in ids}
            cust_id = customer_of[sid]
            items.append(
                Rider(
                    service=self._el(sid),
                    customer=self._el(cust_id) if cust_id else None,
                    health=health_of(list(status.values())),
                    impaired_by=sorted(n for n, s in status.items() if s in DOWN | DEGRADED),
                )
            )
        more = start + first < len(services)
        return Riders(
            resource_ids=list(element_ids),
            totals=rider_totals(rows),
            items=items,
            next_cursor=page[-1] if more and page else None,
        )

    def set_status(
        self,
        element_id: str,
        status: str,
        *,
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
    ) -> ChangeRecord | None:
        with self.lock:
            el = self._require(element_id)
            if el.status == status:
                return None
            old = el.status
            check_transition(element_id, old, status)
            if ack is not None and status_needs_ack(old, status):
                check(ack, self._impact([element_id], f"status change to {status}"))
            el.status = status  # type: ignore[assignment]
            self.place_node(pack(el))  # the element is a copy: its row is the stored state
            return self._enter([history.status_changed(element_id, old, status)], actor, reason)[0]

    def history(
        self, element_id: str | None = None, *, actor: str | None = None, limit: int = 100
    ) -> list[ChangeRecord]:
        with self.lock:
            mine = self._history if element_id is None else self._history_of.get(element_id, [])
            rows = []
            for r in reversed(mine):  # the newest first, unpacked only up to the limit
                if len(rows) >= limit:
                    break
                if actor is not None and r[H_ACTOR] != actor:
                    continue
                if element_id is None and r[H_EDGE_SRC] is not None and r[H_EDGE_SRC] != r[0]:
                    continue  # an edge's entry is listed once, at its source (listed_once)
                rows.append(unpack_entry(r))
        return rows

    def history_many(
        self, element_ids: Sequence[str], *, limit: int = 100
    ) -> dict[str, list[ChangeRecord]]:
        with self.lock:
            return {i: self.history(i, limit=limit) for i in dict.fromkeys(element_ids)}

    def delete(
        self,
        element_ids: Sequence[str],
        *,
        cascade: bool = False,
        actor: str = "system",
        ack: Acknowledgement | None = None,
    ) -> list[str]:
        with self.lock:
            for i in element_ids:
                self._require(i)
            closure = self._reverse_closure(element_ids)
            dependants = sorted(closure - set(element_ids))
            if dependants and not cascade:
                raise HasDependants(list(element_ids), dependants)
            doomed = sorted(closure)
            if ack is not None:
                check(ack, self._impact(element_ids, "cascade delete" if cascade else "delete"))
            holders = sorted(
                {h for i in doomed for h, _, k in self.graph.in_edges(i, keys=True) if k == "HOLDS"}
                - closure
            )
            if holders:  # a reservation holds it: release the hold first
                raise HasDependants(list(element_ids), holders)
            gone = set(doomed)
            asked: list[ChangeRecord] = []
            cascaded: list[ChangeRecord] = []
            for i in doomed:
                entries = [history.deleted(self._el(i).props())]
                cut = [
                    *self.graph.out_edges(i, keys=True, data=True),
                    *self.graph.in_edges(i, keys=True, data=True),
                ]
                for src, dst, key, data in sorted(cut, key=lambda c: (c[2], c[0], c[1])):
                    other = dst if src == i else src
                    if other not in gone:
                        kind = history.ChangeKind.EDGE_REMOVED
                        entries += history.edge_entries(kind, key, src, dst, data, None, [other])
                (asked if i in element_ids else cascaded).extend(entries)
            for i in doomed:
                self._unindex(row_of(self.graph, i))
                self.graph.remove_node(i)
            self._enter(asked, actor, "delete")
            self._enter(cascaded, actor, "cascade delete")
            return doomed

    def change_edges(
        self,
        removals: Sequence[EdgeKey] = (),
        moves: Sequence[EdgeMove] = (),
        *,
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
    ) -> EdgeChanges:
        with self.lock:
            return edge_changes.change_edges(self, removals, moves, actor, reason, ack)

    def site_view(self, site_id: str) -> SiteView:
        with self.lock:
            return views.site_view(self.graph, self._by_site, site_id)

    def transport_links(self) -> list[TransportLink]:
        with self.lock:
            return views.transport_links(self.graph, self._by_kind)

    def slot_use(self, element_ids: Sequence[str]) -> dict[str, SlotUse]:
        with self.lock:
            return views.slot_use(self.graph, element_ids)

    # ---- transactions, sweeps and scans ----------------------------------------------------------

    def transact(self, work: Callable[[GraphTx], T], *, actor: str, reason: str) -> T:
        with self.lock:
            tx = MemoryTx(self)
            result = work(tx)
            self._commit(tx, actor, reason)
            last = self.events.append(tx.events)  # only once the writes are in
        if last:
            self.events.notify(last)  # outside the store's lock, as Neo4j's after its commit
        return result

    def events_after(
        self,
        after: int,
        *,
        types: Sequence[str] | None = None,
        first: int = 50,
        where: EventFilter | None = None,
    ) -> list[StoredEvent]:
        return self.events.after(after, types, first, where)

    def latest_events(self, event_type: str, subjects: Sequence[str]) -> dict[str, StoredEvent]:
        return self.events.latest(event_type, subjects)

    def last_event_seq(self) -> int:
        return self.events.last_seq()

    def watch_events(self, watcher: Callable[[int], None]) -> Callable[[], None]:
        return self.events.watch(watcher)

    # ---- the event hub's records ----------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        with self.lock:  # its commit journals the change
            self.listeners.add(listener)

    def get_listener(self, listener_id: str) -> Listener | None:
        return self.listeners.get(listener_id)

    def list_listeners(self) -> list[Listener]:
        return self.listeners.all()

    def remove_listener(self, listener_id: str) -> bool:
        with self.lock:  # its commit journals the change
            return self.listeners.remove(listener_id)

    def claim_listeners(
        self, owner: str, *, now: datetime, until: datetime, limit: int
    ) -> list[Listener]:
        return self.listeners.claim(owner, now, until, limit)

    def record_delivery(self, listener_id: str, owner: str, report: DeliveryReport) -> bool:
        with self.lock:  # its commit journals the change
            return self.listeners.record(listener_id, owner, report)

    def release_listener(self, listener_id: str, owner: str) -> None:
        self.listeners.release(listener_id, owner)

    def dead_letters(
        self,
        *,
        listener: str | None = None,
        states: Sequence[DeadLetterState] | None = None,
        first: int = 100,
    ) -> list[DeadLetter]:
        return self.listeners.dead_letters(listener, states, first)

    def set_dead_letters(
        self, ids: Sequence[str], state: DeadLetterState, *, reason: str | None = None
    ) -> list[DeadLetter]:
        with self.lock:  # its commit journals the change
            return self.listeners.set_dead(ids, state, reason)

    def _commit(self, tx: MemoryTx, actor: str, reason: str) -> None:
        """Apply a transaction's writes all or nothing: unlink, then one validated `_upsert`; if
        that refuses, the unlinked edges are put back."""
        removed: list[tuple[str, str, str, dict[str, Any]]] = []
        for old, _ in tx.moves:
            if not self.graph.has_edge(old.src, old.dst, key=old.type):
                raise EdgeNotFound(old.key)
        stored = {a.key for _, a in tx.moves if self.graph.has_edge(a.src, a.dst, key=a.type)}
        onto_existing(tx.moves, stored, {(t, s, d) for s, d, t in tx.unlinks})
        try:
            for src, dst, key in tx.unlinks:
                if self.graph.has_edge(src, dst, key=key):
                    removed.append((src, dst, key, dict(self.graph.edges[src, dst, key])))
                    self.graph.remove_edge(src, dst, key=key)
            kind = history.ChangeKind.EDGE_REMOVED
            unlinked = [
                entry
                for src, dst, key, data in removed
                for entry in history.edge_entries(kind, key, src, dst, data, None)
            ]
            if tx.puts or tx.links:
                puts, links = list(tx.puts.values()), list(tx.links.values())
                self._upsert(puts, links, actor, reason, prior=unlinked, moves=tx.moves)
            else:
                self._enter(unlinked, actor, reason)
        except BaseException:
            for src, dst, key, data in removed:
                self.graph.add_edge(src, dst, key=key, **data)
            raise

    def due_ids(
        self,
        kind: str,
        *,
        states: Sequence[str],
        time_field: str,
        until: datetime | None,
        limit: int,
    ) -> list[str]:
        known_kind(kind)
        with self.lock:
            elements = [self._el(i) for i in self._by_kind.get(kind, ())]
            return scans.due(
                elements, states=states, time_field=time_field, until=until, limit=limit
            )

    def utilisation(self, kind: str, site: str | None = None) -> list[UtilisationRow]:
        check_utilisation_kind(kind)
        with self.lock:
            return reports.utilisation(self.graph, self._by_kind.get(kind, set()), site)

    def take_up(self) -> list[TakeUpRow]:
        with self.lock:
            sites, onts = self._by_kind.get("Site", set()), self._by_kind.get("ONT", set())
            return reports.take_up(self.graph, sites, onts)

    def records(
        self, kind: str, *, time_field: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        known_kind(kind)
        if time_field not in KINDS[kind].model_fields:
            raise ValueError(f"{kind} has no time field {time_field!r}")
        with self.lock:
            elements = [self._el(i) for i in self._by_kind.get(kind, ())]
        return reports.records(elements, time_field, since, until)

    def scan_nodes(self, kind: str) -> Iterator[dict[str, Any]]:
        return scans.nodes_of(self.graph, self.lock, self._by_kind, known_kind(kind))

    def scan_ids(self, kind: str, owner: str) -> Iterator[str]:
        return scans.ids_of(self.graph, self.lock, self._by_kind, known_kind(kind), owner)

    def scan_edges(
        self, edge_type: str, *, ordered: bool = True, props: bool = True
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        return scans.edges_of(self.graph, self.lock, known_edge_type(edge_type), ordered, props)

    def counts(self) -> dict[str, int]:
        with self.lock:
            out = {k: len(v) for k, v in sorted(self._by_kind.items()) if v}
            for _, _, key in self.graph.edges(keys=True):
                out[f"edge:{key}"] = out.get(f"edge:{key}", 0) + 1
        return out

    # ---- undoing a load's batch (pboss.inventory.undo) -----------------------------------------

    def snapshot(self, node_ids: Sequence[str], edge_keys: Sequence[EdgeKey]) -> Snapshot:
        with self.lock:
            nodes = {i: self._el(i).props() for i in node_ids if i in self.graph}
            edges = {
                k: dict(self.graph.edges[k[1], k[2], k[0]])
                for k in edge_keys
                if self.graph.has_edge(k[1], k[2], key=k[0])
            }
        return Snapshot(nodes, edges)

    def restore(self, undo: Undo) -> None:
        with self.lock:
            created = set(undo.created_nodes)
            holders = sorted(
                {
                    h
                    for i in created
                    if i in self.graph
                    for h, _, k in self.graph.in_edges(i, keys=True)
                    if k == "HOLDS" and h not in created
                }
            )
            if holders:  # a reservation made meanwhile holds what the batch created
                raise HasDependants(undo.created_nodes[:5], holders)
            for etype, src, dst in undo.created_edges:
                if self.graph.has_edge(src, dst, key=etype):
                    self.graph.remove_edge(src, dst, key=etype)
            for (etype, src, dst), props in undo.prior_edges:
                if self.graph.has_edge(src, dst, key=etype):
                    self.graph.remove_edge(src, dst, key=etype)
                self.graph.add_edge(src, dst, key=etype, **props)
            for props in undo.prior_nodes:
                self._put_node(from_props(props))
            for i in undo.created_nodes:
                if i in self.graph:
                    self._unindex(row_of(self.graph, i))
                    self.graph.remove_node(i)
            if undo.history_ids and undo.since is not None:
                self.forget_history(set(undo.history_ids), undo.actor, undo.reason, undo.since)

    def clear(self) -> None:
        with self.lock:
            self.clear_state()

    def clear_state(self) -> None:
        """Forget everything (the caller holds the lock; a journal's clear calls it too)."""
        self.graph.clear()
        self._history.clear()
        self._history_of.clear()
        self._by_kind.clear()
        self._by_site.clear()
        self.events.clear()
        self.listeners.clear()
        if self.durable is not None:
            self.durable.changes.history.clear()  # the clear record supersedes them

    def close(self) -> None:
        """Compact and let go of the data directory, if any (nothing to release otherwise)."""
        if self.durable is not None:
            with self.lock:
                self.durable.close()
