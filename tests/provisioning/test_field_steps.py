"""Construction work on the catalog's SLA clock: customer holds pause it, breaches escalate,
field steps are recorded with who and when and refused out of order (memory and Neo4j)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pboss.field.work import steps_of
from pboss.inventory.store import GraphStore
from pboss.provisioning.construction import NotYourWork
from pboss.provisioning.errors import InvalidRequest, InvalidState, NotFound
from pboss.provisioning.model import OrderState, ReservationState, WorkOrderState
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from tests.provisioning.conftest import T0, Clock, leased, snapshot


def _work(svc: ProvisioningService, crm: str) -> str:
    svc.reserve(svc.submit_order(leased(crm)).id)
    [wo] = svc.work_orders_of(f"ORD-{crm}")
    return wo.id


def test_work_orders_take_product_tier_skill_site_and_hours_from_the_catalog(
    svc: ProvisioningService,
) -> None:
    wo = svc.work_order(_work(svc, "F1"))
    assert (wo.product, wo.sla_tier, wo.skill, wo.site) == (
        "MSTP-LL",
        "standard",
        "mstpSdh",
        "CP-XX",
    )
    assert wo.assignee_type == "partner" and wo.sla_hours == 72  # build-partner
    assert wo.due_at == T0 + timedelta(hours=72)
    # its hold outlives the deadline by the grace
    assert svc.reservation(wo.reservation).valid_until == T0 + timedelta(hours=96)


def test_a_job_held_for_the_customer_pauses_its_clock_and_resumes(
    svc: ProvisioningService, clock: Clock, outbox: Outbox
) -> None:
    wid = _work(svc, "F2")
    clock.advance(hours=10)
    held = svc.record_field_step(
        wid, "held", "customer abroad until Friday", held_for="customer", actor="app:li"
    )
    assert held.state == WorkOrderState.HELD and held.held_since == T0 + timedelta(hours=10)
    assert svc.order("ORD-F2").state == OrderState.HELD
    clock.advance(hours=100)  # far beyond the 72 h SLA, but held for the customer
    assert svc.sweep_expired().flagged == []
    assert not svc.work_order(wid).jeopardy and not svc.work_order(wid).breached
    back = svc.record_field_step(wid, "resumed", "customer back", actor="app:li")
    assert back.state == WorkOrderState.OPEN and back.held_since is None
    assert back.paused_seconds == 100 * 3600
    assert back.due_at == T0 + timedelta(hours=172)
    assert svc.order("ORD-F2").state == OrderState.IN_PROGRESS
    # the path's hold waited with the paused job and now outlives the new deadline by the grace
    res = svc.reservation(back.reservation)
    assert res.state == ReservationState.HELD
    assert res.valid_until == T0 + timedelta(hours=172 + 24)
    events = [e.event for e in outbox.drain()]
    assert events[-4:] == ["constructionHeld", "clockPaused", "constructionResumed", "clockResumed"]
    # 53 h of SLA used so far (10 + 43): not yet in jeopardy (54 h), then it is
    clock.advance(hours=43)
    assert svc.sweep_expired().flagged == []
    clock.advance(hours=1)
    assert svc.sweep_expired().flagged == [wid]


def test_a_job_held_for_us_keeps_its_clock_running(svc: ProvisioningService, clock: Clock) -> None:
    wid = _work(svc, "F3")
    svc.record_field_step(wid, "held", "no fibre in stock", held_for="us")
    clock.advance(hours=72)
    svc.sweep_expired()
    wo = svc.work_order(wid)
    assert wo.breached and wo.held_since is None and wo.paused_seconds == 0


def test_a_breach_escalates_to_the_supervisor_then_the_partner_manager(
    svc: ProvisioningService, clock: Clock, outbox: Outbox
) -> None:
    wid = _work(svc, "F4")
    outbox.drain()
    clock.advance(hours=72)
    assert svc.sweep_expired().flagged == [wid]
    wo = svc.work_order(wid)
    assert wo.breached and wo.escalation == 1
    breach = [e for e in outbox.drain() if e.event == "slaBreached"]
    assert breach and "escalated to supervisor" in breach[0].note
    clock.advance(hours=18)  # 25 % of the SLA overdue
    assert svc.sweep_expired().flagged == [wid]
    wo = svc.work_order(wid)
    assert wo.escalation == 2
    [up] = outbox.drain()
    assert up.event == "slaEscalated" and "partner-manager" in up.note
    assert [e.event for e in wo.events()][-1] == "slaEscalated"
    clock.advance(hours=100)
    assert svc.sweep_expired().flagged == []  # the chain has no third level


def test_field_steps_are_recorded_with_who_and_when_and_refused_out_of_order(
    svc: ProvisioningService, net: GraphStore, clock: Clock
) -> None:
    wid = _work(svc, "F5")
    before = snapshot(net, provisioning=True)
    with pytest.raises(InvalidState, match="out of order"):
        svc.record_field_step(wid, "installation", actor="app:wang")
    with pytest.raises(InvalidRequest, match="needs a reason"):
        svc.record_field_step(wid, "held", "  ")
    with pytest.raises(InvalidRequest, match="future"):
        svc.record_field_step(wid, "accepted", at=clock() + timedelta(hours=1))
    with pytest.raises(InvalidRequest, match="before the work order existed"):
        svc.record_field_step(wid, "accepted", at=T0 - timedelta(minutes=1))
    with pytest.raises(InvalidRequest, match="unknown step"):
        svc.record_field_step(wid, "dancing")
    with pytest.raises(NotFound):
        svc.record_field_step("WO-NOPE", "accepted")
    with pytest.raises(NotYourWork):
        svc.record_field_step(wid, "accepted", partner="P-OCN")
    assert snapshot(net, provisioning=True) == before
    clock.advance(minutes=5)
    svc.record_field_step(wid, "accepted", actor="app:wang", at=clock() - timedelta(minutes=2))
    svc.record_field_step(wid, "onTheWay", actor="app:wang", partner="P-TT")
    svc.record_field_step(wid, "survey", "duct ok", actor="app:wang")
    svc.record_field_step(wid, "onTheWay", actor="app:wang")  # repeated: no change
    wo = svc.record_field_step(wid, "survey", actor="app:wang")  # repeated: no change
    got = [(s.step, s.actor, s.at - T0) for s in steps_of(wo)]
    assert got == [
        ("accepted", "app:wang", timedelta(minutes=3)),
        ("onTheWay", "app:wang", timedelta(minutes=5)),
        ("survey", "app:wang", timedelta(minutes=5)),
    ]
    assert [e.actor for e in wo.events()[1:]] == ["app:wang"] * 3


def test_the_app_cannot_accept_a_job_already_under_way(svc: ProvisioningService) -> None:
    wid = _work(svc, "F6")
    svc.record_milestone(wid, "survey", actor="engineer:zhao")  # the old mutation still works
    with pytest.raises(InvalidState, match="accepted cannot follow milestone survey"):
        svc.record_field_step(wid, "accepted")
    [step] = steps_of(svc.work_order(wid))
    assert (step.step, step.actor) == ("survey", "engineer:zhao")
