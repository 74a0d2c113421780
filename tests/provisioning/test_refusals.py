"""A refused reservation leaves a trace: the order's history says it was refused and why, CRM
hears of it, and nothing is held. Runs on the memory store and on Neo4j."""

from __future__ import annotations

import pytest

from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import NoCapacity
from pboss.provisioning.model import OrderState
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.steps import REFUSED
from tests.provisioning.conftest import Clock, ftth, leased, snapshot


def _refused(svc: ProvisioningService, order_id: str) -> NoCapacity:
    with pytest.raises(NoCapacity) as err:
        svc.reserve(order_id)
    return err.value


def test_a_refusal_is_recorded_on_the_order_with_its_reasons_and_holds_nothing(
    svc: ProvisioningService, net: GraphStore, outbox: Outbox, clock: Clock
) -> None:
    order = svc.submit_order(ftth("R1", site="CP-XX"))  # an office tower: no splitter there
    outbox.drain()
    before = snapshot(net)
    refusal = _refused(svc, order.id)
    assert snapshot(net) == before
    after = svc.order(order.id)
    assert after.state == OrderState.ACKNOWLEDGED and after.reservations == []
    last = after.events()[-1]
    assert (last.event, last.state, last.note) == (REFUSED, "acknowledged", refusal.message)
    assert last.reasons == refusal.reasons
    assert "CP-XX: no splitter at this site" in last.reasons
    assert last.at == clock.now
    [event] = outbox.drain()
    assert event.event == REFUSED and "CP-XX: no splitter at this site" in event.note


def test_the_same_refusal_again_is_not_repeated_but_a_new_one_is(
    svc: ProvisioningService, net: GraphStore, clock: Clock
) -> None:
    order = svc.submit_order(leased("R2", z="EX-1", n=62))  # TS-1 has only 61 free slots
    _refused(svc, order.id)
    clock.advance(minutes=5)
    _refused(svc, order.id)  # CRM retrying: same reasons, one entry
    events = svc.order(order.id).events()
    assert [e.event for e in events] == ["acknowledged", REFUSED]
    net.set_status("NE-1", "maintenance", actor="test", reason="works")
    clock.advance(minutes=5)
    other = _refused(svc, order.id)
    events = svc.order(order.id).events()
    assert [e.event for e in events] == ["acknowledged", REFUSED, REFUSED]
    assert events[-1].reasons == other.reasons != events[1].reasons


def test_a_preview_of_an_unservable_order_records_nothing(
    svc: ProvisioningService, net: GraphStore
) -> None:
    order = svc.submit_order(ftth("R3", site="CP-XX"))
    with pytest.raises(NoCapacity):
        svc.plan(order, fresh=True)
    assert svc.order(order.id).history == order.history
