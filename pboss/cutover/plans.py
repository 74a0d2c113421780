"""Describe a re-home (riders from splitter A's outputs to splitter B's) as steps over edges,
validated against the live graph, and the transaction that records the plan and holds its targets.

Planning reads the graph (`rehome_steps`); the recording transaction (`record_plan`) locks the
targets and the riders in sorted-id order and re-checks every assumption before holding, so a
concurrent order that took a target port meanwhile makes the plan refuse, writing nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pboss.cutover.errors import PlanInvalid
from pboss.cutover.model import CutoverPlan, HistoryEntry, MoveKind, Step
from pboss.inventory.model import Edge
from pboss.inventory.results import SplitterView
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import BUSY_BY, AlreadyExists, Facts, GraphTx
from pboss.provisioning.paths import USABLE

#: The placeholder source of a draft's holds (the plan's id replaces it when it is recorded).
PLAN = "<plan>"
#: What makes a PON port taken as a re-home target (a tree on it, or another plan's hold).
PON_USERS = frozenset({"FED_BY", "HOLDS"})
#: Most riders one plan may move (the bench moves a whole PON port, about 500).
MAX_RIDERS = 2000


@dataclass
class Draft:
    """A validated plan before it is recorded: its steps, what it holds, what it checks."""

    move: MoveKind
    source: str
    target: str | None
    steps: list[Step]
    holds: list[Edge]
    sites: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    pon: str | None = None
    pon_growth: int = 0
    partners_segments: list[str] = field(default_factory=list)

    @property
    def riders(self) -> list[str]:
        """What the plan moves, each once, in step order."""
        return list(dict.fromkeys(s.rider for s in self.steps))


def _index(port_id: str, store_index: int | None) -> tuple[int, str]:
    return (store_index if store_index is not None else 0, port_id)


def _outputs(store: GraphStore, splitter: str) -> list[tuple[str, int | None, str]]:
    """(port id, index, status) of a splitter's outputs, by index; a PON port is its own."""
    el = store.get(splitter)
    if el is not None and el.kind == "PonPort":
        return [(el.id, None, str(el.status))]
    ports = [el for _, el in store.neighbours(splitter, "in", ["PART_OF"])]
    rows = [(p.id, getattr(p, "index", None), str(p.status)) for p in ports]
    return sorted(rows, key=lambda r: _index(r[0], r[1]))


#: What a re-home moves riders between: splitters (their outputs), or PON ports (a whole tree).
FEEDERS = ("Splitter", "PonPort")


def _feeder(store: GraphStore, feeder_id: str, role: str) -> str:
    el = store.get(feeder_id)
    if el is None or el.kind not in FEEDERS:
        raise PlanInvalid(
            f"{role} {feeder_id!r} is not a splitter or PON port",
            [f"no Splitter or PonPort {feeder_id!r}"],
        )
    return el.kind


def _ont_count(store: GraphStore, rider_id: str, kind: str) -> int:
    """How many ONTs hang below a rider (itself when an ONT): what it adds to a PON's load."""
    if kind == "ONT":
        return 1
    total, frontier = 0, [rider_id]
    while frontier:
        ports = store.neighbours_many(frontier, "in", ["PART_OF"])
        port_ids = [el.id for pairs in ports.values() for _, el in pairs]
        fed = store.neighbours_many(port_ids, "in", ["FED_BY"]) if port_ids else {}
        frontier = []
        for pairs in fed.values():
            for _, el in pairs:
                if el.kind == "ONT":
                    total += 1
                elif el.kind == "Splitter":
                    frontier.append(el.id)
    return total


def rehome_steps(
    store: GraphStore,
    source: str,
    target: str,
    mapping: Mapping[str, str] | None = None,
) -> Draft:
    """Steps moving riders of splitter `source`'s outputs to `target`'s (or the tree of PON port
    `source` onto the free PON port `target`): `mapping` (rider id -> target output) as given,
    or, when None, every rider in output order onto the target's free outputs in index order.
    PlanInvalid lists every reason the move does not fit (targets taken or unhealthy, the
    target chain unhealthy, the target PON's split budget)."""
    kinds = {_feeder(store, source, "source"), _feeder(store, target, "target")}
    if len(kinds) > 1:
        raise PlanInvalid("source and target must both be splitters or both PON ports", [])
    if source == target:
        raise PlanInvalid("source and target are the same splitter", [source])
    a_out = _outputs(store, source)
    b_out = _outputs(store, target)
    fed = store.neighbours_many([p for p, _, _ in a_out + b_out], "in", ["FED_BY", "HOLDS"])
    riders: dict[str, tuple[str, str]] = {}  # rider -> (A's port, kind)
    rider_sites: set[str] = set()
    for port, _, _ in a_out:
        for edge, el in fed.get(port, []):
            if edge.type == "FED_BY":
                riders[el.id] = (port, el.kind)
                rider_sites.update([el.site] if el.site else [])
    b_ports = {p: status for p, _, status in b_out}
    busy = {p: [f"{e.type} from {el.id}" for e, el in fed.get(p, [])] for p in b_ports}
    free = [p for p, _, status in b_out if status == "available" and not busy[p]]
    reasons: list[str] = []
    if mapping is None:
        chosen = list(riders)
        if len(chosen) > len(free):
            reasons.append(
                f"{target} has {len(free)} free outputs, {len(chosen)} riders to move from {source}"
            )
        pairs = list(zip(chosen, free, strict=False))
    else:
        pairs = list(mapping.items())
        seen: dict[str, str] = {}
        for rider, port in pairs:
            if rider not in riders:
                reasons.append(f"{rider} is not fed by an output of {source}")
            if port not in b_ports:
                reasons.append(f"{port} is not an output of {target}")
            elif b_ports[port] != "available":
                reasons.append(f"{port} is {b_ports[port]}")
            elif busy[port]:
                reasons.append(f"{port} is taken ({', '.join(busy[port])})")
            if port in seen:
                reasons.append(f"{port} is mapped twice ({seen[port]} and {rider})")
            seen[port] = rider
    if not pairs and not reasons:
        reasons.append(f"{source} has no riders to move")
    if len(pairs) > MAX_RIDERS:
        reasons.append(f"{len(pairs)} riders; one plan moves at most {MAX_RIDERS}")
    views = _splitter_views(store, [source, target])
    b_view = views.get(target)
    if b_view is None:
        reasons.append(f"{target} is not connected to a PON port")
    else:
        chain = [b_view.splitter, *b_view.upstream]
        reasons += [f"{el.id} is {el.status}" for el in chain if str(el.status) not in USABLE]
    a_view = views.get(source)
    growth = 0
    if b_view is not None and (a_view is None or a_view.pon_port != b_view.pon_port):
        growth = sum(_ont_count(store, r, riders[r][1]) for r, _ in pairs if r in riders)
        if b_view.pon_load + growth > b_view.pon_budget:
            reasons.append(
                f"PON port {b_view.pon_port} would exceed its split budget "
                f"({b_view.pon_load} + {growth} > {b_view.pon_budget})"
            )
    if reasons:
        raise PlanInvalid(f"cannot re-home {source} to {target}", reasons)
    steps = [
        Step(op="move", rider=r, type="FED_BY", src=r, dst=riders[r][0], new_dst=p)
        for r, p in pairs
    ]
    holds = [Edge(type="HOLDS", src=PLAN, dst=p, attrs={"role": "target"}) for _, p in pairs]
    sites = sorted(rider_sites | {s for v in (a_view, b_view) if v for s in [v.splitter.site] if s})
    owned = {
        el.id: el.owner
        for v in (a_view, b_view)
        if v
        for el in [v.splitter, *v.upstream]
        if el.is_partner
    }
    partners, segments = sorted(set(owned.values())), sorted(owned)
    return Draft(
        move=MoveKind.REHOME,
        source=source,
        target=target,
        steps=steps,
        holds=holds,
        sites=sites,
        partners=partners,
        pon=b_view.pon_port if b_view and growth else None,
        pon_growth=growth,
        partners_segments=segments,
    )


def _splitter_views(store: GraphStore, splitters: Sequence[str]) -> dict[str, SplitterView]:
    """The site view's entry of each splitter (chain health, PON port, load and budget); for a
    PON port, the same shape built from it and its OLT (its load is checked under lock)."""
    out: dict[str, SplitterView] = {}
    for sid in splitters:
        el = store.get(sid)
        if el is not None and el.kind == "PonPort":
            olt = [o for _, o in store.neighbours(sid, "out", ["PART_OF"])]
            out[sid] = SplitterView(
                splitter=el, free_ports=[], busy_ports=0, upstream=olt, pon_port=sid,
                olt=olt[0].id if olt else None, pon_load=0,
                pon_budget=int(getattr(el, "max_split", 0)),
            )  # fmt: skip
            continue
        if el is None or not el.site:
            continue
        for sv in store.site_view(el.site).splitters:
            if sv.splitter.id == sid and sv.pon_port:
                out[sid] = sv
    return out


def record_plan(
    tx: GraphTx,
    *,
    plan: CutoverPlan,
    draft: Draft,
    actor: str,
    now: datetime,
) -> CutoverPlan:
    """The transaction recording a plan: lock targets and riders, re-check that every rider is
    still where the plan found it and every target still free (and the PON budget), then write
    the plan, its HOLDS on the targets and MOVES to the riders. PlanInvalid writes nothing."""
    if tx.peek([plan.id]):
        raise AlreadyExists(plan.id)
    ids = [h.dst for h in draft.holds] + draft.riders + [s.dst for s in draft.steps]
    ids += [draft.pon] if draft.pon else []
    _, facts = tx.claim(sorted(set(ids)))
    reasons = check_targets(tx, draft.holds, facts, holder=None)
    reasons += check_riders(tx, draft.steps)
    if draft.pon:
        pon = facts.get(draft.pon)
        if pon is None or (pon.load or 0) + draft.pon_growth > pon.budget:
            load = pon.load if pon else "?"
            reasons.append(
                f"PON port {draft.pon} would exceed its split budget ({load} + {draft.pon_growth})"
            )
    if reasons:
        raise PlanInvalid("the graph changed while planning", reasons)
    entry = HistoryEntry(at=now, event="planned", state=plan.state, actor=actor, note=plan.reason)
    plan.history = [entry.dumps()]
    tx.put(plan, new=True)
    for hold in draft.holds:
        tx.link(hold.model_copy(update={"src": plan.id}))
    for rider in draft.riders:
        tx.link(Edge(type="MOVES", src=plan.id, dst=rider))
    return plan


def check_targets(
    tx: GraphTx,
    holds: Sequence[Edge],
    facts: Mapping[str, Facts],
    holder: str | None,
    held: frozenset[str] = frozenset(),
) -> list[str]:
    """Why targets are no longer fit to take the riders: gone, unhealthy, or used or held by
    anyone but `holder` (the plan itself, once it holds them; `held`: the exclusive targets
    it is known to hold, read from its own edges, so they need no read of their users)."""
    reasons = []
    for hold in holds:
        f = facts.get(hold.dst)
        if f is None:
            reasons.append(f"target {hold.dst} no longer exists")
            continue
        busy_by = BUSY_BY.get(f.kind, PON_USERS if f.kind == "PonPort" else None)
        exclusive = busy_by is not None
        if (f.status != "available") if exclusive else (f.status not in USABLE):
            reasons.append(f"target {hold.dst} is {f.status}")
        taking = set(f.incoming) & busy_by if busy_by is not None else set()
        if taking == {"HOLDS"} and hold.dst in held:
            continue  # held, and one holder at most per port (rules.port_clashes): the plan
        if busy_by is not None:
            users = [
                f"{e.type} from {el.id}"
                for t in sorted(set(f.incoming) & busy_by)
                for e, el in tx.linked(hold.dst, t, "in")
                if not (t == "HOLDS" and el.id == holder)
            ]
            if users:
                reasons.append(f"target {hold.dst} is taken ({', '.join(users)})")
        elif hold.slots:
            mine = {
                s
                for e, el in (tx.linked(hold.dst, "HOLDS", "in") if holder else [])
                if el.id == holder
                for s in e.slots or []
            }
            clash = sorted(set(hold.slots) & (set(f.used_slots) - mine))
            if clash:
                reasons.append(f"VC-12 slots {clash} of {hold.dst} are taken")
    return reasons


def stored_edges(tx: GraphTx, steps: Sequence[Step]) -> dict[tuple[str, str], list[Edge]]:
    """The edges of each (source, type) the steps change, as stored now: one read each."""
    keys = sorted({(s.src, s.type) for s in steps if s.op != "add"})
    return {(src, t): [e for e, _ in tx.linked(src, t, "out")] for src, t in keys}


def check_riders(
    tx: GraphTx,
    steps: Sequence[Step],
    stored: dict[tuple[str, str], list[Edge]] | None = None,
) -> list[str]:
    """Why riders are no longer where the plan found them (a move's or removal's edge gone)."""
    now_at = stored if stored is not None else stored_edges(tx, steps)
    reasons = []
    for step in steps:
        if step.op == "add":
            continue
        now = [e.dst for e in now_at.get((step.src, step.type), [])]
        if step.dst not in now:
            where = ", ".join(now) or "nothing"
            reasons.append(
                f"{step.rider}: {step.type} {step.src} -> {step.dst} is gone (now {where})"
            )
    return reasons


def steps_json(steps: Sequence[Step]) -> str:
    """The stored form of a plan's steps."""
    return json.dumps([s.model_dump(exclude_none=True) for s in steps], separators=(",", ":"))
