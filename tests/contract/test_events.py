"""The event log (`GraphTx.emit`, `GraphStore.events_after`): events commit with their
transaction's writes, numbered gap-free in commit order, and a rolled-back transaction leaves
none, on each store."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest

from pboss.inventory.errors import TxConflict, ValidationFailed
from pboss.inventory.events import MAX_EVENTS_PAGE, NewEvent
from pboss.inventory.model import Customer, Edge
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def event(n: int, etype: str = "ProductOrderStateChangeEvent") -> NewEvent:
    """A distinct event about order ORD-<n>."""
    return NewEvent(
        id=str(uuid.uuid4()),
        type=etype,
        at=AT,
        subject=f"ORD-{n}",
        body={"eventType": etype, "event": {"productOrder": {"id": f"ORD-{n}", "n": n}}},
    )


def customer(n: int) -> Customer:
    return Customer(id=f"C-{n}", name=f"customer {n}")


def emit_with_write(store: GraphStore, n: int, etype: str = "ProductOrderStateChangeEvent") -> str:
    """One transaction that creates a customer and emits one event; returns the event id."""
    ev = event(n, etype)

    def work(tx: GraphTx) -> None:
        tx.put(customer(n), new=True)
        tx.emit(ev)

    store.transact(work, actor="test", reason="events")
    return ev.id


def test_emitted_events_are_numbered_in_commit_order_and_read_back(store: GraphStore) -> None:
    ids = [emit_with_write(store, n) for n in range(1, 6)]
    log = store.events_after(0, first=50)
    assert [e.seq for e in log] == [1, 2, 3, 4, 5]
    assert [e.id for e in log] == ids
    first = log[0]
    assert (first.type, first.subject, first.at) == ("ProductOrderStateChangeEvent", "ORD-1", AT)
    assert first.body["event"]["productOrder"] == {"id": "ORD-1", "n": 1}
    assert store.get("C-3") is not None  # the change the event reports is there too


def test_resuming_after_a_cursor_returns_exactly_the_later_events(store: GraphStore) -> None:
    ids = [emit_with_write(store, n) for n in range(1, 8)]
    page = store.events_after(0, first=3)
    assert [e.id for e in page] == ids[:3]
    rest = store.events_after(page[-1].seq, first=50)
    assert [e.id for e in rest] == ids[3:]
    assert store.events_after(rest[-1].seq, first=50) == []


def test_types_filter_keeps_the_order(store: GraphStore) -> None:
    kinds = ["A", "B", "A", "C", "B", "A"]
    ids = [emit_with_write(store, n, kinds[n]) for n in range(len(kinds))]
    only_a = store.events_after(0, types=["A"], first=2)
    assert [e.id for e in only_a] == [ids[0], ids[2]]
    more_a = store.events_after(only_a[-1].seq, types=["A"], first=50)
    assert [e.id for e in more_a] == [ids[5]]
    ab = store.events_after(0, types=["B", "C"], first=50)
    assert [e.id for e in ab] == [ids[1], ids[3], ids[4]]
    assert store.events_after(0, types=[], first=50) == []


def test_a_transaction_that_fails_after_emitting_writes_no_event(store: GraphStore) -> None:
    emit_with_write(store, 1)

    def failing(tx: GraphTx) -> None:
        tx.put(customer(2), new=True)
        tx.emit(event(2))
        raise RuntimeError("the step fails after emitting")

    with pytest.raises(RuntimeError):
        store.transact(failing, actor="test", reason="fails")
    assert store.get("C-2") is None
    assert [e.subject for e in store.events_after(0, first=50)] == ["ORD-1"]
    later = emit_with_write(store, 3)
    assert [(e.seq, e.id) for e in store.events_after(1, first=50)] == [(2, later)]  # no gap


def test_a_transaction_refused_at_commit_writes_no_event(store: GraphStore) -> None:
    """Validation refuses the writes at commit (an edge to a missing node): the events go too."""

    def invalid(tx: GraphTx) -> None:
        tx.put(customer(1), new=True)
        tx.link(Edge(type="FOR", src="C-1", dst="NOWHERE"))
        tx.emit(event(1))

    with pytest.raises((ValidationFailed, TxConflict)):
        store.transact(invalid, actor="test", reason="invalid")
    assert store.events_after(0, first=50) == []

    def ghost(tx: GraphTx) -> None:
        tx.emit(event(2))
        tx.put(customer(99))  # an update of a node that is not there

    with pytest.raises(TxConflict):
        store.transact(ghost, actor="test", reason="ghost")
    assert store.events_after(0, first=50) == []


def test_an_event_without_other_writes_commits(store: GraphStore) -> None:
    ev = event(1)
    store.transact(lambda tx: tx.emit(ev), actor="test", reason="event only")
    assert [(e.seq, e.id) for e in store.events_after(0, first=5)] == [(1, ev.id)]


def test_concurrent_writers_get_distinct_gap_free_numbers(store: GraphStore) -> None:
    threads, per = 6, 8
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(per):
                emit_with_write(store, t * 100 + i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    log = store.events_after(0, first=MAX_EVENTS_PAGE)
    assert [e.seq for e in log] == list(range(1, threads * per + 1))
    assert len({e.id for e in log}) == threads * per
    for t in range(threads):  # each writer's events in its own order
        mine = [e.subject for e in log if e.subject.startswith(f"ORD-{t * 100}")]
        assert mine == sorted(mine, key=lambda s: int(s.split("-")[1]))


@pytest.mark.parametrize(
    ("after", "first", "reason"),
    [(-1, 10, "after must be 0 or more"), (0, 0, "first must be"), (0, 1001, "first must be")],
)
def test_bad_paging_is_refused(store: GraphStore, after: int, first: int, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        store.events_after(after, first=first)


def test_clear_forgets_the_log_and_numbering_restarts(store: GraphStore) -> None:
    emit_with_write(store, 1)
    store.clear()
    assert store.events_after(0, first=5) == []
    emit_with_write(store, 2)
    assert [e.seq for e in store.events_after(0, first=5)] == [1]
