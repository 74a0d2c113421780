"""Construction orders: milestones in order, the catalog's SLA clock, jeopardy, hold and failure."""

from __future__ import annotations

import pytest

from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import InvalidRequest, InvalidState
from pboss.provisioning.model import OrderState, ReservationState
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from tests.provisioning.conftest import Clock, leased, snapshot


def test_milestones_must_come_in_order(svc: ProvisioningService, net: GraphStore) -> None:
    svc.reserve(svc.submit_order(leased("W1")).id)
    [wo] = svc.work_orders_of("ORD-W1")
    assert wo.next_milestone == "survey"
    before = snapshot(net, provisioning=True)
    with pytest.raises(InvalidState, match="out of order"):
        svc.record_milestone(wo.id, "installation")
    with pytest.raises(InvalidRequest, match="unknown milestone"):
        svc.record_milestone(wo.id, "party")
    assert snapshot(net, provisioning=True) == before
    svc.record_milestone(wo.id, "survey", note="duct found")
    assert svc.record_milestone(wo.id, "survey").done == ["survey"]  # again: no change
    assert [e.event for e in svc.work_order(wo.id).events()] == ["dispatched", "survey"]


def test_sla_clock_raises_jeopardy_then_breach_once_each(
    svc: ProvisioningService, clock: Clock, outbox: Outbox
) -> None:
    res = svc.reserve(svc.submit_order(leased("W2")).id)
    [wo] = svc.work_orders_of("ORD-W2")
    # the line crosses Tietong's link: the catalog's partner-built construction SLA, 72 h
    assert (wo.due_at - wo.created_at).total_seconds() == 72 * 3600
    outbox.drain()
    clock.advance(hours=53)
    assert svc.sweep_expired().flagged == []
    clock.advance(hours=1)  # 54 h = 75 % of the SLA
    assert svc.sweep_expired().flagged == [wo.id]
    assert svc.sweep_expired().flagged == []
    assert svc.work_order(wo.id).jeopardy and not svc.work_order(wo.id).breached
    clock.advance(hours=18)
    assert svc.sweep_expired().flagged == [wo.id]
    assert svc.work_order(wo.id).breached
    assert [e.event for e in outbox.drain()] == ["jeopardy", "slaBreached"]
    # the hold of a construction order outlives the SLA (plus grace), not just 30 minutes
    assert svc.reservation(res.id).state == ReservationState.HELD


def test_a_held_work_order_holds_the_order_and_resumes_it(svc: ProvisioningService) -> None:
    svc.reserve(svc.submit_order(leased("W3")).id)
    [wo] = svc.work_orders_of("ORD-W3")
    svc.record_milestone(wo.id, "survey", outcome="held", note="customer not on site")
    assert svc.order("ORD-W3").state == OrderState.HELD
    svc.record_milestone(wo.id, "survey")
    assert svc.order("ORD-W3").state == OrderState.IN_PROGRESS


def test_failed_construction_fails_the_order_and_frees_the_path(
    svc: ProvisioningService, net: GraphStore, outbox: Outbox
) -> None:
    order = svc.submit_order(leased("W4"))
    before = snapshot(net)
    res = svc.reserve(order.id)
    [wo] = svc.work_orders_of(order.id)
    svc.record_milestone(wo.id, "survey", outcome="failed", note="no duct into the building")
    assert snapshot(net) == before
    assert svc.order(order.id).state == OrderState.FAILED
    assert svc.reservation(res.id).state == ReservationState.RELEASED
    assert outbox.drain()[-1].event == "constructionFailed"
    with pytest.raises(InvalidState):
        svc.record_milestone(wo.id, "survey")
