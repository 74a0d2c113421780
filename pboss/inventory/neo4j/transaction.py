"""`Neo4jStore.transact`: a multi-step write (a provisioning step) in one managed transaction.

Neo4j runs at read-committed, so two transactions can both read a port as free. A step therefore
takes the write lock first (`lock`, `claim`: in sorted-id order, so no two transactions wait on
each other in a cycle), then re-reads what it decides on, then writes. Writes are buffered and,
at commit, pass the same validation as `upsert` (`pboss.inventory.rules.plan_batch`, and the
VC-12 slot check): what the step read under lock is reused, and whatever else validation needs
(nodes changed without a lock, ids only referred to, single-upstream edges, slot holders) is read
in one query (the sites and partners the locked nodes name are known without one); then one
statement writes everything, with the history of status changes. The
driver re-runs a step on transient errors (deadlock, leader switch); steps are pure functions of
what they read, so that is safe. Labels and relationship types come only from the model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from neo4j.exceptions import ConstraintError

from pboss.inventory.catalog import Catalog
from pboss.inventory.edges import EdgeNotFound, onto_existing
from pboss.inventory.errors import Issue, PortInUse, TxConflict, ValidationFailed
from pboss.inventory.events import NewEvent
from pboss.inventory.history import (
    ChangeKind,
    edge_entries,
    fold_moves,
    plan_entries,
    stamped,
    to_row,
)
from pboss.inventory.model import SELF, SINGLE_UPSTREAM, Edge, Element
from pboss.inventory.neo4j.client import WriteTx
from pboss.inventory.neo4j.queries import events as event_queries
from pboss.inventory.neo4j.queries import transaction as q
from pboss.inventory.neo4j.queries.upsert import PORT_USERS
from pboss.inventory.neo4j.reads import element_of
from pboss.inventory.results import ChangeRecord
from pboss.inventory.rules import (
    Known,
    Ref,
    is_port_edge,
    is_slot_edge,
    newcomers_by_port,
    plan_batch,
    port_clashes,
    referenced_ids,
    slot_clashes,
)
from pboss.inventory.transaction import AlreadyExists, Direction, Facts


def history_rows(entries: Sequence[ChangeRecord], actor: str, reason: str) -> list[dict[str, Any]]:
    """The `Change` nodes of history entries (`pboss.inventory.history`), stamped now, in order."""
    return [to_row(e, i) for i, e in enumerate(stamped(entries, actor, reason))]


def check_port_rows(rows: list[dict[str, Any]], mine: list[Edge]) -> list[Issue]:
    """`rules.port_clashes` over `PORT_USERS` rows (read after the edges `mine` were written)."""
    issues: list[Issue] = []
    by_port = newcomers_by_port(mine)
    for row in rows:
        users = [(t, u) for t, u in row["users"] if u is not None]
        newcomers = by_port.get(row["id"], [])
        issues += port_clashes(Ref(row["id"], row["kind"]), users, newcomers)
    return issues


def _grouped(elements: Iterable[Element]) -> list[tuple[str, list[dict[str, Any]]]]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for el in elements:
        by_kind[el.kind].append(el.props())
    return sorted(by_kind.items())


class Neo4jTx:
    """One step's view of Neo4j inside one managed write transaction (a `GraphTx`)."""

    def __init__(self, tx: WriteTx, catalog: Catalog):
        self.tx = tx
        self.catalog = catalog
        #: Nodes read under this transaction's write lock: current until it ends.
        self._locked: dict[str, Element] = {}
        #: The sites and partners the locked nodes name, as validation sees them (see `_locking`).
        self._refs: dict[str, Ref] = {}
        self._new: dict[str, Element] = {}
        self._changed: dict[str, Element] = {}
        self._links: dict[tuple[str, str, str], Edge] = {}
        self._unlinks: list[tuple[str, str, str]] = []
        #: re-pointed edges (as read, as they will be): also in `_unlinks` and `_links`
        self._moves: list[tuple[Edge, Edge]] = []
        #: Resources `claim` found with no edge making them busy, locked since.
        self._idle: set[str] = set()
        self._events: list[NewEvent] = []
        #: The number of the last event this step stored, once committed (0: it emitted none).
        self.last_seq = 0

    def _reading(self) -> None:
        if self._new or self._changed or self._links or self._unlinks:
            raise RuntimeError("a transaction read after writing (not allowed: see transaction.py)")

    def lock(self, ids: Iterable[str]) -> dict[str, Element]:
        self._reading()
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        found = {r["p"]["id"]: element_of(r["p"]) for r in self.tx.rows(q.LOCK, ids=wanted)}
        self._locking(found.values())
        return found

    def peek(self, ids: Iterable[str]) -> dict[str, Element]:
        self._reading()
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        return {r["p"]["id"]: element_of(r["p"]) for r in self.tx.rows(q.PEEK, ids=wanted)}

    def claim(
        self, ids: Sequence[str], *, lead: Sequence[str] = ()
    ) -> tuple[dict[str, Element], dict[str, Facts]]:
        self._reading()
        [row] = self.tx.rows(q.CLAIM, ids=sorted(set(ids)), lead=list(lead))
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
        self._locking([*leaders.values(), *(f.element for f in facts.values())])
        self._idle.update(i for i, f in facts.items() if not f.busy)
        return leaders, facts

    def _locking(self, elements: Iterable[Element]) -> None:
        """Remember nodes read under this transaction's lock, and the site and partner each
        names: every write passed validation, so a locked node's `site` is a Site and its
        `owner` (other than `self`) a Partner. Validating a step's writes there then needs no
        read: looking them up inside the write transaction is a locking index seek that, at 32
        clients, halved the reservations per second. (A Site or Partner deleted after such a
        node was written is not noticed here; `delete` does not follow properties either.)"""
        for el in elements:
            self._locked[el.id] = el
            if el.site:
                self._refs.setdefault(el.site, Ref(el.site, "Site"))
            if el.owner != SELF:
                self._refs.setdefault(el.owner, Ref(el.owner, "Partner"))

    def linked(
        self, element_id: str, edge_type: str, direction: Direction
    ) -> list[tuple[Edge, Element]]:
        return self.linked_many([element_id], edge_type, direction)[element_id]

    def linked_many(
        self, element_ids: Sequence[str], edge_type: str, direction: Direction
    ) -> dict[str, list[tuple[Edge, Element]]]:
        self._reading()
        out: dict[str, list[tuple[Edge, Element]]] = {i: [] for i in element_ids}
        if not out:
            return out
        query = q.linked_many(edge_type, direction)
        for row in self.tx.rows(query, ids=list(out)):
            here, props, other = row["id"], row["r"], row["m"]
            src, dst = (here, other["id"]) if direction == "out" else (other["id"], here)
            out[here].append((Edge.from_props(edge_type, src, dst, props), element_of(other)))
        return out

    def put(self, element: Element, *, new: bool = False) -> None:
        (self._new if new else self._changed)[element.id] = element.model_copy(deep=True)

    def link(self, edge: Edge) -> None:
        self._links[edge.key] = edge

    def unlink(self, edge_type: str, src: str, dst: str) -> None:
        self._unlinks.append((edge_type, src, dst))

    def repoint(self, edge: Edge, *, src: str | None = None, dst: str | None = None) -> Edge:
        after = edge.model_copy(update={"src": src or edge.src, "dst": dst or edge.dst})
        self.unlink(edge.type, edge.src, edge.dst)
        self.link(after)
        self._moves.append((edge.model_copy(deep=True), after))
        return after

    def emit(self, event: NewEvent) -> None:
        self._events.append(event.model_copy(deep=True))

    # ---- at commit: validate, then write in one statement ----------------------------------

    def commit(self, actor: str, reason: str) -> None:
        """Validate what the step wrote (as `upsert` does) and write it, then its events (last:
        the event counter's lock is held only from there to the commit); see the module doc."""
        events = [e.row() for e in self._events]
        if self._new or self._changed or self._links or self._unlinks:
            self._commit_writes(actor, reason, events)
        elif events:
            [row] = self.tx.rows(event_queries.APPEND, events=events)
            self.last_seq = row["last_seq"]

    def _commit_writes(self, actor: str, reason: str, events: list[dict[str, Any]]) -> None:
        nodes = [*self._new.values(), *self._changed.values()]
        edges = list(self._links.values())
        existing, upstreams, holdings, stored = self._known(nodes, edges)
        unlinked = {(t, s, d) for t, s, d in self._unlinks}
        for old, _ in self._moves:
            if old.key not in stored:
                raise EdgeNotFound(old.key)
        onto_existing(self._moves, set(stored), unlinked)
        before = {k: p for k, p in stored.items() if k not in unlinked}  # unlinks go first
        plan = plan_batch(nodes, edges, existing, before, self.catalog, upstreams)
        self._check_slots([e for e in edges if is_slot_edge(e)], existing, holdings)
        entries = [
            entry
            for t, s, d in dict.fromkeys(self._unlinks)
            if (t, s, d) in stored
            for entry in edge_entries(ChangeKind.EDGE_REMOVED, t, s, d, stored[(t, s, d)], None)
        ]
        entries += plan_entries(
            plan.nodes_new, plan.nodes_changed, existing, plan.edges_new, plan.edges_changed, before
        )
        entries = fold_moves(entries, self._moves)
        history = history_rows(entries, actor, reason)
        self._write(plan.nodes_new, plan.nodes_changed, history, events)
        self._check_ports(edges)

    def _check_ports(self, edges: list[Edge]) -> None:
        """Refuse (roll back) a step that gave an exclusive port a second user or took a held
        one. A port `claim` found idle has been locked since: only the step's own edges reach
        it (no read); any other is read after the write, which locked it."""
        mine = [e for e in edges if is_port_edge(e)]
        if not mine:
            return
        issues: list[Issue] = []
        by_port = newcomers_by_port(mine)
        for pid in sorted(by_port.keys() & self._idle):
            issues += port_clashes(self._locked[pid], by_port[pid], by_port[pid])
        rest = sorted({e.dst for e in mine} - self._idle)
        if rest:
            issues += check_port_rows(self.tx.rows(PORT_USERS, ids=rest), mine)
        if issues:
            raise PortInUse(issues)

    def _known(
        self, nodes: list[Element], edges: list[Edge]
    ) -> tuple[
        dict[str, Known],
        dict[tuple[str, str], str],
        dict[str, list[list[Any]]],
        dict[tuple[str, str, str], dict[str, Any]],
    ]:
        """What validation reads of the store: from this transaction's locked reads where it
        has them, the rest in one query (none when nothing is missing); and the properties of
        the edges it links or unlinks between stored nodes, for the history."""
        own_changed = set(self._changed)
        skip = own_changed | self._new.keys()  # own nodes: whole, from the lock or the read
        existing: dict[str, Known] = {i: r for i, r in self._refs.items() if i not in skip}
        existing.update((i, el) for i, el in self._locked.items() if i not in self._new)
        own_missing = sorted(own_changed - self._locked.keys())
        refs = sorted(referenced_ids(nodes, edges) - existing.keys() - skip)
        single = sorted(
            {e.src for e in edges if e.type in SINGLE_UPSTREAM and e.src not in self._new}
        )
        pools = sorted({e.dst for e in edges if is_slot_edge(e)})
        keys = sorted(
            {(t, s, d) for t, s, d in self._unlinks}
            | {e.key for e in edges if e.src not in self._new and e.dst not in self._new}
        )
        upstreams: dict[tuple[str, str], str] = {}
        holdings: dict[str, list[list[Any]]] = defaultdict(list)
        stored: dict[tuple[str, str, str], dict[str, Any]] = {}
        if own_missing or refs or single or pools or keys:
            [row] = self.tx.rows(
                q.COMMIT_READ,
                own=own_missing,
                refs=refs,
                single=single,
                pools=pools,
                keys=[list(k) for k in keys],
            )
            stored = {(k[0], k[1], k[2]): dict(p) for k, p in row["edges"]}
            existing.update({p["id"]: element_of(p) for p in row["nodes"]})
            existing.update({r[0]: Ref(*r) for r in row["refs"] if r[0] not in existing})
            removed = set(self._unlinks)
            upstreams = {(t, s): d for t, s, d in row["upstreams"] if (t, s, d) not in removed}
            for pid, etype, holder, slots in row["holdings"]:
                holdings[pid].append([etype, holder, slots])
        for i in sorted(own_changed):
            old, el = existing.get(i), self._changed[i]
            if old is None or old.kind != el.kind or isinstance(old, Ref):
                raise TxConflict(f"cannot update {el.kind}", [f"no {el.kind} with id {i}"])
        return existing, upstreams, holdings, stored

    def _check_slots(
        self,
        slot_edges: list[Edge],
        existing: dict[str, Known],
        holdings: dict[str, list[list[Any]]],
    ) -> None:
        """Refuse VC-12 slots held twice or out of range on the sections the step holds slots
        of: what the store holds there, less the edges the step deletes or replaces, plus its
        own."""
        if not slot_edges:
            return
        gone = set(self._unlinks) | set(self._links)
        issues: list[Issue] = []
        for pid in sorted({e.dst for e in slot_edges}):
            held = [
                (holder, list(slots or []))
                for etype, holder, slots in holdings.get(pid, [])
                if (etype, holder, pid) not in gone
            ]
            held += [(e.src, list(e.slots or [])) for e in slot_edges if e.dst == pid]
            section = existing.get(pid)
            if section is not None:
                newcomers = {e.src for e in slot_edges}
                issues += slot_clashes(section, held, newcomers)  # type: ignore[arg-type]
        if issues:
            raise ValidationFailed(issues)

    def _write(
        self,
        new: list[Element],
        changed: list[Element],
        history: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> None:
        unlinks: dict[str, list[dict[str, str]]] = defaultdict(list)
        for etype, src, dst in self._unlinks:
            unlinks[etype].append({"src": src, "dst": dst})
        links: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in self._links.values():
            links[e.type].append({"src": e.src, "dst": e.dst, "props": e.props()})
        creates, changes = _grouped(new), _grouped(changed)
        unlinked, linked = sorted(unlinks.items()), sorted(links.items())
        params: dict[str, Any] = {"history": history, "events": events}
        for prefix, groups in (("u", unlinked), ("c", creates), ("m", changes), ("l", linked)):
            params.update({f"{prefix}{n}": rows for n, (_, rows) in enumerate(groups)})
        query = q.commit(
            tuple(t for t, _ in unlinked),
            tuple(k for k, _ in creates),
            tuple(k for k, _ in changes),
            tuple(t for t, _ in linked),
            bool(history),
            bool(events),
        )
        try:
            [row] = self.tx.rows(query, **params)
        except ConstraintError:
            raise AlreadyExists(", ".join(sorted(self._new))) from None
        self._check_written(row, changes, linked)
        if events:
            self.last_seq = row["last_seq"]

    @staticmethod
    def _check_written(
        row: dict[str, Any],
        changed: list[tuple[str, list[dict[str, Any]]]],
        links: list[tuple[str, list[dict[str, Any]]]],
    ) -> None:
        """Refuse (roll back) when a changed node or an edge's end was not there after all."""
        for n, (kind, rows) in enumerate(changed):
            missing = sorted({r["id"] for r in rows} - set(row[f"m{n}"]))
            if missing:
                raise TxConflict(
                    f"cannot update {kind}", [f"no {kind} with id {i}" for i in missing]
                )
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
