"""A work order's SLA clock over time: dispatch terms, customer holds that pause it, the watch.

Construction (provisioning) and repair (assurance) work orders share these pure functions, so one
rule decides when any field job is due, in jeopardy, breached and escalated. Each takes a
`WorkOrder` and returns a changed copy plus the `ClockEvent`s to publish; the caller locks, writes
and turns the events into its own domain events in the same transaction. `now` comes from the
caller's injectable clock.

- Only a hold FOR THE CUSTOMER (customer absent, asked to reschedule, site not ready on their
  side) pauses the clock: `held_since` is set. A hold for us (no material, our crew) does not.
- On resume the SLA seconds held are added to `paused_seconds` and `due_at` is recomputed.
- The watch flags jeopardy at the rule's share of the SLA, breach at 100 % (escalating to the
  first queue of the rule's `escalate` chain), then one more level every `ESCALATION_STEP` of the
  SLA overdue (e.g. supervisor, then the partner manager for partner work).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pboss.field.sla import SlaClock, clock_for
from pboss.inventory.catalog import Catalog
from pboss.inventory.timestamps import utc
from pboss.provisioning.model import Event, WorkOrder, WorkOrderState

#: Share of the SLA overdue after which a breached job escalates one level further.
ESCALATION_STEP = 0.25


class HeldFor(StrEnum):
    """Whose side a hold is on: only a hold for the customer pauses the SLA clock."""

    CUSTOMER = "customer"
    US = "us"


@dataclass(frozen=True)
class ClockEvent:
    """Something the clock did that listeners hear of: `jeopardy`, `slaBreached`,
    `slaEscalated`, `clockPaused`, `clockResumed`; `target` is the queue escalated to."""

    event: str
    note: str
    target: str | None = None


@dataclass
class Tick:
    """A work order after a clock step, whether it changed, and the events to publish."""

    work_order: WorkOrder
    changed: bool
    events: list[ClockEvent] = field(default_factory=list)


def clock_of(catalog: Catalog, wo: WorkOrder) -> SlaClock:
    """The SLA clock of a work order: its work, product, customer tier and who builds it."""
    return clock_for(
        catalog, str(wo.purpose), wo.product, wo.sla_tier, wo.assignee_type == "partner"
    )


def dispatch_terms(
    catalog: Catalog,
    *,
    work: str,
    product: str | None,
    tier: str | None,
    partner: bool,
    now: datetime,
) -> tuple[SlaClock, datetime]:
    """The clock a new work order runs on and its first deadline (nothing paused yet)."""
    clock = clock_for(catalog, work, product, tier, partner)
    return clock, clock.due_at(utc(now))


def entry(wo: WorkOrder, event: str, now: datetime, note: str, actor: str) -> WorkOrder:
    """A copy of the work order with one more history entry, by `actor`."""
    new = wo.model_copy(deep=True)
    new.history = [
        *wo.history,
        Event(at=now, event=event, state=str(new.state), note=note, actor=actor).dumps(),
    ]
    return new


def hold(wo: WorkOrder, *, now: datetime, held_for: HeldFor | str, reason: str, actor: str) -> Tick:
    """Hold an open job; the clock pauses only when it is held for the customer. A job already
    held stays as it is (the first hold's pause counts)."""
    if wo.state == WorkOrderState.HELD:
        return Tick(wo, changed=False)
    whose = HeldFor(held_for)
    new = wo.model_copy(deep=True)
    new.state = WorkOrderState.HELD
    events: list[ClockEvent] = []
    if whose == HeldFor.CUSTOMER:
        new.held_since = utc(now)
        events.append(ClockEvent("clockPaused", f"{wo.id} held for the customer: {reason}"))
    new = entry(new, "held", now, f"held for {whose.value}: {reason}", actor)
    return Tick(new, changed=True, events=events)


def resume(wo: WorkOrder, clock: SlaClock, *, now: datetime, note: str, actor: str) -> Tick:
    """Reopen a held job: the SLA seconds it was held for the customer extend its deadline."""
    if wo.state != WorkOrderState.HELD:
        return Tick(wo, changed=False)
    new = wo.model_copy(deep=True)
    new.state = WorkOrderState.OPEN
    events: list[ClockEvent] = []
    if wo.held_since is not None:
        paused = clock.seconds_between(utc(wo.held_since), utc(now))
        new.paused_seconds = wo.paused_seconds + paused
        new.held_since = None
        new.due_at = clock.due_at(utc(wo.created_at), new.paused_seconds)
        events.append(
            ClockEvent(
                "clockResumed",
                f"{wo.id} resumed after {paused / 3600:.2f} SLA h on hold, "
                f"due {new.due_at.isoformat()}",
            )
        )
    new = entry(new, "resumed", now, note or "resumed", actor)
    return Tick(new, changed=True, events=events)


def used_share(wo: WorkOrder, clock: SlaClock, now: datetime) -> float:
    """The share of the SLA a job has used by `now` (a customer hold in progress not counted)."""
    held = utc(wo.held_since) if wo.held_since is not None else None
    return clock.used_share(utc(wo.created_at), utc(now), wo.paused_seconds, held)


def escalation_level(share: float, clock: SlaClock) -> int:
    """How far up the rule's chain a job that used `share` of its SLA has escalated."""
    if share < 1.0:
        return 0
    level = 1 + int((share - 1.0) / ESCALATION_STEP + 1e-9)
    return min(level, len(clock.rule.escalate)) if clock.rule.escalate else 0


def watch(wo: WorkOrder, clock: SlaClock, *, now: datetime, actor: str = "sla") -> Tick:
    """Flag jeopardy and breach once each and escalate level by level; only open or held jobs,
    and a job held for the customer does not age."""
    if wo.state not in (WorkOrderState.OPEN, WorkOrderState.HELD):
        return Tick(wo, changed=False)
    share = used_share(wo, clock, now)
    new, events = wo, []
    due = clock.due_at(utc(wo.created_at), wo.paused_seconds)
    nxt = wo.next_milestone
    status = f"due {due.isoformat()}, next milestone {nxt.value if nxt else 'none'}"
    if not new.jeopardy and share >= clock.rule.jeopardy:
        note = f"{wo.id} used {share:.0%} of its {clock.rule.hours:g} h SLA, {status}"
        new = entry(new, "jeopardy", now, note, actor)
        new.jeopardy = True
        events.append(ClockEvent("jeopardy", note))
    if not new.breached and share >= 1.0:
        target = clock.escalation_target(1)
        note = f"{wo.id} breached its {clock.rule.hours:g} h SLA ({clock.rule.id}), {status}"
        if target:
            note += f"; escalated to {target}"
        new = entry(new, "slaBreached", now, note, actor)
        new.breached = True
        new.escalation = max(new.escalation, 1 if target else 0)
        events.append(ClockEvent("slaBreached", note, target))
    level = escalation_level(share, clock)
    while new.escalation < level:
        target = clock.escalation_target(new.escalation + 1)
        note = f"{wo.id} overdue {share - 1:.0%} of its SLA; escalated to {target}"
        new = entry(new, "slaEscalated", now, note, actor)
        new.escalation += 1
        events.append(ClockEvent("slaEscalated", note, target))
    return Tick(new, changed=bool(events), events=events)


def escalated_to(wo: WorkOrder, clock: SlaClock) -> str | None:
    """The queue a job currently sits in for escalation (None when not escalated)."""
    return clock.escalation_target(wo.escalation) if wo.escalation else None
