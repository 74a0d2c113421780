"""Order events in the store's event log: each step's events commit with the step (TMF622
shape, gap-free numbers), the notifier hears the same events by id, a step that fails writes
none, and a new service on the same store resumes from a sequence number; on each store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.events import CREATE, JEOPARDY, MILESTONE, STATE_CHANGE
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from tests.provisioning.conftest import Clock, ftth, leased


def test_a_flow_writes_its_order_events_in_order(
    svc: ProvisioningService, net: GraphStore, clock: Clock, outbox: Outbox
) -> None:
    res = svc.reserve(svc.submit_order(ftth("E1")).id)
    svc.confirm(res.id)
    svc.reserve(svc.submit_order(leased("E2")).id)
    [wo] = svc.work_orders_of("ORD-E2")
    svc.record_milestone(wo.id, "survey", note="duct found")
    clock.advance(hours=55)  # the line crosses Tietong's link: partner-built, 72 h, jeopardy at 54
    svc.sweep_expired()
    svc.cancel("ORD-E2")
    log = net.events_after(0, first=100)
    sent = outbox.drain()
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert [e.id for e in log] == [e.event_id for e in sent]  # the notifier hears them by id
    steps = [(e.subject, e.body["event"]["productOrder"]["pbossEvent"], e.type) for e in log]
    assert steps == [
        ("ORD-E1", "acknowledged", CREATE),
        ("ORD-E1", "resourcesReserved", STATE_CHANGE),
        ("ORD-E1", "serviceActivated", STATE_CHANGE),
        ("ORD-E2", "acknowledged", CREATE),
        ("ORD-E2", "resourcesReserved", STATE_CHANGE),
        ("ORD-E2", "constructionDispatched", MILESTONE),
        ("ORD-E2", "survey", MILESTONE),
        ("ORD-E2", "jeopardy", JEOPARDY),
        ("ORD-E2", "cancelled", STATE_CHANGE),
    ]
    done = log[2].body
    assert done["eventId"] == log[2].id and done["eventType"] == STATE_CHANGE
    order = done["event"]["productOrder"]
    assert order["@type"] == "ProductOrder"
    assert (order["id"], order["externalId"], order["state"]) == ("ORD-E1", "E1", "completed")
    assert order["reservationId"] == res.id and order["serviceId"] == "SVC-E1"
    assert log[6].body["event"]["productOrder"]["milestone"][0]["name"] == "survey"
    alert = log[7].body["event"]["productOrder"]["jeopardyAlert"][0]
    assert alert["jeopardyType"] == "hazard"
    assert svc.submit_order(ftth("E1")) and net.events_after(log[-1].seq, first=5) == []


class _FailsAtCommit:
    """A store whose transactions run the step (emits included) and then fail before commit."""

    def __init__(self, store: GraphStore):
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def transact(self, work: Callable[[GraphTx], Any], *, actor: str, reason: str) -> Any:
        def failing(tx: GraphTx) -> Any:
            work(tx)
            raise RuntimeError("lost the connection before the commit")

        return self.store.transact(failing, actor=actor, reason=reason)


def test_a_step_that_fails_after_emitting_leaves_no_event(net: GraphStore, clock: Clock) -> None:
    outbox = Outbox()
    broken = ProvisioningService(_FailsAtCommit(net), notifier=outbox, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        broken.submit_order(ftth("F1"))
    assert net.events_after(0, first=10) == [] and outbox.drain() == []
    assert net.get("ORD-F1") is None


def test_a_new_service_on_the_same_store_resumes_from_the_last_sequence(
    svc: ProvisioningService, net: GraphStore, clock: Clock
) -> None:
    """The "restart": the events are in the store, so a new process reads on from a cursor."""
    svc.reserve(svc.submit_order(ftth("R1")).id)
    seen = net.events_after(0, first=100)
    del svc
    again = ProvisioningService(
        net, notifier=Outbox(), clock=clock, settings=ProvisioningSettings(links_cache_seconds=0)
    )
    again.release(again.reservations_of("ORD-R1")[0].id)
    later = net.events_after(seen[-1].seq, first=100)
    assert [e.seq for e in later] == [seen[-1].seq + 1]
    assert later[0].body["event"]["productOrder"]["pbossEvent"] == "reservationReleased"


def test_without_a_notifier_nothing_piles_up_in_memory(net: GraphStore, clock: Clock) -> None:
    """The app runs the service without a notifier: its events are in the store's log only, not
    also in an in-process outbox nobody drains (which grew for the process's life)."""
    plain = ProvisioningService(net, clock=clock)
    plain.submit_order(ftth("M1"))
    assert not isinstance(plain.notifier, Outbox)
    assert [e.subject for e in net.events_after(0, first=5)] == ["ORD-M1"]


@pytest.mark.neo4j
def test_on_neo4j_a_reservation_and_its_event_cost_no_extra_round_trip(
    net: GraphStore, clock: Clock
) -> None:
    """The events of a step are numbered and stored by the step's own write statement: an FTTH
    reservation is the site view, the claim (lock and re-read) and the commit that writes the
    hold and its event, 3 queries, as before the log."""
    if net.name != "neo4j":
        pytest.skip("counts the Neo4j client's queries")
    svc = ProvisioningService(net, clock=clock)
    order = svc.submit_order(ftth("RT1"))
    seq = len(net.events_after(0, first=1000))
    before = net.client.queries_run  # type: ignore[attr-defined]
    names: list[str] = []
    net.client.on_query = lambda name, _s: names.append(name)  # type: ignore[attr-defined]
    svc.reserve(order.id)
    net.client.on_query = None  # type: ignore[attr-defined]
    ran = net.client.queries_run - before  # type: ignore[attr-defined]
    events = net.events_after(seq, first=10)
    assert [e.body["event"]["productOrder"]["pbossEvent"] for e in events] == ["resourcesReserved"]
    assert (ran, names) == (3, ["site_view", "tx.claim", "tx.commit"])
