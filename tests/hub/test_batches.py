"""Batched delivery (a listener's opt-in `batchSize` > 1) against a real receiver, on each store:
arrays in sequence order, signed over the whole body, with the count and first/last id headers,
never larger than the batch size; a failing batch retried whole and then dead-lettered whole; a
replay sent as an array of one; a crash mid-stream losing nothing; the size validated at
registration and kept by the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pboss.config import Settings
from pboss.hub.service import HubRefused, HubService
from pboss.inventory.listeners import DeadLetterState
from pboss.inventory.store import GraphStore
from tests.hub.conftest import ADMIN, CRM, SECRET, Workers, emit, listen, wait_for
from tests.hub.receiver import ReceiverServer


def test_batches_arrive_in_order_signed_and_never_over_the_batch_size(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    listener = listen(hub, receiver, "/crm", batch_size=7)
    before = emit(store, 5)  # committed before the worker starts: one array of 5
    workers.start()
    after = emit(store, 40, per_tx=10)
    wanted = before + after
    rx = receiver.receiver
    wait_for(lambda: len(rx.accepted_ids("/crm")) >= 45, what="45 events")
    hits = rx.accepted("/crm")
    assert rx.accepted_ids("/crm") == wanted  # in sequence order, each once
    assert all(h.valid for h in hits), [h.why for h in hits if not h.valid]  # signature, headers
    assert all(h.batch and 1 <= len(h.event_ids) <= 7 for h in hits)
    assert len(hits) < 45  # several events a POST
    body = hits[0].body
    assert isinstance(body, list) and len(body) == len(hits[0].event_ids)
    assert all(set(e) == {"eventId", "eventTime", "eventType", "event"} for e in body)
    assert body[0]["event"]["productOrder"]["customer"] == "H-SECRET"  # the operator's view
    last = store.last_event_seq()
    wait_for(lambda: (store.get_listener(listener.id) or listener).cursor == last, what="cursor")
    workers.stop_all()
    held = store.get_listener(listener.id)
    assert held is not None and held.delivered == 45 and held.dead == 0 and held.batch_size == 7


def test_a_batch_listener_and_a_single_event_listener_side_by_side(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    listen(hub, receiver, "/one")
    listen(hub, receiver, "/many", batch_size=100)
    workers.start()
    ids = emit(store, 12, per_tx=4)
    rx = receiver.receiver
    wait_for(lambda: len(rx.accepted_ids("/one")) == 12, what="12 single POSTs")
    wait_for(lambda: len(rx.accepted_ids("/many")) == 12, what="12 in arrays")
    assert rx.accepted_ids("/one") == rx.accepted_ids("/many") == ids
    assert not any(h.batch for h in rx.accepted("/one"))  # TMF style: one object a POST
    assert all(h.batch for h in rx.accepted("/many"))  # 12 of 100: sent without waiting for more


def test_a_failing_batch_is_retried_with_the_same_events_then_accepted(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    listen(hub, receiver, "/crm", batch_size=10)
    rx = receiver.receiver
    rx.fail_next("/crm", 2)
    ids = emit(store, 4, per_tx=4)
    workers.start()
    wait_for(lambda: len(rx.accepted_ids("/crm")) == 4, what="the batch accepted")
    tries = rx.received("/crm")
    assert [(h.event_ids, h.attempt, h.status) for h in tries] == [
        (ids, 1, 500),
        (ids, 2, 500),
        (ids, 3, 200),
    ]
    assert all(h.valid for h in tries) and tries[0].body == tries[2].body  # same bytes, re-signed
    assert store.dead_letters() == []


def test_a_batch_failing_every_try_is_dead_lettered_whole_and_replayed_one_a_post(
    store: GraphStore,
    hub: HubService,
    receiver: ReceiverServer,
    workers: Workers,
    settings: Settings,
) -> None:
    listener = listen(hub, receiver, "/crm", batch_size=10)
    rx = receiver.receiver
    rx.fail_next("/crm", settings.hub_max_attempts, status=503)
    dead = emit(store, 4, per_tx=4)
    workers.start()
    wait_for(lambda: len(store.dead_letters(listener=listener.id)) == 4, what="4 dead letters")
    later = emit(store, 2, per_tx=2)  # the stream goes on after the dead batch
    wait_for(lambda: rx.accepted_ids("/crm") == later, what="the later events")
    assert [h.event_ids for h in rx.received("/crm")[:3]] == [dead] * 3
    letters = sorted(store.dead_letters(listener=listener.id), key=lambda d: d.seq)
    assert [d.event_id for d in letters] == dead
    assert {(d.attempts, d.reason, d.state) for d in letters} == {
        (3, "HTTP 503: receiver told to fail (503)", DeadLetterState.DEAD)
    }
    wait_for(lambda: (store.get_listener(listener.id) or listener).dead == 4, what="the count")
    hub.replay(ADMIN, [letters[1].id, letters[0].id])
    wait_for(lambda: len(rx.accepted_ids("/crm")) == 4, what="the two replays")
    replays = rx.accepted("/crm")[-2:]
    assert all(h.batch and h.valid and len(h.event_ids) == 1 for h in replays)  # arrays of one
    assert {eid for h in replays for eid in h.event_ids} == set(dead[:2])
    wait_for(
        lambda: (
            {d.state for d in store.dead_letters(listener=listener.id, first=10)}
            == {DeadLetterState.DELIVERED, DeadLetterState.DEAD}
        ),
        what="the replays marked delivered",
    )


def test_a_crash_mid_stream_with_batches_loses_nothing(
    store: GraphStore,
    hub: HubService,
    receiver: ReceiverServer,
    workers: Workers,
    settings: Settings,
) -> None:
    listener = listen(hub, receiver, "/crm", batch_size=5)
    rx = receiver.receiver
    rx.delay = 0.02
    ids = emit(store, 60, per_tx=10)
    crashing = workers.start(owner="w-crash", batch_events=5)
    wait_for(lambda: len(rx.accepted_ids("/crm")) >= 20, what="a part of the stream")
    crashing.halt()  # as kill -9: nothing more recorded, the lease not given back
    recorded = (store.get_listener(listener.id) or listener).cursor
    seen_before = len(rx.accepted_ids("/crm"))
    assert recorded > 0
    lease_over = datetime.now(UTC) + timedelta(seconds=settings.hub_lease_seconds + 1)
    workers.start(owner="w-late", clock=lambda: lease_over)
    wait_for(lambda: set(rx.accepted_ids("/crm")) >= set(ids), what="the takeover")
    got = rx.accepted_ids("/crm")
    assert list(dict.fromkeys(got)) == ids  # every event, in order, after deduplication
    seqs = {e.id: e.seq for e in store.events_after(0, first=1000)}
    again = [eid for eid in got[seen_before:] if eid in set(got[:seen_before])]
    assert all(seqs[eid] > recorded for eid in again)  # redelivered only after the cursor
    assert all(h.valid and len(h.event_ids) <= 5 for h in rx.accepted("/crm"))


@pytest.mark.parametrize("size", [0, -1, 101])
def test_a_batch_size_outside_1_to_100_is_refused_and_writes_nothing(
    store: GraphStore, hub: HubService, size: int
) -> None:
    with pytest.raises(HubRefused, match="batchSize is 1") as refused:
        hub.register(CRM, "http://127.0.0.1:9/x", secret=SECRET, batch_size=size)
    assert refused.value.field == "batchSize"
    assert store.list_listeners() == []


def test_the_store_keeps_the_batch_size_and_defaults_to_one(
    store: GraphStore, hub: HubService
) -> None:
    one, _ = hub.register(CRM, "http://127.0.0.1:9/one", secret=SECRET)
    many, _ = hub.register(CRM, "http://127.0.0.1:9/many", secret=SECRET, batch_size=100)
    kept = {ls.id: ls.batch_size for ls in store.list_listeners()}
    assert kept == {one.id: 1, many.id: 100}
    got = store.get_listener(many.id)
    assert got is not None and got.batch_size == 100
