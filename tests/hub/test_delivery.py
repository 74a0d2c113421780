"""The delivery worker against a real receiver on 127.0.0.1, on each store: order and signatures,
back-off and retries, dead letters and replay, unreachable and redirecting callbacks, leases
shared by two workers, a stop or a crash mid-stream, and a partner's bounded view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pboss.config import Settings
from pboss.hub.service import Caller, HubService
from pboss.inventory.listeners import DeadLetterState
from pboss.inventory.store import GraphStore
from tests.hub.conftest import (
    ADMIN,
    Waits,
    Workers,
    emit,
    hub_settings,
    listen,
    wait_for,
)
from tests.hub.receiver import ReceiverServer
from tests.neo4j_server import free_port


def _log_ids(store: GraphStore, after: int = 0) -> list[str]:
    return [e.id for e in store.events_after(after, first=1000)]


def test_events_arrive_in_order_signed_and_tmf_shaped(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    listener = listen(hub, receiver, "/crm")
    before = emit(store, 5)  # committed before the worker starts: delivered from the cursor
    workers.start()
    after = emit(store, 25, per_tx=5)  # heard as they commit
    wanted = before + after
    wait_for(lambda: len(receiver.receiver.accepted("/crm")) >= 30, what="30 deliveries")
    hits = receiver.receiver.accepted("/crm")
    assert [h.event_id for h in hits] == wanted == _log_ids(store, listener.cursor)
    assert all(h.valid for h in hits), [h.why for h in hits if not h.valid]
    assert {h.attempt for h in hits} == {1}
    first = hits[0].body
    assert first is not None and set(first) == {"eventId", "eventTime", "eventType", "event"}
    assert first["eventId"] == wanted[0] and first["eventType"] == hits[0].event_type
    assert first["event"]["productOrder"]["customer"] == "H-SECRET"  # the operator's view
    last = store.last_event_seq()
    # the receiver records before it answers: wait until the worker has heard the last 2xx
    wait_for(lambda: (store.get_listener(listener.id) or listener).cursor == last, what="cursor")
    workers.stop_all()
    held = store.get_listener(listener.id)
    assert held is not None and held.cursor == last
    assert held.delivered == 30 and held.dead == 0 and held.lease_owner is None


def test_a_failing_receiver_is_retried_with_backoff_until_it_accepts(
    store: GraphStore,
    hub: HubService,
    receiver: ReceiverServer,
    workers: Workers,
    settings: Settings,
) -> None:
    listen(hub, receiver, "/crm")
    receiver.receiver.fail_next("/crm", 2)
    waits = Waits()
    workers.start(sleep=waits)
    [eid, later] = emit(store, 2)
    wait_for(lambda: len(receiver.receiver.accepted("/crm")) == 2, what="two deliveries")
    tries = receiver.receiver.received("/crm")
    assert [(h.event_id, h.attempt, h.status) for h in tries] == [
        (eid, 1, 500),
        (eid, 2, 500),
        (eid, 3, 200),
        (later, 1, 200),
    ]
    assert all(h.valid for h in tries)  # each try signed afresh
    base, cap = settings.hub_backoff_seconds, settings.hub_backoff_max_seconds
    assert len(waits.delays) == 2
    assert 0 <= waits.delays[0] <= base and 0 <= waits.delays[1] <= min(cap, 2 * base)
    assert store.dead_letters() == []


def test_backoff_has_full_jitter_and_a_cap() -> None:
    import random

    from pboss.hub.sender import Backoff

    rng = random.Random(7)
    backoff = Backoff(base=0.5, cap=4.0, max_attempts=10)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0), (200, 4.0)]:
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8 and min(delays) < ceiling * 0.2  # spread, not fixed


def test_after_max_attempts_a_dead_letter_and_later_events_still_go_then_replay(
    store: GraphStore,
    hub: HubService,
    receiver: ReceiverServer,
    workers: Workers,
    settings: Settings,
) -> None:
    listener = listen(hub, receiver, "/crm")
    rx = receiver.receiver
    rx.fail_next("/crm", settings.hub_max_attempts, status=503)
    workers.start()
    ids = emit(store, 3)
    wait_for(lambda: len(rx.accepted("/crm")) == 2, what="the two later events")
    wait_for(lambda: bool(store.dead_letters(listener=listener.id)), what="the dead letter")
    assert rx.accepted_ids("/crm") == ids[1:]
    assert [h.attempt for h in rx.received("/crm")[:3]] == [1, 2, 3]
    [dl] = store.dead_letters(listener=listener.id)
    assert (dl.event_id, dl.attempts, dl.state) == (ids[0], 3, DeadLetterState.DEAD)
    assert dl.reason == "HTTP 503: receiver told to fail (503)"
    wait_for(lambda: (store.get_listener(listener.id) or listener).dead == 1, what="the count")
    hub.replay(ADMIN, [dl.id])  # the worker sends queued replays before its next events
    wait_for(lambda: len(rx.accepted("/crm")) == 3, what="the replay")
    assert rx.accepted_ids("/crm")[-1] == ids[0] and rx.accepted("/crm")[-1].valid
    wait_for(
        lambda: store.dead_letters(listener=listener.id)[0].state == DeadLetterState.DELIVERED,
        what="the dead letter marked delivered",
    )
    assert store.dead_letters(listener=listener.id)[0].replays == 1


def test_a_replay_that_fails_again_goes_back_to_dead_with_the_new_reason(
    store: GraphStore,
    hub: HubService,
    receiver: ReceiverServer,
    workers: Workers,
    settings: Settings,
) -> None:
    listener = listen(hub, receiver, "/crm")
    rx = receiver.receiver
    rx.fail_next("/crm", settings.hub_max_attempts, status=500)
    workers.start()
    emit(store, 1)
    wait_for(lambda: bool(store.dead_letters(listener=listener.id)), what="the dead letter")
    rx.fail_next("/crm", settings.hub_max_attempts, status=429)
    [_queued] = hub.replay(ADMIN, [d.id for d in store.dead_letters(listener=listener.id)])
    wait_for(
        lambda: store.dead_letters(listener=listener.id)[0].state == DeadLetterState.DEAD,
        what="the failed replay",
    )
    [again] = store.dead_letters(listener=listener.id)
    assert again.reason == "replay: HTTP 429: receiver told to fail (429)"
    assert again.replays == 1 and len(rx.received("/crm")) == 2 * settings.hub_max_attempts


def test_unreachable_redirecting_and_hanging_callbacks_are_dead_lettered_with_the_reason(
    store: GraphStore, receiver: ReceiverServer, workers: Workers
) -> None:
    settings = hub_settings(hub_max_attempts=2, hub_timeout_seconds=0.3)
    hub = HubService(store, settings)
    closed = f"http://127.0.0.1:{free_port()}/nobody"
    gone, _ = hub.register(ADMIN, closed, secret="x" * 20)
    moved = listen(hub, receiver, "/moved")
    slow = listen(hub, receiver, "/slow")
    receiver.receiver.redirect("/moved", receiver.base + "/elsewhere")
    receiver.receiver.hang_next("/slow", 2, seconds=1.5)
    workers.start(settings=settings)
    [eid] = emit(store, 1)
    for ls in (gone, moved, slow):
        wait_for(lambda ls=ls: bool(store.dead_letters(listener=ls.id)), what=ls.callback)
    reasons = {ls.id: store.dead_letters(listener=ls.id)[0].reason for ls in (gone, moved, slow)}
    assert reasons[gone.id].startswith("cannot connect")
    assert reasons[moved.id] == (
        f"HTTP 307: redirects to {receiver.base}/elsewhere (redirects are not followed)"
    )
    assert reasons[slow.id] == "no answer within 0.3 s (timeout)"
    assert receiver.receiver.accepted_ids("/elsewhere") == []  # the redirect was not followed
    assert {d.event_id for d in store.dead_letters()} == {eid}


def test_a_slow_receiver_within_the_timeout_gets_everything(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    listen(hub, receiver, "/crm")
    receiver.receiver.delay = 0.05
    workers.start()
    ids = emit(store, 6, per_tx=3)
    wait_for(lambda: len(receiver.receiver.accepted("/crm")) == 6, what="six slow deliveries")
    assert receiver.receiver.accepted_ids("/crm") == ids and store.dead_letters() == []


def test_two_workers_on_one_store_deliver_each_event_once(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    paths = ["/a", "/b", "/c"]
    for p in paths:
        listen(hub, receiver, p)
    one, two = workers.start(owner="w-one"), workers.start(owner="w-two")
    ids = emit(store, 40, per_tx=4)
    for p in paths:
        wait_for(lambda p=p: len(receiver.receiver.accepted(p)) >= 40, what=f"40 on {p}")
    workers.stop_all()
    for p in paths:
        assert receiver.receiver.accepted_ids(p) == ids  # each once, in order
    owners = {*one.worker.runs, *two.worker.runs}
    assert owners == set()  # both stopped: every lease released
    assert all(ls.lease_owner is None for ls in store.list_listeners())


def test_a_lost_lease_stops_the_worker_on_that_listener(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    listener = listen(hub, receiver, "/crm")
    handle = workers.start(owner="w-old", batch_events=1)  # records after every event
    emit(store, 2)
    wait_for(lambda: len(receiver.receiver.accepted("/crm")) == 2, what="two deliveries")
    # another deliverer takes the listener over (as after an expired lease)
    later = datetime.now(UTC) + timedelta(hours=1)
    [taken] = store.claim_listeners("w-new", now=later, until=later + timedelta(hours=1), limit=10)
    assert taken.id == listener.id
    emit(store, 3)
    wait_for(lambda: listener.id not in handle.worker.runs, what="the worker to let go")
    # it stops when it hears its record refused: the record goes on while the next event is
    # sent, so at most the event of that batch and the one after it went out
    assert len(receiver.receiver.accepted("/crm")) <= 4
    assert (store.get_listener(listener.id) or listener).lease_owner == "w-new"


def test_a_worker_stopped_mid_stream_and_a_new_one_deliver_everything_once(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    listen(hub, receiver, "/crm")
    rx = receiver.receiver
    rx.delay = 0.01
    ids = emit(store, 60, per_tx=10)
    first = workers.start(owner="w-first")
    wait_for(lambda: len(rx.accepted("/crm")) >= 15, what="a part of the stream")
    first.stop()  # records what was delivered, gives the lease back
    workers.start(owner="w-second")
    wait_for(lambda: set(rx.accepted_ids("/crm")) >= set(ids), what="the rest")
    got = rx.accepted_ids("/crm")
    # a stop cancels at most the one POST in flight: it may come again, nothing else does
    assert len(got) - len(set(got)) <= 1
    assert list(dict.fromkeys(got)) == ids


def test_a_crashed_worker_s_listeners_are_taken_over_when_its_lease_runs_out(
    store: GraphStore,
    hub: HubService,
    receiver: ReceiverServer,
    workers: Workers,
    settings: Settings,
) -> None:
    listener = listen(hub, receiver, "/crm")
    rx = receiver.receiver
    rx.delay = 0.01
    ids = emit(store, 60, per_tx=10)
    crashing = workers.start(owner="w-crash")
    wait_for(lambda: len(rx.accepted("/crm")) >= 20, what="a part of the stream")
    crashing.halt()  # as kill -9: nothing more recorded, the lease not given back
    recorded = (store.get_listener(listener.id) or listener).cursor
    seen_before = len(rx.accepted("/crm"))
    assert recorded > 0
    # a second worker now cannot take it; one whose clock is past the lease can
    now = workers.start(owner="w-early")
    assert listener.id not in now.worker.runs
    now.stop()
    lease_over = datetime.now(UTC) + timedelta(seconds=settings.hub_lease_seconds + 1)
    workers.start(owner="w-late", clock=lambda: lease_over)
    wait_for(lambda: set(rx.accepted_ids("/crm")) >= set(ids), what="the takeover")
    got = rx.accepted_ids("/crm")
    assert list(dict.fromkeys(got)) == ids  # every event, in order, after deduplication
    seqs = {e.id: e.seq for e in store.events_after(0, first=1000)}
    again = [eid for eid in got[seen_before:] if eid in set(got[:seen_before])]
    assert all(seqs[eid] > recorded for eid in again)  # redelivered only after the cursor


def test_a_partner_listener_gets_only_its_events_in_the_partner_view(
    store: GraphStore, hub: HubService, receiver: ReceiverServer, workers: Workers
) -> None:
    partner = Caller(role="partner", name="tietong", partner_id="P-TT")
    listen(hub, receiver, "/tt", caller=partner)
    listen(hub, receiver, "/crm")
    workers.start()
    mine = emit(store, 2, partners=["P-TT"])
    other = emit(store, 2, partners=["P-OC"])
    none = emit(store, 1)
    both = emit(store, 1, partners=["P-OC", "P-TT"])
    wait_for(lambda: len(receiver.receiver.accepted("/crm")) == 6, what="the operator's six")
    wait_for(lambda: len(receiver.receiver.accepted("/tt")) == 3, what="the partner's three")
    hits = receiver.receiver.accepted("/tt")
    assert [h.event_id for h in hits] == mine + both
    assert receiver.receiver.accepted_ids("/crm") == mine + other + none + both
    for h in hits:
        assert h.valid and h.body is not None
        order = h.body["event"]["productOrder"]
        assert "customer" not in order and order["id"] == "ORD-T"  # the partner's view
