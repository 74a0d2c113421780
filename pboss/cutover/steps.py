"""The transactional steps of a cutover plan: state changes (approve, schedule, cancel), execute
and roll back. Each is one transaction's work against `GraphTx`: lock the plan, then what it
moves and where, in sorted-id order; re-check every assumption; then write, and emit the event.

Execution re-checks after locking that every rider is still where the plan found it and every
target still free for the plan (healthy, its slots free), and refuses with the reasons, writing
nothing, when one broke. It records the edges before and after on the plan; rollback replays the
recorded before-state (each moved edge re-pointed back, each added one removed, each removed one
put back), so the graph is exactly the pre-cutover one.
"""

from __future__ import annotations

import json
from datetime import datetime

from pboss.cutover.errors import AssumptionBroken, InvalidTransition, PlanNotFound
from pboss.cutover.events import CUTOVER_EVENT_TYPES, plan_event
from pboss.cutover.model import TRANSITIONS, CutoverPlan, HistoryEntry, PlanState, Step
from pboss.cutover.plans import check_riders, check_targets, stored_edges
from pboss.inventory.model import Edge
from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import GraphTx

P = PlanState


def locked_plan(tx: GraphTx, plan_id: str) -> CutoverPlan:
    """Lock the plan and return it; PlanNotFound when there is none."""
    plan = tx.lock([plan_id]).get(plan_id)
    if not isinstance(plan, CutoverPlan):
        raise PlanNotFound(plan_id)
    return plan


def moved(
    plan: CutoverPlan,
    to: PlanState,
    *,
    actor: str,
    now: datetime,
    note: str = "",
    event: str | None = None,
) -> CutoverPlan:
    """A copy of the plan moved to `to` (the transition table must allow it), with history."""
    state = P(plan.state)
    if to not in TRANSITIONS[state]:
        allowed = ", ".join(sorted(TRANSITIONS[state])) or "nothing (final)"
        raise InvalidTransition(f"plan {plan.id} is {state}", [f"it may become {allowed}"])
    new = plan.model_copy(deep=True)
    new.state = to
    new.updated_at = now
    entry = HistoryEntry(at=now, event=event or str(to), state=str(to), actor=actor, note=note)
    new.history = [*plan.history, entry.dumps()]
    return new


def _emit(tx: GraphTx, plan: CutoverPlan, event: str, now: datetime) -> None:
    if event in CUTOVER_EVENT_TYPES:
        tx.emit(plan_event(plan, event, now, len(plan.history)))


def transition(
    tx: GraphTx,
    *,
    plan_id: str,
    to: PlanState,
    actor: str,
    now: datetime,
    note: str = "",
    lapsed_only: bool = False,
) -> CutoverPlan:
    """Approve or schedule a plan (emitting its event); cancel one, releasing its holds.

    Scheduling re-checks that the window has not already ended; with `lapsed_only` (the
    sweeper) a cancel happens only if the window has ended, re-read under the plan's lock."""
    plan = locked_plan(tx, plan_id)
    if P(plan.state) == to:
        return plan
    if lapsed_only and (to != P.CANCELLED or utc(plan.window_end) > utc(now)):
        return plan  # the sweeper's call on a plan whose window moved meanwhile
    if to == P.SCHEDULED and utc(plan.window_end) <= utc(now):
        raise InvalidTransition(f"plan {plan.id}'s window ended", [plan.window_end.isoformat()])
    holds = tx.linked(plan.id, "HOLDS", "out") if to == P.CANCELLED else []
    new = moved(plan, to, actor=actor, now=now, note=note)
    for edge, _ in holds:
        tx.unlink("HOLDS", edge.src, edge.dst)
    if to == P.CANCELLED:
        new.holds = []
    tx.put(new)
    _emit(tx, new, str(to), now)
    return new


def execute(
    tx: GraphTx, *, plan_id: str, actor: str, now: datetime, first: int | None = None
) -> CutoverPlan:
    """Execute a scheduled plan inside its window: all its moves in this one transaction, or
    (with `first`) the next `first` riders' moves, a batch that leaves the graph consistent
    (each rider's steps go together: a circuit's whole new route, an ONT's one re-point).

    Locks the plan, then every rider, source and target of the batch in sorted-id order, and
    re-checks: AssumptionBroken (writing nothing) names every rider no longer where it was and
    every target no longer free for the plan. Then the batch's holds are released and its steps
    applied, the edges before and after recorded on the plan; the plan is inProgress until its
    last batch completes it."""
    plan = locked_plan(tx, plan_id)
    state = P(plan.state)
    if state not in (P.SCHEDULED, P.IN_PROGRESS):
        raise InvalidTransition(f"plan {plan.id} is {state}", ["only a scheduled plan executes"])
    if not utc(plan.window_start) <= utc(now) < utc(plan.window_end):
        raise InvalidTransition(
            f"plan {plan.id} executes only in its window",
            [f"{utc(plan.window_start).isoformat()} to {utc(plan.window_end).isoformat()}"],
        )
    end = len(plan.riders) if first is None else min(len(plan.riders), plan.done_riders + first)
    batch = set(plan.riders[plan.done_riders : end])
    steps = [s for s in plan.step_list() if s.rider in batch]
    holds = tx.linked(plan.id, "HOLDS", "out")
    targets = {s.new_dst for s in steps if s.new_dst} | {s.dst for s in steps if s.op == "add"}
    ids = {s.src for s in steps} | {s.dst for s in steps} | targets
    _, facts = tx.claim(sorted(ids))
    held = {e.dst: e for e, _ in holds}
    reasons = [f"the plan no longer holds {t}" for t in sorted(targets) if t not in held]
    wanted = [
        Edge(type="HOLDS", src=plan.id, dst=str(s.new_dst or s.dst), slots=s.slots)
        for s in steps
        if s.op in ("move", "add")
    ]
    reasons += check_targets(tx, wanted, facts, holder=plan.id, held=frozenset(held))
    stored = stored_edges(tx, steps)
    reasons += check_riders(tx, steps, stored)
    current = {(e.type, e.src, e.dst): e for edges in stored.values() for e in edges}
    if reasons:
        raise AssumptionBroken(f"plan {plan.id} cannot execute", reasons)
    _release(tx, held, steps, everything=end == len(plan.riders))
    before, after = _apply(tx, steps, current)
    new = plan
    if state == P.SCHEDULED:
        new = moved(plan, P.IN_PROGRESS, actor=actor, now=now, event="started")
    new = new.model_copy(deep=True)
    new.done_riders = end
    new.before = _edges_json([*plan.recorded("before"), *before])
    new.after = _edges_json([*plan.recorded("after"), *after])
    if end < len(plan.riders):
        note = f"{end} of {len(plan.riders)} riders moved"
        new.history = [*new.history, _entry(now, "batch", P.IN_PROGRESS, actor, note)]
        tx.put(new)
        return new
    done = moved(new, P.COMPLETED, actor=actor, now=now, note=f"{len(plan.riders)} riders moved")
    done.holds = []
    tx.put(done)
    _emit(tx, done, "completed", now)
    return done


def _entry(now: datetime, event: str, state: PlanState, actor: str, note: str) -> str:
    return HistoryEntry(at=now, event=event, state=str(state), actor=actor, note=note).dumps()


def _release(tx: GraphTx, held: dict[str, Edge], steps: list[Step], *, everything: bool) -> None:
    """Give up the holds a batch's steps take: an exclusive target's hold goes; a section's
    hold keeps the slots later batches still need (all goes with the last batch)."""
    if everything:
        for edge in held.values():
            tx.unlink("HOLDS", edge.src, edge.dst)
        return
    taken: dict[str, set[int]] = {}
    for s in steps:
        if s.op == "move" and s.new_dst in held:
            taken[str(s.new_dst)] = set()
        elif s.op == "add" and s.dst in held:
            taken.setdefault(s.dst, set()).update(s.slots or [])
    for dst, slots in sorted(taken.items()):
        edge = held[dst]
        left = sorted(set(edge.slots or []) - slots)
        if left:
            tx.link(edge.model_copy(update={"slots": left}))
        else:
            tx.unlink("HOLDS", edge.src, edge.dst)


def _apply(
    tx: GraphTx, steps: list[Step], current: dict[tuple[str, str, str], Edge]
) -> tuple[list[Edge], list[Edge]]:
    """Apply steps; the edges they found and the edges they made."""
    before: list[Edge] = []
    after: list[Edge] = []
    for s in steps:
        if s.op == "move":
            edge = current[(s.type, s.src, s.dst)]
            before.append(edge)
            after.append(tx.repoint(edge, dst=s.new_dst))
        elif s.op == "remove":
            edge = current[(s.type, s.src, s.dst)]
            before.append(edge)
            tx.unlink(s.type, s.src, s.dst)
        elif s.op == "update":
            edge = current[(s.type, s.src, s.dst)]
            before.append(edge)
            new_edge = edge.model_copy(update={"seq": s.seq})
            tx.link(new_edge)
            after.append(new_edge)
        else:
            edge = s.edge()
            tx.link(edge)
            after.append(edge)
    return before, after


def rollback(
    tx: GraphTx, *, plan_id: str, actor: str, now: datetime, note: str = ""
) -> CutoverPlan:
    """Put back the pre-cutover graph of a completed plan: every edge it moved re-pointed back,
    every edge it added removed and every edge it removed re-created, as recorded. Refused
    (AssumptionBroken, nothing written) when an edge it recorded changed since, or a source it
    would return to was taken meanwhile."""
    plan = locked_plan(tx, plan_id)
    state = P(plan.state)
    if state not in (P.COMPLETED, P.IN_PROGRESS):
        raise InvalidTransition(
            f"plan {plan.id} is {state}", ["only an executed (or partly executed) plan rolls back"]
        )
    steps = plan.done_steps()
    holds = tx.linked(plan.id, "HOLDS", "out")
    ids = {s.src for s in steps} | {s.dst for s in steps} | {s.new_dst for s in steps if s.new_dst}
    _, facts = tx.claim(sorted(ids))
    reasons: list[str] = []
    now_edges: dict[tuple[str, str, str], Edge] = {}
    for s in steps:
        if s.op == "remove":
            continue
        dst = s.new_dst if s.op == "move" else s.dst
        found = [e for e, _ in tx.linked(s.src, s.type, "out") if e.dst == dst]
        if not found:
            reasons.append(f"{s.rider}: {s.type} {s.src} -> {dst} is no longer there")
        else:
            now_edges[(s.type, s.src, str(dst))] = found[0]
    for s in steps:
        if s.op == "move":
            f = facts.get(s.dst)
            users = [
                el.id
                for t in ("FED_BY", "HOLDS")
                if f is not None and t in f.incoming
                for _, el in tx.linked(s.dst, t, "in")
            ]
            if users:
                reasons.append(f"{s.dst} was taken since ({', '.join(users)})")
    if reasons:
        raise AssumptionBroken(f"plan {plan.id} cannot roll back", reasons)
    before = {(e.type, e.src, e.dst): e for e in plan.recorded("before")}
    for edge, _ in holds:  # what later batches would have taken
        tx.unlink("HOLDS", edge.src, edge.dst)
    for s in reversed(steps):
        if s.op == "move":
            tx.repoint(now_edges[(s.type, s.src, str(s.new_dst))], dst=s.dst)
        elif s.op == "add":
            tx.unlink(s.type, s.src, s.dst)
        else:  # remove, update: the edge as it was
            tx.link(before[(s.type, s.src, s.dst)])
    done = moved(plan, P.ROLLED_BACK, actor=actor, now=now, note=note)
    tx.put(done)
    _emit(tx, done, "rolledBack", now)
    return done


def record_verification(tx: GraphTx, *, plan_id: str, report: dict[str, object]) -> CutoverPlan:
    """Keep the verification report on the plan."""
    plan = locked_plan(tx, plan_id)
    new = plan.model_copy(deep=True)
    new.verification = json.dumps(report, sort_keys=True, ensure_ascii=False)
    tx.put(new)
    return new


def _edges_json(edges: list[Edge]) -> str:
    return json.dumps(
        [e.model_dump(exclude_none=True, exclude_defaults=True) | {"type": e.type} for e in edges],
        separators=(",", ":"),
    )
