"""The transactional steps of a construction order: field steps, milestones and the SLA clock.

Same rules as steps.py: lock the order, then the work order (then what a failure frees), re-read,
decide, write; a repeated report changes nothing. The clock arithmetic (customer holds pause it,
jeopardy, breach, escalation) is `pboss.field.clock`, shared with repair work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pboss.field import clock as sla_clock
from pboss.field.clock import ClockEvent, HeldFor
from pboss.field.work import (
    NEEDS_REASON,
    PRE_STEPS,
    FieldStep,
    StepEntry,
    milestone_of,
    pre_step_problem,
    steps_of,
    with_step,
)
from pboss.inventory.catalog import Catalog
from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.errors import InvalidRequest, InvalidState, NotFound
from pboss.provisioning.model import Milestone, Order, Reservation, WorkOrder
from pboss.provisioning.notify import OrderEvent
from pboss.provisioning.step_support import (
    OPEN_WORK,
    OS,
    RS,
    WS,
    Outcome,
    end_hold,
    free,
    gather_holds,
    locked,
    order_event,
    peeked,
    record,
)

# ---- field steps and milestones -----------------------------------------------------------------


class NotYourWork(NotFound):
    """A partner reported on a work order that is not assigned to it (or does not exist: a
    partner learns nothing about other parties' work)."""

    def __init__(self, work_order_id: str, partner: str):
        super().__init__(work_order_id, "WorkOrder")
        self.partner = partner
        self.reasons = [f"work order {work_order_id} is not assigned to {partner}"]


def _clock_events(
    order: Order, wo: WorkOrder, events: list[ClockEvent], now: datetime
) -> tuple[Order, list[OrderEvent]]:
    """Record the clock's events on the order and turn them into order events."""
    out: list[OrderEvent] = []
    for ev in events:
        order = record(order, ev.event, now, ev.note)
        out.append(
            order_event(order, ev.event, now, ev.note, reservation=wo.reservation, work_order=wo.id)
        )
    return order, out


def field_step(
    tx: GraphTx,
    *,
    work_order_id: str,
    step: FieldStep,
    reason: str,
    now: datetime,
    catalog: Catalog,
    actor: str = "",
    at: datetime | None = None,
    held_for: HeldFor = HeldFor.US,
    partner: str | None = None,
    hold_grace: timedelta | None = None,
) -> Outcome:
    """Record one field step on a construction order, with who (`actor`) and when (`at`, the
    moment in the field; `now` when not given): milestones in order, `accepted`/`onTheWay`
    before them, `held` (the clock pauses only when held for the customer), `resumed`,
    `failed`. A repeated report changes nothing; with `partner`, only its own work."""
    peek = tx.peek([work_order_id]).get(work_order_id)
    if partner is not None and (not isinstance(peek, WorkOrder) or peek.assignee != partner):
        raise NotYourWork(work_order_id, partner)
    if not isinstance(peek, WorkOrder):
        raise NotFound(work_order_id, "WorkOrder")
    if peek.order is None:
        raise InvalidState(
            f"work order {work_order_id} is {peek.purpose} work",
            ["construction steps apply to construction work orders"],
        )
    if step in NEEDS_REASON and not reason.strip():
        raise InvalidRequest(f"{step.value} needs a reason", ["say why"], ["reason"])
    when = at or now
    if utc(when) > utc(now):
        raise InvalidRequest(
            f"{step.value} is reported in the future",
            [f"at {utc(when).isoformat()} is after now {utc(now).isoformat()}"],
            ["at"],
        )
    if utc(when) < utc(peek.created_at):
        raise InvalidRequest(
            f"{step.value} is reported before the work order existed",
            [f"at {utc(when).isoformat()} is before {utc(peek.created_at).isoformat()}"],
            ["at"],
        )
    order: Order = locked(tx, peek.order, "Order")
    wo: WorkOrder = locked(tx, work_order_id, "WorkOrder")
    clock = sla_clock.clock_of(catalog, wo)
    entry = StepEntry(
        step.value, when, actor, reason, held_for.value if step == FieldStep.HELD else None
    )
    name = milestone_of(step)
    if name is not None and name.value in wo.done:
        return Outcome(wo, changed=False)
    if (step, wo.state) in ((FieldStep.HELD, WS.HELD), (FieldStep.FAILED, WS.FAILED)):
        return Outcome(wo, changed=False)
    if step == FieldStep.RESUMED and wo.state == WS.OPEN:
        return Outcome(wo, changed=False)
    if step in PRE_STEPS and any(s.step == step.value for s in steps_of(wo)):
        return Outcome(wo, changed=False)
    if wo.state not in OPEN_WORK:
        raise InvalidState(f"work order {wo.id} is {wo.state}", [f"cannot record {step.value}"])
    ids = {"reservation": wo.reservation, "work_order": wo.id}
    events: list[OrderEvent] = []

    def on_order(o: Order, event: str, note: str, to: OS | None = None) -> Order:
        o = record(o, event, now, note, to=to)
        events.append(order_event(o, event, now, note, **ids))
        return o

    def clock_on_order(o: Order, ticked: list[ClockEvent]) -> Order:
        for ev in ticked:
            o = on_order(o, ev.event, ev.note)
        return o

    if step in PRE_STEPS:
        problem = pre_step_problem(wo, step)
        if problem is not None:
            raise InvalidState(f"step {step.value} is out of order", [problem])
        new = sla_clock.entry(wo, step.value, now, reason, actor)
        order = on_order(order, step.value, reason or f"{wo.id}: {step.value}")
    elif name is not None:
        nxt = wo.next_milestone
        if name != nxt:
            raise InvalidState(
                f"milestone {name.value} is out of order",
                [f"next for {wo.id} is {nxt.value if nxt else 'none'}"],
            )
        new = wo
        if wo.state == WS.HELD:  # reporting progress on a held job resumes it
            tick = sla_clock.resume(
                wo, clock, now=when, note=f"resumed by {name.value}", actor=actor
            )
            new = tick.work_order
            order = clock_on_order(order, tick.events)
        new = sla_clock.entry(new, name.value, now, reason, actor)
        new.done = [*wo.done, name.value]
        new.state = WS.DONE if name == Milestone.ACCEPTANCE else WS.OPEN
        if new.state == WS.DONE:
            new.completed_at = when
        to = OS.IN_PROGRESS if order.state == OS.HELD else None
        order = on_order(order, name.value, reason or f"{wo.id}: {name.value} done", to)
    elif step == FieldStep.HELD:
        tick = sla_clock.hold(wo, now=when, held_for=held_for, reason=reason, actor=actor)
        new = tick.work_order
        at_step = wo.next_milestone.value if wo.next_milestone else "acceptance"
        note = f"{wo.id} held at {at_step} for {held_for.value}: {reason}"
        order = on_order(order, "constructionHeld", note, OS.HELD)
        order = clock_on_order(order, tick.events)
    elif step == FieldStep.RESUMED:
        tick = sla_clock.resume(wo, clock, now=when, note=reason, actor=actor)
        new = tick.work_order
        to = OS.IN_PROGRESS if order.state == OS.HELD else None
        order = on_order(order, "constructionResumed", reason or f"{wo.id} resumed", to)
        order = clock_on_order(order, tick.events)
    else:  # failed
        res = tx.lock([wo.reservation]).get(wo.reservation)
        held = [res] if isinstance(res, Reservation) and res.state == RS.HELD else []
        for freed in gather_holds(tx, held):
            free(tx, freed, RS.RELEASED, now, f"construction failed: {reason}")
        new = sla_clock.entry(wo, "failed", now, reason, actor)
        new.state = WS.FAILED
        order = on_order(order, "constructionFailed", reason, OS.FAILED)
        end_hold(order)
    new = with_step(new, entry)
    if hold_grace is not None and new.due_at != wo.due_at:
        _stretch_hold(tx, new, hold_grace)
    tx.put(new)
    tx.put(order)
    return Outcome(new, changed=True, events=events)


def _stretch_hold(tx: GraphTx, wo: WorkOrder, grace: timedelta) -> None:
    """A resumed job's hold lasts until its new deadline plus the grace."""
    res = tx.lock([wo.reservation]).get(wo.reservation) if wo.reservation else None
    if isinstance(res, Reservation) and res.state == RS.HELD:
        until = utc(wo.due_at) + grace
        if utc(res.valid_until) < until:
            kept = res.model_copy(deep=True)
            kept.valid_until = until
            tx.put(kept)


#: Milestone report outcomes as field steps.
_OUTCOME_STEP = {"held": FieldStep.HELD, "failed": FieldStep.FAILED}


def milestone(
    tx: GraphTx,
    *,
    work_order_id: str,
    name: Milestone,
    outcome: str,
    note: str,
    now: datetime,
    catalog: Catalog,
    actor: str = "",
    held_for: HeldFor = HeldFor.US,
    hold_grace: timedelta | None = None,
) -> Outcome:
    """Record a construction milestone: `done` (in order), `held` (stopped) or `failed`."""
    if outcome == "done":
        step = FieldStep(name.value)
    elif outcome in _OUTCOME_STEP:
        step = _OUTCOME_STEP[outcome]
        note = note or f"at {name.value}"
    else:
        raise InvalidState(f"unknown milestone outcome {outcome!r}", ["use done, held or failed"])
    return field_step(
        tx,
        work_order_id=work_order_id,
        step=step,
        reason=note,
        now=now,
        catalog=catalog,
        actor=actor,
        held_for=held_for,
        hold_grace=hold_grace,
    )


def watch_sla(tx: GraphTx, *, work_order_id: str, now: datetime, catalog: Catalog) -> Outcome:
    """Flag jeopardy and breach once each and escalate along the catalog rule's chain
    (`field.clock.watch`); a job held for the customer does not age."""
    order_id = peeked(tx, work_order_id, "WorkOrder").order
    order: Order = locked(tx, order_id, "Order")
    wo: WorkOrder = locked(tx, work_order_id, "WorkOrder")
    tick = sla_clock.watch(wo, sla_clock.clock_of(catalog, wo), now=now)
    if not tick.changed:
        return Outcome(wo, changed=False)
    new_order, events = _clock_events(order, tick.work_order, tick.events, now)
    tx.put(tick.work_order)
    tx.put(new_order)
    return Outcome(tick.work_order, changed=True, events=events)
