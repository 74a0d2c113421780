"""Concurrent writers on one element: every change is applied on top of the previous one.

On Neo4j (read committed) this holds only because writes take the element's lock before reading
its status; without that, two writers read the same old status and the history forks.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

from pboss.inventory.store import GraphStore

STEPS = 24


def _toggle(store: GraphStore, n: int) -> None:
    """Flip OLT-2 between available and maintenance, half by upsert, half by set_status."""
    target = "maintenance" if n % 2 else "available"
    if n % 4 < 2:
        store.set_status("OLT-2", target, actor=f"w{n}", reason="toggle")
    else:
        olt = store.get("OLT-2")
        assert olt is not None
        olt.status = target  # type: ignore[assignment]
        store.upsert([olt], actor=f"w{n}", reason="toggle")


def test_concurrent_status_writers_leave_an_unbroken_history(demo_store: GraphStore) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: _toggle(demo_store, n), range(STEPS)))
    everything = reversed(demo_store.history("OLT-2", limit=1000))
    history = [h for h in everything if h.change == "status"]
    assert history, "some writer must have changed the status"
    assert history[0].from_status == "available"
    for before, after in itertools.pairwise(history):
        assert after.from_status == before.to_status, (before, after)
    assert demo_store.get("OLT-2").status == history[-1].to_status  # type: ignore[union-attr]


def test_concurrent_upserts_of_the_same_new_element_all_succeed(demo_store: GraphStore) -> None:
    """Upsert is idempotent by id even when several writers create the same element at once."""
    olt = demo_store.get("OLT-1")
    assert olt is not None
    fresh = olt.model_copy(update={"id": "OLT-RACE", "name": "raced"})
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: demo_store.upsert([fresh]), range(8)))
    assert sum(r.nodes_added for r in results) == 1
    assert sum(r.nodes_unchanged for r in results) == 7
    assert demo_store.get("OLT-RACE").name == "raced"  # type: ignore[union-attr]
