"""The event hub's records (`GraphStore` listener port, `pboss.inventory.listeners`) on each store:
listeners registered, listed and removed with their dead letters; leases claimed by one holder
only, even under a race, renewed by it and taken over after expiry; deliveries recorded only by
the holder, the cursor never moving back; dead letters listed and replayed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import pytest

from pboss.inventory.events import EventFilter
from pboss.inventory.listeners import (
    MAX_DEAD_LETTERS_PAGE,
    DeadLetter,
    DeadLetterState,
    DeliveryReport,
    Listener,
    ListenerState,
)
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import AlreadyExists

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def listener(n: int, **changes: object) -> Listener:
    """Listener LST-<n>, a CRM callback filtering on every criterion."""
    base = Listener(
        id=f"LST-{n:03d}",
        callback=f"https://crm.example/hooks/{n}",
        secret=f"secret-{n}-0123456789abcdef",
        where=EventFilter(
            types=["ProductOrderStateChangeEvent"],
            subjects=["ORD-1"],
            sites=["SITE-A"],
            products=["FTTH"],
            partner="PTN-1",
        ),
        owner_role="crm",
        owner_partner=None,
        created_by="crm-bot",
        created_at=T0,
    )
    return base.model_copy(update=changes)


def dead(listener_id: str, seq: int, **changes: object) -> DeadLetter:
    """A dead letter of `listener_id` for the event numbered `seq`."""
    letter = DeadLetter(
        id=f"DL-{listener_id}-{seq}",
        listener=listener_id,
        seq=seq,
        event_id=f"EV-{seq}",
        event_type="ProductOrderStateChangeEvent",
        reason="HTTP 500 from the callback",
        attempts=5,
        at=T0 + timedelta(minutes=seq),
    )
    return letter.model_copy(update=changes)


def report(
    cursor: int, *, delivered: int = 0, dead_letters: tuple[DeadLetter, ...] = ()
) -> DeliveryReport:
    """A delivery report moving the cursor to `cursor`, renewing the lease to T0 + 1 minute."""
    return DeliveryReport(
        cursor=cursor,
        lease_until=T0 + timedelta(minutes=1),
        delivered=delivered,
        last_delivered_at=T0 + timedelta(seconds=cursor) if delivered else None,
        dead=list(dead_letters),
    )


def claim(store: GraphStore, owner: str, at: datetime = T0, limit: int = 100) -> list[str]:
    """Claim for `owner` at `at` (lease of `LEASE`); the ids it now holds."""
    return [ls.id for ls in store.claim_listeners(owner, now=at, until=at + LEASE, limit=limit)]


# ---- add, get, list, remove ----------------------------------------------------------------


def test_a_listener_reads_back_as_registered(store: GraphStore) -> None:
    ls = listener(1, owner_role="partner", owner_partner="PTN-1", cursor=17)
    store.add_listener(ls)
    assert store.get_listener("LST-001") == ls
    assert store.get_listener("LST-404") is None
    bare = listener(2, where=EventFilter())
    store.add_listener(bare)
    got = store.get_listener("LST-002")
    assert got == bare
    assert got is not None and got.where.types is None and got.where.partner is None


def test_a_taken_id_is_refused_and_the_first_listener_stays(store: GraphStore) -> None:
    store.add_listener(listener(1))
    with pytest.raises(AlreadyExists):
        store.add_listener(listener(1, callback="https://evil.example/"))
    assert store.get_listener("LST-001") == listener(1)
    assert len(store.list_listeners()) == 1


def test_listeners_are_listed_by_id(store: GraphStore) -> None:
    for n in (3, 1, 2):
        store.add_listener(listener(n))
    assert [ls.id for ls in store.list_listeners()] == ["LST-001", "LST-002", "LST-003"]


def test_removing_a_listener_drops_its_dead_letters_only(store: GraphStore) -> None:
    for n in (1, 2):
        store.add_listener(listener(n))
        assert claim(store, "w1") != []
        lid = f"LST-{n:03d}"
        assert store.record_delivery(lid, "w1", report(3, dead_letters=(dead(lid, 2),)))
    assert store.remove_listener("LST-001") is True
    assert store.get_listener("LST-001") is None
    assert [d.listener for d in store.dead_letters()] == ["LST-002"]
    assert store.remove_listener("LST-001") is False
    assert [ls.id for ls in store.list_listeners()] == ["LST-002"]


def test_clear_forgets_listeners_and_dead_letters(store: GraphStore) -> None:
    store.add_listener(listener(1))
    claim(store, "w1")
    store.record_delivery("LST-001", "w1", report(2, dead_letters=(dead("LST-001", 2),)))
    store.clear()
    assert store.list_listeners() == []
    assert store.dead_letters() == []
    store.add_listener(listener(1))  # the id is free again
    assert store.get_listener("LST-001") == listener(1)


# ---- leases ---------------------------------------------------------------------------------


def test_a_claim_takes_free_leases_up_to_the_limit_by_id(store: GraphStore) -> None:
    for n in range(1, 6):
        store.add_listener(listener(n))
    held = store.claim_listeners("w1", now=T0, until=T0 + LEASE, limit=3)
    assert [ls.id for ls in held] == ["LST-001", "LST-002", "LST-003"]
    assert all(ls.lease_owner == "w1" and ls.lease_until == T0 + LEASE for ls in held)
    assert claim(store, "w2") == ["LST-004", "LST-005"]
    assert claim(store, "w3") == []
    stored = store.get_listener("LST-004")
    assert stored is not None and (stored.lease_owner, stored.lease_until) == ("w2", T0 + LEASE)
    assert store.claim_listeners("w3", now=T0, until=T0 + LEASE, limit=0) == []


def test_the_holder_renews_and_others_wait_until_expiry(store: GraphStore) -> None:
    store.add_listener(listener(1))
    assert claim(store, "w1") == ["LST-001"]
    later = T0 + timedelta(seconds=10)
    assert claim(store, "w1", later) == ["LST-001"]  # renewed to later + LEASE
    assert claim(store, "w2", T0 + LEASE) == []  # the first lease would have run out here
    assert claim(store, "w2", later + LEASE - timedelta(microseconds=1)) == []
    assert claim(store, "w2", later + LEASE) == ["LST-001"]  # at expiry: taken over
    got = store.get_listener("LST-001")
    assert got is not None and got.lease_owner == "w2"


def test_paused_listeners_are_not_claimed(store: GraphStore) -> None:
    store.add_listener(listener(1, state=ListenerState.PAUSED))
    store.add_listener(listener(2))
    assert claim(store, "w1") == ["LST-002"]
    paused = store.get_listener("LST-001")
    assert paused is not None and paused.lease_owner is None


def test_releasing_frees_the_lease_for_others_only_by_its_holder(store: GraphStore) -> None:
    store.add_listener(listener(1))
    claim(store, "w1")
    store.release_listener("LST-001", "w2")  # not w2's: nothing happens
    assert claim(store, "w2") == []
    store.release_listener("LST-001", "w1")
    got = store.get_listener("LST-001")
    assert got is not None and (got.lease_owner, got.lease_until) == (None, None)
    assert claim(store, "w2") == ["LST-001"]
    store.release_listener("LST-404", "w2")  # no such listener: nothing happens


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at once, one thread each, released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_racing_claimers_never_share_a_listener(store: GraphStore) -> None:
    """Eight deliverers claim twelve listeners at once, five rounds (the leases expire between
    rounds): each listener is held by exactly one claimer per round, the one the store names."""
    count, claimers = 12, 8
    for n in range(count):
        store.add_listener(listener(n))
    for rnd in range(5):
        at = T0 + rnd * LEASE  # the previous round's leases end exactly now
        names = [f"w{rnd}-{i}" for i in range(claimers)]
        won = race(*(partial(claim, store, name, at, count) for name in names))
        holders = [(lid, name) for name, ids in zip(names, won, strict=True) for lid in ids]
        assert sorted(lid for lid, _ in holders) == sorted(listener(n).id for n in range(count))
        for lid, name in holders:
            got = store.get_listener(lid)
            assert got is not None and got.lease_owner == name


# ---- recording deliveries ----------------------------------------------------------------------


def test_the_holder_records_cursor_counts_lease_and_dead_letters(store: GraphStore) -> None:
    store.add_listener(listener(1, cursor=4))
    claim(store, "w1")
    letter = dead("LST-001", 6)
    assert store.record_delivery("LST-001", "w1", report(9, delivered=4, dead_letters=(letter,)))
    got = store.get_listener("LST-001")
    assert got is not None
    assert (got.cursor, got.delivered, got.dead) == (9, 4, 1)
    assert got.lease_until == T0 + timedelta(minutes=1)
    assert got.last_delivered_at == T0 + timedelta(seconds=9)
    assert store.dead_letters(listener="LST-001") == [letter]
    failing = DeliveryReport(cursor=11, lease_until=T0, delivered=0, last_error="HTTP 503")
    assert store.record_delivery("LST-001", "w1", failing)
    got = store.get_listener("LST-001")
    assert got is not None and (got.cursor, got.delivered, got.last_error) == (11, 4, "HTTP 503")
    assert got.last_delivered_at == T0 + timedelta(seconds=9)  # kept: none given
    assert store.record_delivery("LST-001", "w1", report(12, delivered=1))
    got = store.get_listener("LST-001")
    assert got is not None and (got.delivered, got.last_error) == (5, "")  # went through


def test_the_cursor_never_moves_back(store: GraphStore) -> None:
    store.add_listener(listener(1))
    claim(store, "w1")
    assert store.record_delivery("LST-001", "w1", report(10, delivered=10))
    assert store.record_delivery("LST-001", "w1", report(7, delivered=2))
    got = store.get_listener("LST-001")
    assert got is not None and (got.cursor, got.delivered) == (10, 12)


def test_a_lost_lease_records_nothing(store: GraphStore) -> None:
    store.add_listener(listener(1))
    claim(store, "w1")
    assert claim(store, "w2", T0 + LEASE) == ["LST-001"]  # w1's lease ran out, w2 took it
    before = store.get_listener("LST-001")
    stale = report(50, delivered=3, dead_letters=(dead("LST-001", 40),))
    assert store.record_delivery("LST-001", "w1", stale) is False
    assert store.get_listener("LST-001") == before
    assert store.dead_letters() == []
    store.release_listener("LST-001", "w2")
    assert store.record_delivery("LST-001", "w1", stale) is False  # free is not w1's either
    assert store.record_delivery("LST-404", "w1", stale) is False
    assert store.dead_letters() == []


def test_an_expired_lease_nobody_took_over_still_records(store: GraphStore) -> None:
    """The lease guards the cursor against a second deliverer; until one takes over, the late
    holder's record is the only one and is kept (its report renews the lease): both stores
    check the owner, not the clock."""
    store.add_listener(listener(1))
    claim(store, "w1")  # until T0 + LEASE
    late = DeliveryReport(cursor=5, lease_until=T0 + 3 * LEASE, delivered=5)
    assert store.record_delivery("LST-001", "w1", late)
    got = store.get_listener("LST-001")
    assert got is not None and (got.cursor, got.lease_owner) == (5, "w1")
    assert claim(store, "w2", T0 + 2 * LEASE) == []  # renewed by the record


def test_a_takeover_during_a_record_race_keeps_one_writer(store: GraphStore) -> None:
    """The old holder records while a new one takes over, many times: every record the store
    accepted was made while its maker held the lease, so the counts add up exactly."""
    store.add_listener(listener(1))
    accepted: list[int] = []
    for rnd in range(10):
        old, new = f"old-{rnd}", f"new-{rnd}"
        at = T0 + 4 * rnd * LEASE
        assert claim(store, old, at) == ["LST-001"]
        rep = DeliveryReport(cursor=rnd + 1, lease_until=at + 2 * LEASE, delivered=1)
        recorded, taken = race(
            partial(store.record_delivery, "LST-001", old, rep),
            partial(claim, store, new, at + LEASE),
        )
        results = {"record": recorded, "take": taken}
        got = store.get_listener("LST-001")
        assert got is not None
        if results["record"]:
            accepted.append(rnd)
        # either the record came first (renewing the lease past the takeover's time) or the
        # takeover did (and the record was refused): never both, never neither
        assert bool(results["record"]) != bool(results["take"])
        assert got.lease_owner == (old if results["record"] else new)
        store.release_listener("LST-001", got.lease_owner or "")
    got = store.get_listener("LST-001")
    assert got is not None and got.delivered == len(accepted)


# ---- dead letters --------------------------------------------------------------------------------


def test_dead_letters_by_listener_and_state_in_listener_then_seq_order(store: GraphStore) -> None:
    for n in (2, 1):
        store.add_listener(listener(n))
    claim(store, "w1")
    store.record_delivery(
        "LST-002", "w1", report(9, dead_letters=(dead("LST-002", 8), dead("LST-002", 3)))
    )
    store.record_delivery(
        "LST-001", "w1", report(9, dead_letters=(dead("LST-001", 5), dead("LST-001", 1)))
    )
    every = store.dead_letters()
    assert [(d.listener, d.seq) for d in every] == [
        ("LST-001", 1),
        ("LST-001", 5),
        ("LST-002", 3),
        ("LST-002", 8),
    ]
    assert every[0] == dead("LST-001", 1)
    assert [d.seq for d in store.dead_letters(listener="LST-002")] == [3, 8]
    assert [d.seq for d in store.dead_letters(first=3)] == [1, 5, 3]
    store.set_dead_letters(["DL-LST-001-5", "DL-LST-002-8"], DeadLetterState.REPLAY)
    replay = store.dead_letters(states=[DeadLetterState.REPLAY])
    assert [d.id for d in replay] == ["DL-LST-001-5", "DL-LST-002-8"]
    both = store.dead_letters(states=[DeadLetterState.DEAD, DeadLetterState.REPLAY])
    assert len(both) == 4
    assert store.dead_letters(states=[]) == []
    assert store.dead_letters(listener="LST-404") == []


@pytest.mark.parametrize("first", [0, -1, MAX_DEAD_LETTERS_PAGE + 1])
def test_a_bad_dead_letter_page_is_refused(store: GraphStore, first: int) -> None:
    with pytest.raises(ValueError, match="first must be between 1 and"):
        store.dead_letters(first=first)


def test_replays_are_counted_and_reasons_replaced(store: GraphStore) -> None:
    store.add_listener(listener(1))
    claim(store, "w1")
    store.record_delivery(
        "LST-001", "w1", report(5, dead_letters=(dead("LST-001", 2), dead("LST-001", 4)))
    )
    out = store.set_dead_letters(
        ["DL-LST-001-4", "DL-NOPE", "DL-LST-001-2", "DL-LST-001-4"], DeadLetterState.REPLAY
    )
    assert [(d.id, d.state, d.replays) for d in out] == [
        ("DL-LST-001-4", DeadLetterState.REPLAY, 1),  # named twice, counted once
        ("DL-LST-001-2", DeadLetterState.REPLAY, 1),
    ]
    assert out[0].reason == "HTTP 500 from the callback"
    again = store.set_dead_letters(
        ["DL-LST-001-4"], DeadLetterState.DEAD, reason="HTTP 404 on replay"
    )
    assert [(d.state, d.replays, d.reason) for d in again] == [
        (DeadLetterState.DEAD, 1, "HTTP 404 on replay")
    ]
    store.set_dead_letters(["DL-LST-001-4"], DeadLetterState.REPLAY)
    done = store.set_dead_letters(["DL-LST-001-4"], DeadLetterState.DELIVERED)
    assert [(d.state, d.replays, d.reason) for d in done] == [
        (DeadLetterState.DELIVERED, 2, "HTTP 404 on replay")
    ]
    assert store.dead_letters(listener="LST-001")[1] == done[0]
    assert store.set_dead_letters([], DeadLetterState.REPLAY) == []


def test_a_dead_letter_recorded_again_replaces_the_old_one(store: GraphStore) -> None:
    """A replay that fails again is recorded under the same id, with its new reason and tries."""
    store.add_listener(listener(1))
    claim(store, "w1")
    store.record_delivery("LST-001", "w1", report(3, dead_letters=(dead("LST-001", 2),)))
    store.set_dead_letters(["DL-LST-001-2"], DeadLetterState.REPLAY)
    again = dead("LST-001", 2, reason="timeout", attempts=3, replays=1)
    assert store.record_delivery("LST-001", "w1", report(3, dead_letters=(again,)))
    assert store.dead_letters() == [again]
    got = store.get_listener("LST-001")
    assert got is not None and got.dead == 2


def test_removing_while_a_delivery_is_recorded_leaves_no_orphan(store: GraphStore) -> None:
    """Unregistering races the holder's record of new dead letters: whichever comes first,
    nothing of the listener is left and neither call fails."""
    for rnd in range(10):
        lid = listener(rnd).id
        store.add_listener(listener(rnd))
        claim(store, "w1", T0 + rnd * 4 * LEASE)
        rep = report(5, dead_letters=(dead(lid, 3), dead(lid, 4)))
        recorded, removed = race(
            partial(store.record_delivery, lid, "w1", rep), partial(store.remove_listener, lid)
        )
        assert removed is True
        assert recorded in (True, False)
        assert store.get_listener(lid) is None
        assert store.dead_letters() == []


def test_times_come_back_in_utc_on_both_stores(store: GraphStore) -> None:
    """Whatever zone a caller gives a time in (naive: UTC), both stores return the same
    instant in UTC, so records read from either compare equal."""
    east = timezone(timedelta(hours=8))
    store.add_listener(listener(1, created_at=datetime(2026, 3, 2, 17, 0, tzinfo=east)))
    naive_now = datetime(2026, 3, 2, 9, 0)
    [held] = store.claim_listeners(
        "w1", now=naive_now, until=datetime(2026, 3, 2, 17, 0, 30, tzinfo=east), limit=5
    )
    rep = DeliveryReport(
        cursor=3,
        lease_until=datetime(2026, 3, 2, 9, 1),
        delivered=3,
        last_delivered_at=datetime(2026, 3, 2, 17, 0, 5, 123456, tzinfo=east),
        dead=[dead("LST-001", 2, at=datetime(2026, 3, 2, 9, 0, 2))],
    )
    assert store.record_delivery("LST-001", "w1", rep)
    got = store.get_listener("LST-001")
    assert got is not None
    times = [got.created_at, got.lease_until, got.last_delivered_at, held.lease_until]
    assert all(t is not None and t.utcoffset() == timedelta(0) for t in times)
    assert (got.created_at, got.lease_until, got.last_delivered_at) == (
        T0,
        T0 + timedelta(minutes=1),
        datetime(2026, 3, 2, 9, 0, 5, 123456, tzinfo=UTC),
    )
    [letter] = store.dead_letters()
    assert letter.at == datetime(2026, 3, 2, 9, 0, 2, tzinfo=UTC)
