"""Validation of a write batch against the model, the catalog and what the store already holds.

Both stores call `plan_batch` inside their write transaction with the existing elements the batch
refers to; it raises ValidationFailed listing every issue (so the batch writes nothing) or returns
exactly what to write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.errors import Issue, ValidationFailed
from pboss.inventory.lifecycle import allowed
from pboss.inventory.model import SELF, SINGLE_UPSTREAM, Edge, Element, edge_rule_issue
from pboss.inventory.results import UpsertResult
from pboss.inventory.transaction import BUSY_BY

#: An edge the store already holds from a source over a single-upstream type: (type, src) -> dst.
Upstreams = Mapping[tuple[str, str], str]


@dataclass(frozen=True, slots=True)
class Ref:
    """An element the batch only refers to: exactly what planning reads of it (cheap to build)."""

    id: str
    kind: str
    stage: int | None = None
    capacity_vc12: int | None = None


#: What planning knows of a stored element: all of it for the batch's own ids, a Ref for the rest.
Known = Element | Ref


@dataclass
class StatusChange:
    """A status change an upsert makes to an element that already existed."""

    element_id: str
    from_status: str
    to_status: str


@dataclass
class BatchPlan:
    """What a validated batch writes, and what it leaves as it is."""

    nodes_new: list[Element] = field(default_factory=list)
    nodes_changed: list[Element] = field(default_factory=list)
    nodes_unchanged: int = 0
    edges_new: list[Edge] = field(default_factory=list)
    edges_changed: list[Edge] = field(default_factory=list)
    edges_unchanged: int = 0
    status_changes: list[StatusChange] = field(default_factory=list)

    @property
    def slot_edges(self) -> list[Edge]:
        """The written edges that hold VC-12 slots (circuits' routes and provisioning holds)."""
        return [e for e in self.edges_new + self.edges_changed if is_slot_edge(e)]

    @property
    def port_edges(self) -> list[Edge]:
        """The written edges that may take an exclusive port (`is_port_edge`)."""
        return [e for e in self.edges_new + self.edges_changed if is_port_edge(e)]

    def port_newcomers(self) -> dict[str, list[tuple[str, str]]]:
        """The (edge type, source) pairs the batch brings to each port it may take, by port."""
        return newcomers_by_port(self.port_edges)

    @property
    def pool_targets(self) -> set[str]:
        """Ids of trunk sections and partner links whose slot use the batch changes."""
        return {e.dst for e in self.slot_edges}

    def result(self) -> UpsertResult:
        """The counts a store reports for this batch."""
        return UpsertResult(
            nodes_added=len(self.nodes_new),
            nodes_updated=len(self.nodes_changed),
            nodes_unchanged=self.nodes_unchanged,
            edges_added=len(self.edges_new),
            edges_updated=len(self.edges_changed),
            edges_unchanged=self.edges_unchanged,
        )


def is_slot_edge(edge: Edge) -> bool:
    """True for an edge that holds VC-12 slots of a trunk section or partner link."""
    return edge.type in ("ROUTED_OVER", "HOLDS") and bool(edge.slots)


#: Edge types that may make a port busy, whatever its kind (`transaction.BUSY_BY`).
PORT_EDGE_TYPES = frozenset().union(*BUSY_BY.values())


def is_port_edge(edge: Edge) -> bool:
    """True for an edge that takes a port if its target is an exclusive one (a splitter output,
    an NE port): checked beside `plan_batch` by `port_clashes`."""
    return edge.type in PORT_EDGE_TYPES


def newcomers_by_port(edges: Iterable[Edge]) -> dict[str, list[tuple[str, str]]]:
    """The (edge type, source) pairs these edges bring to each target that may be a port."""
    out: dict[str, list[tuple[str, str]]] = {}
    for e in edges:
        if is_port_edge(e):
            out.setdefault(e.dst, []).append((e.type, e.src))
    return out


def single_upstream_sources(edges: Sequence[Edge]) -> list[str]:
    """Sources of edges whose type allows one target per source (a port is part of one NE)."""
    return sorted({e.src for e in edges if e.type in SINGLE_UPSTREAM})


def referenced_ids(nodes: Sequence[Element], edges: Sequence[Edge]) -> set[str]:
    """Every id the batch touches or refers to, so a store can fetch them in one read."""
    ids = {n.id for n in nodes}
    for n in nodes:
        if n.site:
            ids.add(n.site)
        if n.owner != SELF:
            ids.add(n.owner)
    for e in edges:
        ids.add(e.src)
        ids.add(e.dst)
    return ids


def _check_edge_semantics(edge: Edge, src: Known, dst: Known) -> str | None:
    if edge.type == "FED_BY" and src.kind == "Splitter":
        want = 1 if dst.kind == "PonPort" else 2
        if getattr(src, "stage", want) != want:
            return (
                f"a stage-{src.stage} splitter cannot be fed by a {dst.kind} (needs stage {want})"
            )
    if edge.type == "ROUTED_OVER" and edge.slots:
        capacity = getattr(dst, "capacity_vc12", 0)
        bad = [s for s in edge.slots if s < 1 or s > capacity]
        if bad:
            return f"VC-12 slots {bad} outside 1..{capacity} of {dst.id!r}"
        if len(set(edge.slots)) != len(edge.slots):
            return "the same VC-12 slot is listed twice"
    return None


def plan_batch(
    nodes: Sequence[Element],
    edges: Sequence[Edge],
    existing: Mapping[str, Known],
    existing_edges: Mapping[tuple[str, str, str], dict[str, Any]],
    catalog: Catalog | None = None,
    upstreams: Upstreams | None = None,
) -> BatchPlan:
    """Validate a batch and split it into new, changed and unchanged parts (raises on any issue).

    The caller's nodes are not changed: a node whose spec fills in characteristics is copied first.
    """
    catalog = catalog or default_catalog()
    issues: list[Issue] = []
    batch: dict[str, Element] = {}
    position: dict[str, int] = {}
    for i, node in enumerate(nodes):
        item = f"{node.kind} {node.id!r}"
        if node.spec is not None:
            node = node.model_copy(update={"attrs": dict(node.attrs)})
            issues += catalog.apply_spec(node, i)
        prior = batch.get(node.id) or existing.get(node.id)
        if prior is not None and prior.kind != node.kind:
            where = "in this batch" if node.id in batch else "in the store"
            reason = f"id already used by a {prior.kind} {where}"
            issues.append(Issue(item, reason, "id", i))
            continue
        batch[node.id] = node
        position[node.id] = i

    def lookup(element_id: str) -> Known | None:
        return batch.get(element_id) or existing.get(element_id)

    plan = BatchPlan()
    for node in batch.values():
        i = position[node.id]
        item = f"{node.kind} {node.id!r}"
        if node.site is not None:
            site = lookup(node.site)
            if site is None or site.kind != "Site":
                what = "no such site" if site is None else f"{node.site!r} is a {site.kind}"
                issues.append(Issue(item, f"unknown site {node.site!r} ({what})", "site", i))
        if node.owner != SELF:
            partner = lookup(node.owner)
            if partner is None or partner.kind != "Partner":
                reason = f"owner must be 'self' or a Partner id; {node.owner!r} is not"
                issues.append(Issue(item, reason, "owner", i))
        old = existing.get(node.id)
        assert not isinstance(old, Ref), "stores fetch the batch's own nodes whole"
        if old is None:
            plan.nodes_new.append(node)
        elif old.props() == node.props():
            plan.nodes_unchanged += 1
        else:
            if old.status != node.status:
                if not allowed(old.status, node.status):
                    reason = f"status cannot change from {old.status!r} to {node.status!r}"
                    issues.append(Issue(item, reason, "status", i))
                plan.status_changes.append(StatusChange(node.id, old.status, node.status))
            plan.nodes_changed.append(node)

    seen_edges: set[tuple[str, str, str]] = set()
    upstream_of: dict[tuple[str, str], str] = dict(upstreams or {})
    for i, edge in enumerate(edges):
        item = f"edge {edge.label()}"
        src, dst = lookup(edge.src), lookup(edge.dst)
        missing = [
            f"{end} {eid!r}"
            for end, eid, el in (("src", edge.src, src), ("dst", edge.dst, dst))
            if el is None
        ]
        if missing:
            issues.append(Issue(item, f"edge to a missing node: {', '.join(missing)}", None, i))
            continue
        assert src is not None and dst is not None
        why = edge_rule_issue(edge, src.kind, dst.kind) or _check_edge_semantics(edge, src, dst)
        if why:
            issues.append(Issue(item, why, None, i))
            continue
        if edge.key in seen_edges:
            issues.append(Issue(item, "the same edge appears twice in the batch", None, i))
            continue
        seen_edges.add(edge.key)
        if edge.type in SINGLE_UPSTREAM:
            other = upstream_of.setdefault((edge.type, edge.src), edge.dst)
            if other != edge.dst:
                reason = (
                    f"{edge.src!r} already has {edge.type} {other!r}; an element has one "
                    f"{edge.type} target"
                )
                issues.append(Issue(item, reason, None, i))
                continue
        old_props = existing_edges.get(edge.key)
        if old_props is None:
            plan.edges_new.append(edge)
        elif old_props == edge.props():
            plan.edges_unchanged += 1
        else:
            plan.edges_changed.append(edge)
    if issues:
        raise ValidationFailed(issues)
    return plan


def slot_clashes(
    section: Element, holdings: Iterable[tuple[str, list[int]]], newcomers: set[str] | None = None
) -> list[Issue]:
    """Issues for VC-12 slots of one section held twice or out of range (newcomers are blamed)."""
    fresh = newcomers or set()
    owner_of: dict[int, str] = {}
    issues = []
    capacity = getattr(section, "capacity_vc12", 0)
    for holder, slots in sorted(holdings, key=lambda h: (h[0] in fresh, h[0])):
        for slot in slots:
            if slot < 1 or slot > capacity:
                reason = f"VC-12 slot {slot} outside 1..{capacity}"
                issues.append(Issue(f"{section.kind} {section.id!r}", reason, "slots"))
            elif slot in owner_of and owner_of[slot] != holder:
                reason = (
                    f"VC-12 slot {slot} already held by {owner_of[slot]!r}, not free for {holder!r}"
                )
                issues.append(Issue(f"{section.kind} {section.id!r}", reason, "slots"))
            else:
                owner_of[slot] = holder
    return issues


def port_clashes(
    port: Known, users: Iterable[tuple[str, str]], newcomers: Iterable[tuple[str, str]] = ()
) -> list[Issue]:
    """Issues for an exclusive port given a second user: `users` are the (edge type, source)
    pairs arriving at it once the batch is written; one that was there before (not a newcomer)
    keeps the port and each other is refused, naming the port and who uses or holds it."""
    types = BUSY_BY.get(port.kind)
    if not types:
        return []
    fresh = set(newcomers)
    taking = sorted({u for u in users if u[0] in types}, key=lambda u: (u in fresh, u[1], u[0]))
    if len(taking) < 2:
        return []
    (first_type, first), item = taking[0], f"{port.kind} {port.id!r}"
    held = f"already {'held' if first_type == 'HOLDS' else 'used'} by {first!r} ({first_type})"
    return [Issue(item, f"{held}, not free for {src!r} ({t})", "port") for t, src in taking[1:]]
