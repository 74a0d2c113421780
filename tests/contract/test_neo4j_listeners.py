"""The event hub's records on Neo4j, where read-committed isolation makes leases subtle: a
statement deciding on a lease must lock the listener before it reads the lease. Each test here
forces the interleaving (another transaction changes the lease and holds its lock while the call
runs), so the call's first read is stale by construction; and the hub's reads use their index."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from pboss.inventory.listeners import DeadLetterState, DeliveryReport
from pboss.inventory.neo4j.queries import events as event_queries
from pboss.inventory.neo4j.queries import listeners as q
from pboss.inventory.timestamps import stamp
from tests.contract.test_listeners import LEASE, T0, claim, dead, listener

pytestmark = pytest.mark.neo4j

#: How long the interfering transaction keeps its lock (the call under test waits that long).
HOLD = 0.6


@pytest.fixture
def neo(neo4j_store_session: Any) -> Iterator[Any]:
    store = neo4j_store_session
    store.clear()
    yield store
    store.clear()


def while_locked(neo: Any, cypher: str, call: Any, **params: Any) -> tuple[Any, float]:
    """Run `cypher` in a transaction that keeps its locks `HOLD` seconds before committing;
    meanwhile (once it has written) run `call()`; return its result and how long it took.
    Callers run the call's query once before, so that planning it (seconds on a busy machine)
    does not outlast the other transaction: its first read must come before that commit."""
    written = threading.Event()

    def interfere() -> None:
        def work(tx: Any) -> None:
            tx.run(cypher, params).consume()
            written.set()
            time.sleep(HOLD)

        neo.execute_write(work)

    other = threading.Thread(target=interfere)
    other.start()
    assert written.wait(30)
    started = time.perf_counter()
    result = call()
    took = time.perf_counter() - started
    other.join()
    return result, took


TAKE_OVER = "MATCH (l:Listener {id: $id}) SET l.lease_owner = $owner, l.lease_until = $until"


def test_a_claim_rereads_the_lease_after_waiting_for_its_lock(neo: Any) -> None:
    """The claim's match sees the listener free (the takeover is not committed yet), waits for
    the lock, and then must see the lease taken: it claims nothing."""
    assert claim(neo, "warm") == []  # planned now: the call below starts at once
    neo.add_listener(listener(1))
    until = stamp(T0 + 2 * LEASE)
    got, took = while_locked(
        neo, TAKE_OVER, lambda: claim(neo, "w2"), id="LST-001", owner="w1", until=until
    )
    assert took >= HOLD / 2  # it did wait for the lock
    assert got == []
    stored = neo.get_listener("LST-001")
    assert stored.lease_owner == "w1"


def test_a_record_rereads_the_owner_after_waiting_for_its_lock(neo: Any) -> None:
    report = DeliveryReport(
        cursor=9, lease_until=T0 + LEASE, delivered=9, dead=[dead("LST-001", 4)]
    )
    # planned now, for these parameter types (Neo4j caches a plan per parameter types)
    assert neo.record_delivery("LST-404", "w1", report) is False
    neo.add_listener(listener(1))
    assert claim(neo, "w1") == ["LST-001"]
    until = stamp(T0 + 3 * LEASE)
    ok, took = while_locked(
        neo,
        TAKE_OVER,
        lambda: neo.record_delivery("LST-001", "w1", report),
        id="LST-001",
        owner="w2",
        until=until,
    )
    assert took >= HOLD / 2
    assert ok is False
    stored = neo.get_listener("LST-001")
    assert (stored.lease_owner, stored.cursor, stored.delivered) == ("w2", 0, 0)
    assert neo.dead_letters() == []


def test_a_release_rereads_the_owner_after_waiting_for_its_lock(neo: Any) -> None:
    neo.release_listener("LST-404", "w1")
    neo.add_listener(listener(1))
    assert claim(neo, "w1") == ["LST-001"]
    until = stamp(T0 + 3 * LEASE)
    _, took = while_locked(
        neo,
        TAKE_OVER,
        lambda: neo.release_listener("LST-001", "w1"),
        id="LST-001",
        owner="w2",
        until=until,
    )
    assert took >= HOLD / 2
    assert neo.get_listener("LST-001").lease_owner == "w2"  # w2's lease survives


def test_replays_counted_concurrently_are_all_counted(neo: Any) -> None:
    neo.add_listener(listener(1))
    claim(neo, "w1")
    neo.record_delivery(
        "LST-001", "w1", DeliveryReport(cursor=3, lease_until=T0, dead=[dead("LST-001", 2)])
    )
    assert neo.set_dead_letters(["DL-404"], DeadLetterState.REPLAY) == []
    bump = "MATCH (d:DeadLetter {id: $id}) SET d.replays = d.replays + 1"
    out, took = while_locked(
        neo,
        bump,
        lambda: neo.set_dead_letters(["DL-LST-001-2"], DeadLetterState.REPLAY),
        id="DL-LST-001-2",
    )
    assert took >= HOLD / 2
    assert out[0].replays == 2  # the other's increment is not lost


def test_a_removal_waiting_for_a_record_drops_the_dead_letters_it_added(neo: Any) -> None:
    """A record holds the listener's lock and has added a dead letter; the removal waits, then
    removes that dead letter too (none is left behind without its listener)."""
    assert neo.remove_listener("LST-404") is False
    neo.add_listener(listener(1))
    add_dead = (
        "MATCH (l:Listener {id: $id}) SET l.dead = l.dead + 1 "
        "CREATE (:DeadLetter {id: 'DL-X', listener: $id, seq: 7, event_id: 'EV-7', "
        "event_type: 'A', reason: 'r', attempts: 1, at: $at, state: 'dead', replays: 0})"
    )
    gone, took = while_locked(
        neo, add_dead, lambda: neo.remove_listener("LST-001"), id="LST-001", at=stamp(T0)
    )
    assert took >= HOLD / 2
    assert gone is True
    assert neo.dead_letters() == []
    assert neo.read("count", "MATCH (d:DeadLetter) RETURN count(d) AS n")[0]["n"] == 0


def plan_operators(neo: Any, cypher: str, **params: Any) -> list[str]:
    """Every operator of a query's plan, with its details."""
    plan = neo.execute_write(lambda tx: tx.run("EXPLAIN " + cypher, params).consume().plan)
    out: list[str] = []
    stack = [plan]
    while stack:
        p = stack.pop()
        out.append(f"{p['operatorType']} {p.get('args', {}).get('Details', '')}")
        stack += p.get("children", [])
    return out


def test_latest_events_seeks_the_type_subject_index(neo: Any) -> None:
    ops = plan_operators(neo, event_queries.LATEST.text, type="A", subjects=["PKG-1"])
    assert any(op.startswith("NodeIndexSeek") and "e:Event(type, subject)" in op for op in ops), ops
    assert not any(op.startswith("NodeByLabelScan") for op in ops), ops


def test_a_listeners_dead_letters_are_found_through_their_index(neo: Any) -> None:
    ops = plan_operators(neo, q.REMOVE.text, id="LST-001")
    assert any("DeadLetter(listener)" in op for op in ops if "IndexSeek" in op), ops
    assert not any(op.startswith("NodeByLabelScan") for op in ops), ops


def test_one_listeners_dead_letters_are_read_through_their_index(neo: Any) -> None:
    ops = plan_operators(neo, q.DEAD_LETTERS_OF.text, listener="LST-001", states=None, first=5)
    assert any("DeadLetter(listener)" in op for op in ops if "IndexSeek" in op), ops


def test_one_round_trip_per_call(neo: Any) -> None:
    calls = {
        "add": lambda: neo.add_listener(listener(1)),
        "get": lambda: neo.get_listener("LST-001"),
        "list": lambda: neo.list_listeners(),
        "claim": lambda: claim(neo, "w1"),
        "record": lambda: neo.record_delivery(
            "LST-001",
            "w1",
            DeliveryReport(
                cursor=2, lease_until=T0 + timedelta(minutes=1), dead=[dead("LST-001", 1)]
            ),
        ),
        "dead": lambda: neo.dead_letters(),
        "dead of one": lambda: neo.dead_letters(listener="LST-001"),
        "set": lambda: neo.set_dead_letters(["DL-LST-001-1"], DeadLetterState.REPLAY),
        "release": lambda: neo.release_listener("LST-001", "w1"),
        "latest": lambda: neo.latest_events("A", ["x", "y"]),
        "last": lambda: neo.last_event_seq(),
        "remove": lambda: neo.remove_listener("LST-001"),
    }
    for name, call in calls.items():
        before = neo.queries_run
        call()
        assert neo.queries_run - before == 1, name


def test_calls_waiting_on_a_listener_being_removed_find_it_gone(neo: Any) -> None:
    """A removal, claim, record or release that matched a listener and waits for its lock while
    it is deleted ends cleanly (nothing removed: only one removal says it removed; nothing
    claimed; refused), not with an error of a vanished node."""
    report = DeliveryReport(cursor=5, lease_until=T0 + LEASE, dead=[dead("LST-001", 4)])
    calls = {
        "remove": lambda: neo.remove_listener("LST-001"),
        "claim": lambda: claim(neo, "w1", T0 + 10 * LEASE),
        "record": lambda: neo.record_delivery("LST-001", "w1", report),
        "release": lambda: neo.release_listener("LST-001", "w1"),
    }
    expected = {"remove": False, "claim": [], "record": False, "release": None}
    for name, call in calls.items():
        call()  # planned now
        neo.clear()
        neo.add_listener(listener(1))
        assert claim(neo, "w1") == ["LST-001"]
        got, took = while_locked(neo, q.REMOVE.text, call, id="LST-001")
        assert took >= HOLD / 2, name
        assert got == expected[name], name
        assert neo.list_listeners() == [] and neo.dead_letters() == [], name
