"""The cutover service: plan a move, walk it through its states, execute and verify it, roll it
back. Reads happen before each transaction (planning, impact, verification); every write is one
`GraphStore.transact` of a step in steps.py or plans.py. Time comes from one injectable clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pboss.cutover.errors import PlanInvalid, PlanNotFound
from pboss.cutover.files import draft_from_rows, read_moves
from pboss.cutover.impact import Impact, impact_of
from pboss.cutover.model import HOLDING_STATES, CutoverPlan, PlanState, Step
from pboss.cutover.plans import Draft, record_plan, rehome_steps, steps_json
from pboss.cutover.reroute import reroute_steps
from pboss.cutover.steps import execute, record_verification, rollback, transition
from pboss.inventory.store import GraphStore
from pboss.inventory.timestamps import utc

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class CutoverService:
    """Cutover plans over one store, with one clock."""

    def __init__(self, store: GraphStore, clock: Clock = system_clock):
        self.store = store
        self.clock = clock

    # ---- planning -------------------------------------------------------------------------

    def plan_rehome(
        self,
        *,
        source: str,
        target: str,
        window_start: datetime,
        window_end: datetime,
        reason: str,
        actor: str,
        mapping: Mapping[str, str] | None = None,
        plan_id: str | None = None,
    ) -> CutoverPlan:
        """Plan moving riders of splitter `source` to splitter `target` (all of them in output
        order onto its free outputs, or as `mapping` says), holding the target outputs."""
        self._window(window_start, window_end)
        draft = rehome_steps(self.store, source, target, mapping)
        return self._record(draft, window_start, window_end, reason, actor, plan_id)

    def plan_reroute(
        self,
        *,
        link: str,
        window_start: datetime,
        window_end: datetime,
        reason: str,
        actor: str,
        circuits: Sequence[str] | None = None,
        self_built_only: bool | None = None,
        plan_id: str | None = None,
    ) -> CutoverPlan:
        """Plan moving circuits (all riding `link` when None) off a trunk section or partner link
        onto alternative routes with fresh VC-12 slots, holding them. Off a partner link, only
        self-built sections are used unless `self_built_only` is False."""
        self._window(window_start, window_end)
        el = self.store.get(link)
        only_own = self_built_only if self_built_only is not None else bool(el and el.is_partner)
        draft = reroute_steps(self.store, link, circuits, self_built_only=only_own)
        return self._record(draft, window_start, window_end, reason, actor, plan_id)

    def plan_file(
        self,
        path: Path,
        *,
        window_start: datetime,
        window_end: datetime,
        reason: str,
        actor: str,
        plan_id: str | None = None,
        dry_run: bool = False,
        encoding: str = "utf-8",
    ) -> tuple[Draft, Impact, CutoverPlan | None]:
        """Plan a re-home from a port-mapping file (CSV or NDJSON, `files.py`): every row checked
        at file:line:column (LoadRefused), the move as a whole like the API's (PlanInvalid). A
        dry run returns the steps and the impact and records nothing."""
        self._window(window_start, window_end)
        draft = draft_from_rows(self.store, read_moves(path, encoding=encoding), str(path))
        if dry_run:
            return draft, self.preview(draft), None
        plan = self._record(draft, window_start, window_end, reason, actor, plan_id)
        return draft, Impact.loads(plan.impact), plan

    def preview(self, draft: Draft) -> Impact:
        """The impact a draft would have, recording nothing."""
        return impact_of(self.store, draft.riders, draft.move, draft.partners_segments)

    def record_draft(
        self,
        draft: Draft,
        *,
        window_start: datetime,
        window_end: datetime,
        reason: str,
        actor: str,
        plan_id: str | None = None,
    ) -> CutoverPlan:
        """Record a plan from a validated draft (what the re-route and file planners build)."""
        self._window(window_start, window_end)
        return self._record(draft, window_start, window_end, reason, actor, plan_id)

    def _window(self, start: datetime, end: datetime) -> None:
        reasons = []
        if utc(end) <= utc(start):
            reasons.append("the window must end after it starts")
        if utc(end) <= utc(self.clock()):
            reasons.append("the window has already ended")
        if reasons:
            raise PlanInvalid("invalid maintenance window", reasons)

    def _record(
        self,
        draft: Draft,
        start: datetime,
        end: datetime,
        reason: str,
        actor: str,
        plan_id: str | None,
    ) -> CutoverPlan:
        if not reason.strip():
            raise PlanInvalid("a cutover plan needs a reason", ["reason is empty"])
        impact = self.preview(draft)
        now = self.clock()
        plan = CutoverPlan(
            id=plan_id or f"CUT-{uuid.uuid4().hex[:12].upper()}",
            name=f"{draft.move} {draft.source} -> {draft.target or 'alternative paths'}",
            move=draft.move,
            reason=reason,
            window_start=start,
            window_end=end,
            source=draft.source,
            target=draft.target,
            created_by=actor,
            created_at=now,
            updated_at=now,
            steps=steps_json(draft.steps),
            holds=[h.dst for h in draft.holds],
            riders=draft.riders,
            partners=draft.partners,
            sites=draft.sites,
            products=sorted(impact.by_product),
            impact=impact.dumps(),
        )
        return self.store.transact(
            lambda tx: record_plan(tx, plan=plan, draft=draft, actor=actor, now=now),
            actor=actor,
            reason=f"cutover plan: {reason}",
        )

    # ---- states ---------------------------------------------------------------------------

    def get(self, plan_id: str) -> CutoverPlan:
        """One plan; PlanNotFound when there is none."""
        el = self.store.get(plan_id)
        if not isinstance(el, CutoverPlan):
            raise PlanNotFound(plan_id)
        return el

    def plans(self, states: Sequence[str] | None = None) -> list[CutoverPlan]:
        """Every plan (in these states), by id."""
        raw = self.store.scan_nodes("CutoverPlan")
        ids = [r["id"] for r in raw if states is None or r.get("state") in states]
        found = self.store.get_many(ids) if ids else {}
        return [p for i in ids if isinstance(p := found.get(i), CutoverPlan)]

    def _move(self, plan_id: str, to: PlanState, actor: str, note: str) -> CutoverPlan:
        now = self.clock()
        return self.store.transact(
            lambda tx: transition(tx, plan_id=plan_id, to=to, actor=actor, now=now, note=note),
            actor=actor,
            reason=f"cutover plan {plan_id} {to}",
        )

    def approve(self, plan_id: str, *, actor: str, note: str = "") -> CutoverPlan:
        """Approve a draft: CRM (and partners whose resources it touches) hear of it."""
        return self._move(plan_id, PlanState.APPROVED, actor, note)

    def schedule(self, plan_id: str, *, actor: str, note: str = "") -> CutoverPlan:
        """Schedule an approved plan for its window."""
        return self._move(plan_id, PlanState.SCHEDULED, actor, note)

    def cancel(self, plan_id: str, *, actor: str, note: str = "") -> CutoverPlan:
        """Cancel a plan not yet executed, releasing what it holds."""
        return self._move(plan_id, PlanState.CANCELLED, actor, note)

    def expire_lapsed(self, *, limit: int = 100) -> list[CutoverPlan]:
        """Cancel the plans whose window ended before they were executed, releasing their holds
        (what a sweeper calls): capacity is held for the window, not beyond it."""
        now = self.clock()
        states = [str(s) for s in HOLDING_STATES]
        ids = self.store.due_ids(
            "CutoverPlan", states=states, time_field="window_end", until=now, limit=limit
        )
        out = []
        for plan_id in ids:
            plan = self.store.transact(
                lambda tx, i=plan_id: transition(
                    tx,
                    plan_id=i,
                    to=PlanState.CANCELLED,
                    actor="sweeper",
                    now=now,
                    note="the window ended unexecuted",
                    lapsed_only=True,
                ),
                actor="sweeper",
                reason=f"cutover plan {plan_id}'s window ended",
            )
            if plan.state == PlanState.CANCELLED:
                out.append(plan)
        return out

    # ---- execution ------------------------------------------------------------------------

    def execute(self, plan_id: str, *, actor: str, batch_size: int | None = None) -> CutoverPlan:
        """Execute a scheduled plan in its window (all in one transaction, or `batch_size`
        riders per transaction, each batch leaving the graph consistent), then verify it and
        keep the report on it. A batch refused (AssumptionBroken) leaves the plan inProgress
        with the earlier batches done: roll it back, or execute again once the cause is fixed."""
        if batch_size is not None and batch_size < 1:
            raise PlanInvalid("invalid batch size", [f"{batch_size} < 1"])
        while True:
            now = self.clock()
            done = self.store.transact(
                lambda tx, at=now: execute(
                    tx, plan_id=plan_id, actor=actor, now=at, first=batch_size
                ),
                actor=actor,
                reason=f"cutover plan {plan_id} executed",
            )
            if done.state == PlanState.COMPLETED:
                break
        report = self.verify(done)
        return self.store.transact(
            lambda tx: record_verification(tx, plan_id=plan_id, report=report),
            actor=actor,
            reason=f"cutover plan {plan_id} verified",
        )

    def verify(self, plan: CutoverPlan) -> dict[str, Any]:
        """Check an executed plan: every moved edge is where the plan put it, every moved
        rider's chain traces healthy end to end on the target, and the target's riders grew by
        exactly what the plan moved."""
        steps = plan.step_list()
        problems: list[str] = []
        out = self.store.neighbours_many(
            sorted({s.src for s in steps}), "out", sorted({s.type for s in steps})
        )
        have = {(e.type, e.src, e.dst) for pairs in out.values() for e, _ in pairs}
        for s in steps:
            want = _landing(s)
            if want is not None and want not in have:
                problems.append(f"{s.rider}: {want[0]} {want[1]} -> {want[2]} missing")
            if s.op == "remove" and (s.type, s.src, s.dst) in have:
                problems.append(f"{s.rider}: {s.type} {s.src} -> {s.dst} still there")
        traced = _trace_points(plan, steps)
        for rid in traced:
            tr = self.store.trace(rid)
            if tr.health != "ok":
                problems.append(f"{rid} traces {tr.health} ({', '.join(tr.impaired_by)})")
        impact = Impact.loads(plan.impact)
        riders_now = self._rider_count(plan.riders)
        if riders_now != len(impact.services):
            problems.append(
                f"{riders_now} services ride the moved resources, {len(impact.services)} planned"
            )
        return {
            "ok": not problems,
            "problems": problems,
            "services": riders_now,
            "planned": len(impact.services),
            "traced": traced,
            "at": utc(self.clock()).isoformat(),
        }

    def _rider_count(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        return self.store.riders(list(ids), first=1).totals.services

    def rollback(self, plan_id: str, *, actor: str, note: str = "") -> CutoverPlan:
        """Put the pre-cutover graph back (a completed plan)."""
        now = self.clock()
        return self.store.transact(
            lambda tx: rollback(tx, plan_id=plan_id, actor=actor, now=now, note=note),
            actor=actor,
            reason=f"cutover plan {plan_id} rolled back",
        )


def _landing(step: Step) -> tuple[str, str, str] | None:
    if step.op == "move":
        return (step.type, step.src, str(step.new_dst))
    if step.op in ("add", "update"):
        return (step.type, step.src, step.dst)
    return None


def _trace_points(plan: CutoverPlan, steps: Sequence[Step]) -> list[str]:
    """What verification traces end to end: the target splitter (every re-homed ONT hangs off
    it, so one trace covers its chain to the OLT), and each re-routed circuit."""
    if plan.target and any(s.type == "FED_BY" for s in steps):
        return [plan.target]
    return sorted({s.rider for s in steps})
