"""Sending any step twice changes nothing the second time; unservable requests hold nothing
(the order's history records why)."""

from __future__ import annotations

import pytest

from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import Conflict, InvalidRequest, InvalidState, NoCapacity, NotFound
from pboss.provisioning.model import OrderState
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from tests.provisioning.conftest import add, ftth, leased, snapshot


def test_every_step_sent_twice_changes_nothing_the_second_time(
    svc: ProvisioningService, net: GraphStore, outbox: Outbox
) -> None:
    req = ftth("I1")
    steps = [
        ("submit", lambda: svc.submit_order(req)),
        ("reserve", lambda: svc.reserve("ORD-I1")),
        ("confirm", lambda: svc.confirm("RSV-I1-1")),
        ("reserve after confirm", lambda: svc.reserve("ORD-I1")),
    ]
    for name, step in steps:
        first = step()
        sent = len(outbox.peek())
        before = snapshot(net, provisioning=True)
        assert step() == first, name
        assert snapshot(net, provisioning=True) == before, name
        assert len(outbox.peek()) == sent, name


def test_release_and_cancel_sent_twice_change_nothing_the_second_time(
    svc: ProvisioningService, net: GraphStore
) -> None:
    res = svc.reserve(svc.submit_order(leased("I2")).id)
    for step in (lambda: svc.release(res.id), lambda: svc.cancel("ORD-I2")):
        first = step()
        before = snapshot(net, provisioning=True)
        assert step() == first
        assert snapshot(net, provisioning=True) == before


def test_the_same_crm_order_id_with_other_content_is_a_conflict(
    svc: ProvisioningService, net: GraphStore
) -> None:
    svc.submit_order(ftth("I3"))
    before = snapshot(net, provisioning=True)
    with pytest.raises(Conflict) as err:
        svc.submit_order(ftth("I3", site="B-DH"))
    assert err.value.reasons == ["site: 'B-JZ' recorded, 'B-DH' sent"]
    assert snapshot(net, provisioning=True) == before


@pytest.mark.parametrize(
    ("case", "expected_reason"),
    [
        ("no splitter at the site", "CP-XX: no splitter at this site"),
        ("no free port", "SPL-JZ-2B: no free output (8 of 8 busy)"),
        ("not enough slots", "TS-1: only 61 free VC-12 slots, 62 needed"),
        ("faulty OLT", "SPL-DH-2A: chain not healthy: OLT OLT-2 is faulty"),
        ("no port for n x 2M", "NE-A: no free FE/GE (Ethernet over SDH) port for 2 x 2 Mb/s"),
    ],
)
def test_unservable_requests_get_a_typed_reason_and_write_nothing(
    svc: ProvisioningService, net: GraphStore, case: str, expected_reason: str
) -> None:
    if case == "no splitter at the site":
        order = svc.submit_order(ftth("U1", site="CP-XX"))
    elif case == "no free port":
        free = [p for sv in net.site_view("B-JZ").splitters for p in sv.free_ports]
        onts = [{"kind": "ONT", "id": f"ONT-{p}", "site": "B-JZ"} for p in free]
        add(net, onts, [{"type": "FED_BY", "src": f"ONT-{p}", "dst": p} for p in free])
        order = svc.submit_order(ftth("U1"))
    elif case == "not enough slots":
        order = svc.submit_order(leased("U1", z="EX-1", n=62))
    elif case == "faulty OLT":
        net.set_status("OLT-2", "faulty", actor="test", reason="alarm")
        order = svc.submit_order(ftth("U1", site="B-DH"))
    else:
        for i in range(1, 11):
            net.set_status(f"NE-A/GE-{i}", "maintenance", actor="test", reason="fill")
        order = svc.submit_order(leased("U1", n=2))
    before, recorded = snapshot(net), svc.order(order.id)
    with pytest.raises(NoCapacity) as err:
        svc.reserve(order.id)
    assert expected_reason in err.value.reasons
    assert snapshot(net) == before  # nothing held: only the order's history says why
    after = svc.order(order.id)
    assert after.state == OrderState.ACKNOWLEDGED and after.reservations == []
    assert after.history[:-1] == recorded.history
    assert expected_reason in after.events()[-1].reasons


def test_malformed_requests_and_unknown_ids_are_typed(svc: ProvisioningService) -> None:
    with pytest.raises(InvalidRequest, match="unknown product"):
        svc.submit_order(ftth("M1").model_copy(update={"product": "NOPE"}))
    with pytest.raises(InvalidRequest, match="two different sites"):
        svc.submit_order(leased("M2", a="EX-1", z="EX-1"))
    with pytest.raises(NotFound, match="Site 'NOWHERE'"):
        svc.submit_order(ftth("M3", site="NOWHERE"))
    with pytest.raises(NotFound):
        svc.reserve("ORD-NONE")
    with pytest.raises(NotFound):
        svc.confirm("RSV-NONE")
    with pytest.raises(Conflict, match="customer id"):
        svc.submit_order(ftth("M4", customer="OLT-1"))
    res = svc.reserve(svc.submit_order(ftth("M5")).id)
    svc.release(res.id)
    with pytest.raises(InvalidState):
        svc.confirm(res.id)
