"""The event log (`GraphTx.emit`, `GraphStore.events_after`): events commit with their
transaction's writes, numbered gap-free in commit order, and a rolled-back transaction leaves
none, on each store."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest

from pboss.inventory.errors import TxConflict, ValidationFailed
from pboss.inventory.events import MAX_EVENTS_PAGE, EventFilter, NewEvent
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


# ---- filters, the newest per subject, the last number, watchers (issue 17's hub) -----------------


def scoped(
    n: int,
    etype: str = "A",
    subject: str = "ORD-1",
    *,
    sites: tuple[str, ...] = (),
    products: tuple[str, ...] = (),
    partners: tuple[str, ...] = (),
) -> NewEvent:
    """Event number `n` of a test, with a subject and a scope."""
    return NewEvent(
        id=f"EV-{n}-{uuid.uuid4().hex[:8]}",
        type=etype,
        at=AT,
        subject=subject,
        body={"n": n},
        sites=list(sites),
        products=list(products),
        partners=list(partners),
    )


def commit_events(store: GraphStore, *events: NewEvent) -> None:
    """One transaction emitting these events (and writing nothing else)."""

    def work(tx: GraphTx) -> None:
        for ev in events:
            tx.emit(ev)

    store.transact(work, actor="test", reason="events")


SCOPED = [
    scoped(1, "A", "ORD-1", sites=["S1"], products=["FTTH"], partners=["P1"]),
    scoped(2, "B", "ORD-2", sites=["S2", "S1"], products=["DIA"]),
    scoped(3, "A", "ORD-3", sites=["S3"], products=["FTTH", "DIA"], partners=["P2", "P1"]),
    scoped(4, "C", "PKG-1"),
    scoped(5, "B", "ORD-1", sites=["S2"], partners=["P2"]),
]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (EventFilter(), [1, 2, 3, 4, 5]),
        (EventFilter(types=["A", "C"]), [1, 3, 4]),
        (EventFilter(types=[]), []),
        (EventFilter(subjects=["ORD-1", "PKG-1"]), [1, 4, 5]),
        (EventFilter(subjects=[]), []),
        (EventFilter(sites=["S1"]), [1, 2]),
        (EventFilter(sites=["S3", "S2"]), [2, 3, 5]),
        (EventFilter(sites=[]), []),
        (EventFilter(products=["DIA"]), [2, 3]),
        (EventFilter(products=["FTTH", "NONE"]), [1, 3]),
        (EventFilter(partner="P1"), [1, 3]),
        (EventFilter(partner="P2"), [3, 5]),
        (EventFilter(partner="P9"), []),
        (EventFilter(types=["A", "B"], sites=["S1", "S3"], partner="P1"), [1, 3]),
        (EventFilter(subjects=["ORD-1"], sites=["S2"]), [5]),
    ],
)
def test_the_filter_matches_every_criterion_as_the_model_does(
    store: GraphStore, where: EventFilter, expected: list[int]
) -> None:
    commit_events(store, *SCOPED[:2])
    commit_events(store, *SCOPED[2:])
    got = store.events_after(0, first=50, where=where)
    assert [e.body["n"] for e in got] == expected
    assert [e.body["n"] for e in SCOPED if where.matches(e)] == expected  # the model agrees
    assert all(where.matches(e) for e in got)


def test_the_scope_reads_back_sorted_and_the_filter_pages(store: GraphStore) -> None:
    commit_events(store, *SCOPED)
    third = store.events_after(0, first=50)[2]
    assert (third.sites, third.products, third.partners) == (["S3"], ["DIA", "FTTH"], ["P1", "P2"])
    page = store.events_after(0, first=1, where=EventFilter(types=["B"]))
    assert [e.body["n"] for e in page] == [2]
    rest = store.events_after(page[0].seq, first=50, where=EventFilter(types=["B"]))
    assert [e.body["n"] for e in rest] == [5]
    narrowed = store.events_after(0, types=["A", "B"], first=50, where=EventFilter(types=["B"]))
    assert [e.body["n"] for e in narrowed] == [2, 5]  # `types` narrows `where.types`


def test_latest_events_gives_each_subjects_newest_of_a_type(store: GraphStore) -> None:
    commit_events(store, scoped(1, "Pkg", "PKG-1"), scoped(2, "Pkg", "PKG-2"))
    commit_events(store, scoped(3, "Other", "PKG-1"), scoped(4, "Pkg", "PKG-1"))
    commit_events(store, scoped(5, "Other", "PKG-3"))
    latest = store.latest_events("Pkg", ["PKG-1", "PKG-2", "PKG-3", "PKG-9", "PKG-1"])
    assert {s: (e.seq, e.body["n"]) for s, e in latest.items()} == {
        "PKG-1": (4, 4),
        "PKG-2": (2, 2),
    }
    assert latest["PKG-1"] == store.events_after(3, first=1)[0]
    assert store.latest_events("Other", ["PKG-1", "PKG-3"])["PKG-3"].body == {"n": 5}
    assert store.latest_events("Pkg", []) == {}


def test_last_event_seq_follows_commits_and_clear(store: GraphStore) -> None:
    assert store.last_event_seq() == 0
    commit_events(store, scoped(1), scoped(2))
    assert store.last_event_seq() == 2
    emit_with_write(store, 3)
    assert store.last_event_seq() == 3

    def failing(tx: GraphTx) -> None:
        tx.emit(scoped(4))
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        store.transact(failing, actor="test", reason="fails")
    assert store.last_event_seq() == 3
    store.clear()
    assert store.last_event_seq() == 0


def test_watchers_hear_of_commits_that_added_events_only(store: GraphStore) -> None:
    heard: list[int] = []
    also: list[int] = []
    stop = store.watch_events(heard.append)
    stop_also = store.watch_events(also.append)
    try:
        commit_events(store, scoped(1), scoped(2))  # events only
        emit_with_write(store, 3)  # events with other writes
        store.transact(lambda tx: tx.put(customer(4), new=True), actor="t", reason="no event")
        store.upsert([customer(5)], actor="t", reason="no event")

        def failing(tx: GraphTx) -> None:
            tx.put(customer(6), new=True)
            tx.emit(scoped(6))
            raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            store.transact(failing, actor="t", reason="fails")

        def refused(tx: GraphTx) -> None:
            tx.emit(scoped(7))
            tx.put(customer(99))  # not there: refused at commit

        with pytest.raises(TxConflict):
            store.transact(refused, actor="t", reason="refused")
        assert heard == [2, 3]
        stop_also()
        stop_also()  # stopping twice is harmless
        commit_events(store, scoped(8))
        assert heard == [2, 3, 4]
        assert also == [2, 3]
    finally:
        stop()
        stop_also()
    commit_events(store, scoped(9))
    assert heard == [2, 3, 4]


def test_a_failing_watcher_does_not_fail_the_writer(
    store: GraphStore, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[int] = []

    def broken(last: int) -> None:
        raise RuntimeError(f"watcher broke at {last}")

    stops = [store.watch_events(broken), store.watch_events(heard.append)]
    try:
        ev = scoped(1)
        commit_events(store, ev)  # does not raise
    finally:
        for stop in stops:
            stop()
    assert [e.id for e in store.events_after(0, first=5)] == [ev.id]
    assert heard == [1]  # the next watcher still heard
    assert "an event watcher failed" in caplog.text


def test_watchers_hear_a_number_they_can_read_up_to(store: GraphStore) -> None:
    """Concurrent writers: each call names a committed number, and reading up to the last one
    heard finds every event."""
    heard: list[int] = []
    lock = threading.Lock()

    def watcher(last: int) -> None:
        with lock:
            heard.append(last)

    stop = store.watch_events(watcher)
    try:
        workers = [
            threading.Thread(
                target=lambda t=t: [emit_with_write(store, t * 10 + i) for i in range(4)]
            )
            for t in range(4)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        stop()
    assert len(heard) == 16
    assert sorted(heard) == list(range(1, 17))  # one commit, one event, one distinct number
    assert len(store.events_after(0, first=50)) == max(heard)


def test_a_watcher_runs_after_the_store_let_go_of_the_commit(store: GraphStore) -> None:
    """A watcher that hands work to another thread and waits for it (a deliverer waking up and
    reading or writing the store) must not deadlock the writer: it runs outside the store's
    lock, as after Neo4j's commit."""
    done: list[bool] = []

    def watcher(last: int) -> None:
        helper = threading.Thread(
            target=lambda: done.append(
                store.upsert([customer(100 + last)], actor="t", reason="from a watcher").nodes_added
                == 1
            )
        )
        helper.start()
        helper.join(10)

    stop = store.watch_events(watcher)
    try:
        emit_with_write(store, 1)
    finally:
        stop()
    assert done == [True]
    assert store.get("C-101") is not None
