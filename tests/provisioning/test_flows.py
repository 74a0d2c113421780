"""Order -> reserve -> confirm / release / expiry on every store, traced and snapshot-compared."""

from __future__ import annotations

import pytest

from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import Expired, InvalidState
from pboss.provisioning.model import OrderState, ReservationState
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from tests.provisioning.conftest import Clock, cable, ftth, leased, snapshot


def _complete_construction(svc: ProvisioningService, order_id: str) -> None:
    [wo] = svc.work_orders_of(order_id)
    for milestone in ("survey", "installation", "remoteTest", "acceptance"):
        svc.record_milestone(wo.id, milestone)


def test_ftth_confirm_puts_the_customer_on_every_resource_of_the_path(
    svc: ProvisioningService, net: GraphStore, outbox: Outbox
) -> None:
    order = svc.submit_order(ftth("F1", customer="H-NEW"))
    res = svc.reserve(order.id)
    assert res.state == ReservationState.HELD
    assert res.resources == ["SPL-JZ-2A:3"]  # stage 2, then id order; ports by index
    done = svc.confirm(res.id)
    assert done.state == ReservationState.CONFIRMED
    assert (done.service, done.ont) == ("SVC-F1", "ONT-F1")
    trace = net.trace("SVC-F1")
    path = [h.element.id for h in trace.hops]
    assert path == [
        "ONT-F1", "SPL-JZ-2A:3", "SPL-JZ-2A", "SPL-JZ-1:1", "SPL-JZ-1", "OLT-1/0/1", "OLT-1",
    ]  # fmt: skip
    for rid in path:
        riders = net.riders([rid], first=100)
        assert "SVC-F1" in [r.service.id for r in riders.items], rid
        mine = next(r for r in riders.items if r.service.id == "SVC-F1")
        assert mine.customer is not None and mine.customer.id == "H-NEW"
    assert svc.order(order.id).state == OrderState.COMPLETED
    assert [e.event for e in outbox.drain()] == [
        "acknowledged",
        "resourcesReserved",
        "serviceActivated",
    ]
    assert net.site_view("B-JZ").splitters[1].busy_ports == 3  # SPL-JZ-2A: 1, 2 and ours


def test_leased_line_confirm_builds_the_circuit_with_its_slots(
    svc: ProvisioningService, net: GraphStore, outbox: Outbox
) -> None:
    order = svc.submit_order(leased("L1", n=2))
    res = svc.reserve(order.id)
    assert res.resources == ["NE-A/GE-1", "TS-1", "TS-2", "PL-1", "NE-Z/GE-1"]
    [wo] = svc.work_orders_of(order.id)
    assert (wo.assignee, wo.assignee_type) == ("P-TT", "partner")  # PL-1 is Tietong's
    with pytest.raises(InvalidState, match="not accepted"):
        svc.confirm(res.id)
    _complete_construction(svc, order.id)  # acceptance confirms
    done = svc.reservation(res.id)
    assert done.state == ReservationState.CONFIRMED and done.circuit == "CIR-L1"
    trace = net.trace("SVC-L1")
    hops = {h.element.id: h for h in trace.hops}
    # first free slots: TS-1 has 1-2 used, TS-2 1-6, PL-1 10-11
    assert hops["TS-1"].slots == [3, 4] and hops["TS-1"].seq == 1
    assert hops["TS-2"].slots == [7, 8] and hops["TS-2"].seq == 2
    assert hops["PL-1"].slots == [1, 2] and hops["PL-1"].seq == 3
    assert [h.role for h in trace.hops if h.element.id in ("NE-A/GE-1", "NE-Z/GE-1")] == [
        "a_end",
        "z_end",
    ]
    for rid in ["NE-A/GE-1", "NE-A", "TS-1", "NE-1", "TS-2", "NE-2", "PL-1", "NE-Z", "NE-Z/GE-1"]:
        assert "SVC-L1" in [r.service.id for r in net.riders([rid], first=100).items], rid
    events = [e.event for e in outbox.drain()]
    assert events == [
        "acknowledged",
        "resourcesReserved",
        "constructionDispatched",
        "survey",
        "installation",
        "remoteTest",
        "acceptance",
        "serviceActivated",
    ]


def test_cable_order_uses_the_partner_pool(svc: ProvisioningService, net: GraphStore) -> None:
    order = svc.submit_order(cable("C1"))
    res = svc.reserve(order.id)
    assert res.resources == ["PA-DH-OC"]
    assert net.get("PA-DH-OC").reserved == 1  # type: ignore[union-attr]
    [wo] = svc.work_orders_of(order.id)
    assert wo.assignee == "P-OC"
    _complete_construction(svc, order.id)
    pool = net.get("PA-DH-OC")
    assert (pool.used, pool.reserved) == (41, 0)  # type: ignore[union-attr]
    assert "SVC-C1" in [r.service.id for r in net.riders(["PA-DH-OC"]).items]


def test_release_leaves_every_resource_as_before(svc: ProvisioningService, net: GraphStore) -> None:
    for req in (
        ftth("R1"),
        leased("R2", n=3),
        ftth("R3", site="B-DH").model_copy(update={"product": "CABLE-BB"}),
    ):
        order = svc.submit_order(req)
        before = snapshot(net)
        res = svc.reserve(order.id)
        assert snapshot(net) != before
        released = svc.release(res.id)
        assert released.state == ReservationState.RELEASED
        assert snapshot(net) == before
        assert svc.order(order.id).state == OrderState.PENDING
        assert svc.work_orders_of(order.id) == [] or all(
            w.state == "cancelled" for w in svc.work_orders_of(order.id)
        )


def test_expiry_leaves_every_resource_as_before(
    svc: ProvisioningService, net: GraphStore, clock: Clock, outbox: Outbox
) -> None:
    order = svc.submit_order(ftth("X1"))
    before = snapshot(net)
    res = svc.reserve(order.id, ttl_seconds=60)
    clock.advance(seconds=59)
    assert svc.sweep_expired().expired == []
    clock.advance(seconds=1)
    assert svc.sweep_expired().expired == [res.id]
    assert snapshot(net) == before
    assert svc.reservation(res.id).state == ReservationState.EXPIRED
    assert svc.order(order.id).state == OrderState.PENDING
    assert outbox.drain()[-1].event == "reservationExpired"
    with pytest.raises(Expired):
        svc.confirm(res.id)
    assert svc.sweep_expired().expired == []
    again = svc.reserve(order.id)  # a new hold after the old one lapsed
    assert again.id == "RSV-X1-2" and again.state == ReservationState.HELD


def test_a_lapsed_hold_cannot_confirm_even_before_the_sweeper_runs(
    svc: ProvisioningService, clock: Clock
) -> None:
    res = svc.reserve(svc.submit_order(ftth("X2")).id)
    clock.advance(minutes=31)  # default TTL 30 min
    with pytest.raises(Expired):
        svc.confirm(res.id)


def test_cancel_frees_the_hold_and_closes_the_order(
    svc: ProvisioningService, net: GraphStore
) -> None:
    order = svc.submit_order(leased("K1"))
    before = snapshot(net)
    svc.reserve(order.id)
    cancelled = svc.cancel(order.id, "customer changed their mind")
    assert cancelled.state == OrderState.CANCELLED
    assert snapshot(net) == before
    assert [w.state for w in svc.work_orders_of(order.id)] == ["cancelled"]
    with pytest.raises(InvalidState):
        svc.reserve(order.id)


def test_a_held_resource_cannot_be_deleted_even_by_cascade(
    svc: ProvisioningService, net: GraphStore
) -> None:
    from pboss.inventory.errors import HasDependants

    res = svc.reserve(svc.submit_order(ftth("F-DEL", customer="H-DEL")).id)
    [port] = res.resources
    before = snapshot(net)
    for cascade in (False, True):
        with pytest.raises(HasDependants) as err:
            net.delete([port], cascade=cascade)
        assert err.value.dependants == [res.id]
    assert snapshot(net) == before
    svc.release(res.id)
    assert net.delete([port]) == [port]
