"""The Neo4j event log numbered after the commit (`inventory/neo4j/sequencer.py`): no writer
holds a shared counter through its commit, and still the numbers are gap-free, a number read
means every lower one is readable, each writer's events keep its order, an effect is numbered
after its cause, and events a writer committed without numbering are numbered by the next round
(or when a store starts) and never read before."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from pboss.inventory.events import MAX_EVENTS_PAGE, NewEvent
from pboss.inventory.model import Customer
from pboss.inventory.transaction import GraphTx
from tests.contract.test_events import AT

pytestmark = pytest.mark.neo4j


def _event(subject: str) -> NewEvent:
    return NewEvent(id=str(uuid.uuid4()), type="T", at=AT, subject=subject, body={})


@pytest.fixture
def stores(neo4j_store_session: Any, neo4j_endpoint: Any) -> Iterator[tuple[Any, Any]]:
    """Two stores on one Neo4j (two processes' worth: each its own sequencer), emptied."""
    from pboss.inventory.neo4j.store import Neo4jStore

    neo4j_store_session.clear()
    other = Neo4jStore(neo4j_endpoint.uri, auth=neo4j_endpoint.auth)
    try:
        yield neo4j_store_session, other
    finally:
        other.close()
        neo4j_store_session.clear()


def _write(store: Any, subject: str, *, node: str | None = None) -> str:
    ev = _event(subject)

    def work(tx: GraphTx) -> None:
        if node:
            tx.put(Customer(id=node, name=node), new=True)
        tx.emit(ev)

    store.transact(work, actor="t", reason="events")
    return ev.id


def _dies(event_ids: Any) -> int:
    """A writer that dies after its commit, before numbering (the sequencer's `number`)."""
    raise SystemExit("gone after the commit")


def test_two_processes_writing_at_once_get_gap_free_numbers_in_each_writers_order(
    stores: tuple[Any, Any],
) -> None:
    a, b = stores
    heard: list[int] = []
    lock = threading.Lock()

    def watcher(last: int) -> None:
        with lock:
            heard.append(last)

    stops = [a.watch_events(watcher), b.watch_events(watcher)]
    rounds = a.sequencer.rounds + b.sequencer.rounds
    errors: list[BaseException] = []

    def writer(store: Any, t: int) -> None:
        try:
            for i in range(10):
                _write(store, f"W{t}-{i:02d}", node=f"C-{t}-{i}" if i % 2 else None)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(a if t % 2 else b, t)) for t in range(8)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        for stop in stops:
            stop()
    assert not errors
    log = a.events_after(0, first=MAX_EVENTS_PAGE)
    assert [e.seq for e in log] == list(range(1, 81))
    for t in range(8):
        mine = [e.subject for e in log if e.subject.startswith(f"W{t}-")]
        assert mine == sorted(mine) and len(mine) == 10
    assert sorted(heard) == list(range(1, 81))  # each commit heard with its own number
    assert a.last_event_seq() == b.last_event_seq() == 80
    assert a.sequencer.rounds + b.sequencer.rounds - rounds <= 80  # one per commit at most


def test_events_committed_but_not_numbered_are_unread_until_the_next_round_orders_them_first(
    stores: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = stores
    cause = _event("cause")
    monkeypatch.setattr(a.sequencer, "number", _dies)
    with pytest.raises(SystemExit):
        a.transact(
            lambda tx: (tx.put(Customer(id="C-1", name="one"), new=True), tx.emit(cause)),
            actor="t",
            reason="cause",
        )
    assert b.get("C-1") is not None  # committed
    assert b.events_after(0, first=10) == []  # but not readable before it has a number
    assert b.last_event_seq() == 0

    def effect(tx: GraphTx) -> None:  # reads the cause's committed write, then reports
        assert tx.lock(["C-1"])
        tx.put(Customer(id="C-1", name="one, changed"))
        tx.emit(_event("effect"))

    b.transact(effect, actor="t", reason="effect")
    log = b.events_after(0, first=10)
    assert [(e.seq, e.subject) for e in log] == [(1, "cause"), (2, "effect")]
    assert log[0].id == cause.id
    assert b.latest_events("T", ["cause"])["cause"].seq == 1


def test_a_store_starting_numbers_what_a_dead_writer_left(
    stores: tuple[Any, Any], neo4j_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pboss.inventory.neo4j.store import Neo4jStore

    a, _ = stores
    monkeypatch.setattr(a.sequencer, "number", _dies)
    with pytest.raises(SystemExit):
        _write(a, "left")
    fresh = Neo4jStore(neo4j_endpoint.uri, auth=neo4j_endpoint.auth)
    try:
        assert [(e.seq, e.subject) for e in fresh.events_after(0, first=10)] == [(1, "left")]
        assert fresh.last_event_seq() == 1
    finally:
        fresh.close()


def test_a_write_holds_no_shared_lock_through_its_commit(stores: tuple[Any, Any]) -> None:
    """A transaction that stored events and has not committed yet does not stop another
    transaction's events from being stored and numbered (the counter was locked to its commit);
    the late one is numbered after, in the round following its commit."""
    from pboss.inventory.neo4j.queries.events import APPEND

    a, b = stores
    inside, release = threading.Event(), threading.Event()
    late = _event("late")

    def holding(tx: Any) -> None:
        tx.rows(APPEND, events=[late.row()])
        inside.set()
        assert release.wait(30)

    t = threading.Thread(target=lambda: a.client.write(holding))
    t.start()
    try:
        assert inside.wait(30)
        _write(b, "fast")  # does not wait for the open transaction
        assert [e.subject for e in b.events_after(0, first=10)] == ["fast"]
    finally:
        release.set()
        t.join(30)
    assert [e.subject for e in b.events_after(0, first=10)] == ["fast"]  # committed, unnumbered
    _write(b, "after")
    assert [(e.seq, e.subject) for e in b.events_after(0, first=10)] == [
        (1, "fast"),
        (2, "late"),
        (3, "after"),
    ]


def test_latest_events_sees_an_event_committed_but_not_numbered_yet(
    stores: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that waited for another's lock (CRM's publisher re-reading a site's last
    published package) must see what the other committed, numbered or not yet."""
    a, b = stores
    monkeypatch.setattr(a.sequencer, "number", _dies)
    with pytest.raises(SystemExit):
        _write(a, "pkg")
    latest = b.latest_events("T", ["pkg", "none"])
    assert list(latest) == ["pkg"] and latest["pkg"].seq == 1
    assert [(e.seq, e.subject) for e in b.events_after(0, first=5)] == [(1, "pkg")]
