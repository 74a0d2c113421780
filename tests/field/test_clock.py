"""The shared work-order clock: customer holds pause it, holds for us do not, breach escalates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pboss.field.clock import (
    HeldFor,
    clock_of,
    dispatch_terms,
    escalated_to,
    hold,
    resume,
    used_share,
    watch,
)
from pboss.inventory.catalog import load_catalog
from pboss.provisioning.model import WorkOrder, WorkOrderState

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CATALOG = load_catalog()


def job(partner: bool = False, product: str = "MSTP-LL", tier: str = "standard") -> WorkOrder:
    """A construction job dispatched at T0 with its catalog deadline."""
    _, due = dispatch_terms(
        CATALOG, work="construction", product=product, tier=tier, partner=partner, now=T0
    )
    return WorkOrder(
        id="WO-T",
        order="ORD-T",
        reservation="RSV-T",
        assignee="P-X" if partner else "crew:EX-1",
        assignee_type="partner" if partner else "own_crew",
        product=product,
        sla_tier=tier,
        created_at=T0,
        due_at=due,
    )


def test_dispatch_terms_follow_the_catalog() -> None:
    assert job().due_at == T0 + timedelta(hours=48)
    assert job(tier="gold").due_at == T0 + timedelta(hours=24)
    assert job(partner=True, tier="gold").due_at == T0 + timedelta(hours=72)


def test_a_customer_hold_pauses_the_clock_and_resume_moves_the_deadline() -> None:
    wo = job()
    clock = clock_of(CATALOG, wo)
    held = hold(wo, now=T0 + timedelta(hours=10), held_for="customer", reason="away", actor="me")
    assert held.changed and held.work_order.state == WorkOrderState.HELD
    assert [e.event for e in held.events] == ["clockPaused"]
    # 100 h later the held job has not aged: no jeopardy, no breach
    late = T0 + timedelta(hours=110)
    assert used_share(held.work_order, clock, late) == 10 / 48
    assert not watch(held.work_order, clock, now=late).changed
    back = resume(held.work_order, clock, now=late, note="customer back", actor="me")
    assert back.work_order.paused_seconds == 100 * 3600
    assert back.work_order.due_at == T0 + timedelta(hours=148)
    assert back.work_order.held_since is None and back.work_order.state == WorkOrderState.OPEN
    assert [e.event for e in back.events] == ["clockResumed"]


def test_a_hold_for_us_does_not_pause_the_clock() -> None:
    wo = job()
    clock = clock_of(CATALOG, wo)
    held = hold(wo, now=T0 + timedelta(hours=1), held_for=HeldFor.US, reason="no fibre", actor="me")
    assert held.work_order.held_since is None and held.events == []
    tick = watch(held.work_order, clock, now=T0 + timedelta(hours=48))
    assert tick.work_order.breached
    back = resume(tick.work_order, clock, now=T0 + timedelta(hours=50), note="", actor="me")
    assert back.work_order.due_at == T0 + timedelta(hours=48)


def test_breach_escalates_along_the_rules_chain_once_per_level() -> None:
    wo = job(partner=True)  # build-partner: 72 h, supervisor then partner-manager
    clock = clock_of(CATALOG, wo)
    first = watch(wo, clock, now=T0 + timedelta(hours=54))
    assert [e.event for e in first.events] == ["jeopardy"]
    breach = watch(first.work_order, clock, now=T0 + timedelta(hours=72))
    assert [(e.event, e.target) for e in breach.events] == [("slaBreached", "supervisor")]
    assert escalated_to(breach.work_order, clock) == "supervisor"
    assert not watch(breach.work_order, clock, now=T0 + timedelta(hours=80)).changed
    up = watch(breach.work_order, clock, now=T0 + timedelta(hours=90))  # 25 % overdue
    assert [(e.event, e.target) for e in up.events] == [("slaEscalated", "partner-manager")]
    assert up.work_order.escalation == 2
    # the chain ends there: later watches change nothing
    assert not watch(up.work_order, clock, now=T0 + timedelta(hours=500)).changed
    assert [e.event for e in up.work_order.events()] == ["jeopardy", "slaBreached", "slaEscalated"]
