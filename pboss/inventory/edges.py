"""Edge changes: delete edges and re-point them, validated once for both stores.

A re-home (an ONT from one splitter output to another), a circuit's end moved to another port or
a splitter moved to another feed is a *move*: the edge (type, src, dst) becomes (type, new src,
new dst) with its properties (or new `seq`/`slots`), as ONE change. For a single-upstream edge
(`model.SINGLE_UPSTREAM`: FED_BY, PART_OF, A_END/Z_END, FOR) that is the only way to change the
upstream: adding the new edge first is refused (one upstream), deleting first leaves a window
with none. A store applies a request in one write transaction, so no reader ever sees the node
without its upstream, or with two.

Every store call (`GraphStore.change_edges`) follows the same steps:

1. `EdgeRequest.of` checks the request's shape (no edge named twice, a move changes an end);
2. the store write-locks, in sorted-id order, every node whose edges change (both ends, old and
   new) and only then reads what `plan_edge_changes` decides on (`EdgeFacts`): the nodes, the
   named edges as stored, the single upstreams of the new sources, the users of exclusive ports
   and the VC-12 slots held of sections a moved route lands on;
3. `plan_edge_changes` refuses a missing node or edge (NotFound / EdgeNotFound), an edge the
   model's rules refuse, a second upstream once the change is made (ValidationFailed), a port
   taken by someone else (PortInUse naming the port and its user) or a slot held twice; every
   check sees the graph *after* the change (removed edges gone, moved ones at their new ends),
   so swapping two ONTs between two outputs in one request is allowed;
4. with an acknowledgement, the riders of the sources of failure edges removed or moved (old
   and new source) must be acknowledged (`impact.check`): they are what the change affects;
5. the edges are deleted and created and history entered at every end (`history.edge_moved`,
   `EDGE_REMOVED`), with actor and reason, in the same transaction.

Re-pointing a move back (`EdgeMove.back`) restores the graph exactly: properties travel with the
edge, and nothing else is touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from pboss.inventory import history
from pboss.inventory.catalog import Catalog
from pboss.inventory.errors import Issue, NotFound, PortInUse, ValidationFailed
from pboss.inventory.model import EDGE_RULES, FAILURE_EDGES, SINGLE_UPSTREAM, Edge
from pboss.inventory.results import ChangeRecord
from pboss.inventory.rules import (
    PORT_EDGE_TYPES,
    Known,
    is_port_edge,
    plan_batch,
    port_clashes,
    slot_clashes,
)
from pboss.inventory.undo import EdgeKey

#: How many edges (removals plus moves) one request may change.
MAX_EDGE_CHANGES = 1000
#: Edge types whose target's VC-12 slots a moved edge may hold.
SLOT_TYPES = frozenset({"ROUTED_OVER", "HOLDS"})


def label(key: EdgeKey) -> str:
    """An edge's key as messages show it: `FED_BY('ONT-1' -> 'SPL-JZ-2A:1')`."""
    return f"{key[0]}({key[1]!r} -> {key[2]!r})"


class EdgeNotFound(NotFound):
    """No edge of this type joins these two nodes (both of which exist)."""

    def __init__(self, key: EdgeKey):
        self.key = key
        super().__init__(label(key), "edge")
        self.args = (f"edge {label(key)} not found",)

    def __str__(self) -> str:
        return f"edge {label(self.key)} not found"


@dataclass(frozen=True, slots=True)
class EdgeMove:
    """Re-point the edge (type, src, dst) to `new_src` and/or `new_dst` (None: that end stays),
    keeping its properties, or with new `seq` / `slots` (a route moved to another section)."""

    type: str
    src: str
    dst: str
    new_src: str | None = None
    new_dst: str | None = None
    seq: int | None = None
    slots: tuple[int, ...] | None = None

    @property
    def key(self) -> EdgeKey:
        """The edge as it is now."""
        return (self.type, self.src, self.dst)

    @property
    def target(self) -> EdgeKey:
        """The edge as it will be."""
        return (self.type, self.new_src or self.src, self.new_dst or self.dst)

    def moved(self, edge: Edge) -> Edge:
        """The stored edge at its new ends, with the new seq or slots when given."""
        update: dict[str, Any] = {"src": self.target[1], "dst": self.target[2]}
        if self.seq is not None:
            update["seq"] = self.seq
        if self.slots is not None:
            update["slots"] = list(self.slots)
        return Edge.model_validate({**edge.model_dump(), **update})

    def back(self, before: Edge) -> EdgeMove:
        """The move that puts the edge back where, and as, it was (`before`)."""
        return EdgeMove(
            self.type,
            self.target[1],
            self.target[2],
            new_src=before.src if before.src != self.target[1] else None,
            new_dst=before.dst if before.dst != self.target[2] else None,
            seq=before.seq if self.seq is not None else None,
            slots=tuple(before.slots or ()) if self.slots is not None else None,
        )


class EdgeMoved(BaseModel):
    """One re-pointed edge: as it was and as it is."""

    before: Edge
    after: Edge


class EdgeChanges(BaseModel):
    """What one edge-change request did: the edges deleted, those moved, the history entered."""

    removed: list[Edge] = Field(default_factory=list)
    moved: list[EdgeMoved] = Field(default_factory=list)
    history: list[ChangeRecord] = Field(default_factory=list)


@dataclass(frozen=True)
class EdgeRequest:
    """A checked request: edges to delete and edges to move, none named twice."""

    removals: tuple[EdgeKey, ...]
    moves: tuple[EdgeMove, ...]

    @classmethod
    def of(cls, removals: Sequence[EdgeKey], moves: Sequence[EdgeMove]) -> EdgeRequest:
        """Check the request's shape (ValidationFailed, nothing read yet)."""
        issues: list[Issue] = []
        if not removals and not moves:
            issues.append(Issue("edges", "name at least one edge to delete or move"))
        if len(removals) + len(moves) > MAX_EDGE_CHANGES:
            issues.append(Issue("edges", f"at most {MAX_EDGE_CHANGES} edge changes per call"))
        seen: set[EdgeKey] = set()
        keys = [(tuple(k), i, "removal") for i, k in enumerate(removals)]
        keys += [(m.key, i, "move") for i, m in enumerate(moves)]
        for key, i, what in keys:
            if len(key) != 3 or key[0] not in EDGE_RULES or not key[1] or not key[2]:
                issues.append(Issue(f"{what} {key!r}", "not an edge (type, src, dst)", None, i))
                continue
            if key in seen:
                issues.append(Issue(f"edge {label(key)}", "named twice in this request", None, i))
            seen.add(key)  # type: ignore[arg-type]
        for i, m in enumerate(moves):
            if m.target == m.key:
                why = "a move names a new src or a new dst (use upsert to change properties)"
                issues.append(Issue(f"edge {label(m.key)}", why, None, i))
        if issues:
            raise ValidationFailed(issues)
        return cls(tuple(tuple(k) for k in removals), tuple(moves))  # type: ignore[misc]

    @property
    def keys(self) -> list[EdgeKey]:
        """Every edge the request names, as it is and as moves will make it (to read them)."""
        return sorted(set(self.removals) | {m.key for m in self.moves} | self.targets)

    @property
    def targets(self) -> set[EdgeKey]:
        """The edges the moves create."""
        return {m.target for m in self.moves}

    @property
    def node_ids(self) -> list[str]:
        """Every node whose edges change: both ends of every edge, old and new; the store
        write-locks these, in this (sorted) order, before reading anything."""
        return sorted({i for k in self.keys for i in k[1:]})

    @property
    def single_sources(self) -> list[str]:
        """Sources of moved single-upstream edges (their upstreams are read to check one)."""
        return sorted({m.target[1] for m in self.moves if m.type in SINGLE_UPSTREAM})

    @property
    def ports(self) -> list[str]:
        """Targets a move may make busy (exclusive ports: their users are read)."""
        return sorted({m.target[2] for m in self.moves if m.type in PORT_EDGE_TYPES})

    @property
    def pools(self) -> list[str]:
        """Targets of moved slot-holding edges (the slots held there are read)."""
        return sorted({m.target[2] for m in self.moves if m.type in SLOT_TYPES})

    @property
    def action(self) -> str:
        """How an impact refusal names the change."""
        if self.moves and self.removals:
            return "edge re-point and delete"
        return "edge re-point" if self.moves else "edge delete"

    @property
    def impact_ids(self) -> list[str]:
        """The sources of failure edges removed or moved (old and new): their riders are what
        the change affects, so they are what an acknowledgement must cover."""
        out = {k[1] for k in self.removals if k[0] in FAILURE_EDGES}
        for m in self.moves:
            if m.type in FAILURE_EDGES:
                out |= {m.src, m.target[1]}
        return sorted(out)


@dataclass
class EdgeFacts:
    """What a store read, under the request's locks, for `plan_edge_changes`."""

    #: every node the request names that exists (what planning reads of it: kind, stage, ...)
    nodes: Mapping[str, Known]
    #: the stored properties of the named edges (as they are, and as moves will make them)
    edges: Mapping[EdgeKey, dict[str, Any]]
    #: single-upstream edges stored from the new sources: (type, src) -> dst
    upstreams: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: the (edge type, source) pairs taking each port a move lands on
    port_users: Mapping[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: the slot holdings (edge type, holder, slots) of each section a moved route lands on
    holdings: Mapping[str, list[tuple[str, str, list[int]]]] = field(default_factory=dict)


@dataclass
class EdgePlan:
    """What to write: edges to delete, edges to create, and the history entries (unstamped)."""

    removed: list[Edge]
    moved: list[EdgeMoved]
    entries: list[ChangeRecord]

    @property
    def deletes(self) -> list[Edge]:
        """Every stored edge the change deletes (removed, and moved from)."""
        return self.removed + [m.before for m in self.moved]

    @property
    def creates(self) -> list[Edge]:
        """Every edge the change creates (moved to)."""
        return [m.after for m in self.moved]

    def result(self, entries: Sequence[ChangeRecord]) -> EdgeChanges:
        """The answer, with the history as entered."""
        return EdgeChanges(removed=self.removed, moved=self.moved, history=list(entries))


def onto_existing(
    moves: Sequence[tuple[Edge, Edge]], stored: set[EdgeKey], removed: set[EdgeKey]
) -> None:
    """Refuse (ValidationFailed) re-points onto an edge that is stored and stays: a move would
    silently merge two edges into one (a unit of work's `repoint`, checked at its commit)."""
    issues = [
        Issue(f"edge {label(after.key)}", "that edge exists already")  # type: ignore[arg-type]
        for _, after in moves
        if after.key in stored and after.key not in removed
    ]
    if issues:
        raise ValidationFailed(issues)


def plan_edge_changes(
    request: EdgeRequest, facts: EdgeFacts, catalog: Catalog | None = None
) -> EdgePlan:
    """Validate a request against what the store holds (see the module docstring), or raise:
    NotFound (a node), EdgeNotFound (an edge), ValidationFailed (rules), PortInUse."""
    for node_id in request.node_ids:
        if node_id not in facts.nodes:
            raise NotFound(node_id)
    for key in [*request.removals, *(m.key for m in request.moves)]:
        if key not in facts.edges:
            raise EdgeNotFound(key)
    removed = [Edge.from_props(k[0], k[1], k[2], facts.edges[k]) for k in request.removals]
    moved = []
    issues: list[Issue] = []
    for i, m in enumerate(request.moves):
        before = Edge.from_props(m.type, m.src, m.dst, facts.edges[m.key])
        try:
            moved.append(EdgeMoved(before=before, after=m.moved(before)))
        except ValueError as exc:
            issues.append(Issue(f"edge {label(m.target)}", str(exc).splitlines()[0], None, i))
    gone = set(request.removals) | {m.key for m in request.moves}
    for i, m in enumerate(request.moves):
        if m.target in facts.edges and m.target not in gone:
            issues.append(Issue(f"edge {label(m.target)}", "that edge exists already", None, i))
    if issues:
        raise ValidationFailed(issues)
    upstreams = {(t, s): d for (t, s), d in facts.upstreams.items() if (t, s, d) not in gone}
    new_edges = [m.after for m in moved]
    plan_batch([], new_edges, facts.nodes, {}, catalog, upstreams)  # model, rules, one upstream
    _check_ports(new_edges, facts, gone)
    _check_slots(new_edges, facts, gone)
    entries: list[ChangeRecord] = []
    for e in removed:
        kind = history.ChangeKind.EDGE_REMOVED
        entries += history.edge_entries(kind, e.type, e.src, e.dst, e.props(), None)
    for mv in moved:
        entries += history.edge_moved(mv.before, mv.after)
    return EdgePlan(removed=removed, moved=moved, entries=entries)


def _check_ports(new_edges: list[Edge], facts: EdgeFacts, gone: set[EdgeKey]) -> None:
    """PortInUse when a moved edge lands on an exclusive port someone else still uses or holds
    once the change is made (edges the request removes or moves away no longer count)."""
    issues: list[Issue] = []
    mine = [e for e in new_edges if is_port_edge(e)]
    for port_id in sorted({e.dst for e in mine}):
        stayed = [
            (t, s) for t, s in facts.port_users.get(port_id, []) if (t, s, port_id) not in gone
        ]
        newcomers = [(e.type, e.src) for e in mine if e.dst == port_id]
        issues += port_clashes(facts.nodes[port_id], stayed + newcomers, newcomers)
    if issues:
        raise PortInUse(issues)


def _check_slots(new_edges: list[Edge], facts: EdgeFacts, gone: set[EdgeKey]) -> None:
    """ValidationFailed when a moved route holds a VC-12 slot of its new section that another
    holder keeps, or one beyond the section's capacity."""
    mine = [e for e in new_edges if e.type in SLOT_TYPES and e.slots]
    issues: list[Issue] = []
    for pool_id in sorted({e.dst for e in mine}):
        held = [
            (holder, list(slots or []))
            for etype, holder, slots in facts.holdings.get(pool_id, [])
            if (etype, holder, pool_id) not in gone
        ]
        held += [(e.src, list(e.slots or [])) for e in mine if e.dst == pool_id]
        newcomers = {e.src for e in mine if e.dst == pool_id}
        issues += slot_clashes(facts.nodes[pool_id], held, newcomers)  # type: ignore[arg-type]
    if issues:
        raise ValidationFailed(issues)
