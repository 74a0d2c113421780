"""The transactional steps of a construction order: milestones and the SLA clock.

Same rules as steps.py: lock the order, then the work order (then what a failure frees), re-read,
decide, write; a repeated report changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.errors import InvalidState
from pboss.provisioning.model import Milestone, Order, Reservation, WorkOrder
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
    wo_record,
)

# ---- milestones and SLA -------------------------------------------------------------------------


def milestone(
    tx: GraphTx,
    *,
    work_order_id: str,
    name: Milestone,
    outcome: str,
    note: str,
    now: datetime,
) -> Outcome:
    """Record a construction milestone: `done` (in order), `held` (stopped) or `failed`."""
    order_id = peeked(tx, work_order_id, "WorkOrder").order
    order: Order = locked(tx, order_id, "Order")
    wo: WorkOrder = locked(tx, work_order_id, "WorkOrder")
    if outcome == "done" and name.value in wo.done:
        return Outcome(wo, changed=False)
    if (outcome, wo.state) in (("held", WS.HELD), ("failed", WS.FAILED)):
        return Outcome(wo, changed=False)
    if wo.state not in OPEN_WORK:
        raise InvalidState(
            f"work order {wo.id} is {wo.state}", [f"cannot record {name.value} {outcome}"]
        )
    ids = {"reservation": wo.reservation, "work_order": wo.id}
    if outcome == "done":
        nxt = wo.next_milestone
        if name != nxt:
            raise InvalidState(
                f"milestone {name.value} is out of order",
                [f"next for {wo.id} is {nxt.value if nxt else 'none'}"],
            )
        new = wo_record(wo, name.value, now, note)
        new.done = [*wo.done, name.value]
        new.state = WS.DONE if name == Milestone.ACCEPTANCE else WS.OPEN
        to = OS.IN_PROGRESS if order.state == OS.HELD else None
        new_order = record(order, name.value, now, note or f"{wo.id}: {name.value} done", to=to)
    elif outcome == "held":
        new = wo_record(wo, "held", now, note)
        new.state = WS.HELD
        new_order = record(
            order, "constructionHeld", now, note or f"{wo.id} held at {name.value}", to=OS.HELD
        )
    elif outcome == "failed":
        res = tx.lock([wo.reservation]).get(wo.reservation)
        held = [res] if isinstance(res, Reservation) and res.state == RS.HELD else []
        for freed in gather_holds(tx, held):
            free(tx, freed, RS.RELEASED, now, f"construction failed: {note}")
        new = wo_record(wo, "failed", now, note)
        new.state = WS.FAILED
        new_order = record(
            order,
            "constructionFailed",
            now,
            note or f"{wo.id} failed at {name.value}",
            to=OS.FAILED,
        )
    else:
        raise InvalidState(f"unknown milestone outcome {outcome!r}", ["use done, held or failed"])
    last = new_order.events()[-1]
    event = order_event(new_order, last.event, now, last.note, **ids)
    if outcome == "failed":
        end_hold(new_order)
    tx.put(new)
    tx.put(new_order)
    return Outcome(new, changed=True, events=[event])


def watch_sla(
    tx: GraphTx, *, work_order_id: str, now: datetime, jeopardy_fraction: float
) -> Outcome:
    """Flag a work order in jeopardy (SLA at risk) or breached, once each."""
    order_id = peeked(tx, work_order_id, "WorkOrder").order
    order: Order = locked(tx, order_id, "Order")
    wo: WorkOrder = locked(tx, work_order_id, "WorkOrder")
    if wo.state not in OPEN_WORK:
        return Outcome(wo, changed=False)
    start, due = utc(wo.created_at), utc(wo.due_at)
    at_risk = start + (due - start) * jeopardy_fraction
    new, new_order, events = wo, order, []
    ids = {"reservation": wo.reservation, "work_order": wo.id}
    for flag, when, event in (("jeopardy", at_risk, "jeopardy"), ("breached", due, "slaBreached")):
        if not getattr(new, flag) and utc(now) >= when:
            nxt = new.next_milestone
            note = f"{wo.id} due {due.isoformat()}, next milestone {nxt.value if nxt else 'none'}"
            new = wo_record(new, event, now, note)
            setattr(new, flag, True)
            new_order = record(new_order, event, now, note)
            events.append(order_event(new_order, event, now, note, **ids))
    if not events:
        return Outcome(wo, changed=False)
    tx.put(new)
    tx.put(new_order)
    return Outcome(new, changed=True, events=events)
