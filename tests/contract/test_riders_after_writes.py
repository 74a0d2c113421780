"""Riders answer what the network is now, after every kind of write that changes them (the
embedded store keeps answers until a write touches what they read: memory/riders_cache.py)."""

from __future__ import annotations

import pytest

from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import Edge, from_props
from pboss.inventory.store import GraphStore


def _health(store: GraphStore, resource: str) -> dict[str, str]:
    return {r.service.id: r.health for r in store.riders([resource], first=100).items}


def test_a_status_set_on_a_riders_chain_shows_at_once(demo_store: GraphStore) -> None:
    assert _health(demo_store, "OLT-1")["SVC-H1-BB"] == "ok"
    demo_store.set_status("ONT-1", "faulty", actor="noc", reason="dying gasp")
    health = _health(demo_store, "OLT-1")
    assert health["SVC-H1-BB"] == "down" and health["SVC-H2-BB"] == "ok"


def test_a_customer_changed_shows_in_the_totals_at_once(demo_store: GraphStore) -> None:
    before = demo_store.riders(["OLT-1"]).totals.by_sla_tier
    assert before.get("platinum", 0) == 0
    h1 = demo_store.get("H-1")
    assert h1 is not None
    demo_store.upsert([h1.model_copy(update={"sla_tier": "platinum"})], actor="crm")
    assert demo_store.riders(["OLT-1"]).totals.by_sla_tier["platinum"] == 1  # customers


def test_a_new_service_and_a_deleted_one_show_at_once(demo_store: GraphStore) -> None:
    first = demo_store.riders(["OLT-1"], first=2)
    assert first.totals.services == 5
    service = from_props({"kind": "Service", "id": "SVC-H2-TV", "product": "IPTV"})
    demo_store.upsert(
        [service],
        [
            Edge(type="USES", src="SVC-H2-TV", dst="ONT-2"),
            Edge(type="FOR", src="SVC-H2-TV", dst="H-2"),
        ],
        actor="test",
    )
    after = demo_store.riders(["OLT-1"], first=2)
    assert after.totals.services == 6
    page = demo_store.riders(["OLT-1"], first=100)
    assert "SVC-H2-TV" in [r.service.id for r in page.items]
    demo_store.delete(["SVC-H1-TV"], actor="test")
    assert demo_store.riders(["OLT-1"], first=2).totals.services == 5
    assert "SVC-H1-TV" not in [r.service.id for r in demo_store.riders(["OLT-1"]).items]


def test_an_edge_moved_away_takes_its_riders_with_it(demo_store: GraphStore) -> None:
    assert demo_store.riders(["SPL-JZ-1:2"]).totals.services == 2
    demo_store.change_edges([("USES", "SVC-H3-VO", "ONT-3")], actor="test", reason="unlink")
    assert demo_store.riders(["SPL-JZ-1:2"]).totals.services == 1


def test_a_caller_changing_an_answer_does_not_change_the_next(demo_store: GraphStore) -> None:
    first = demo_store.riders(["OLT-1"])
    first.items.clear()
    first.totals.by_product.clear()
    again = demo_store.riders(["OLT-1"])
    assert len(again.items) == 5 and again.totals.by_product


def test_the_embedded_store_keeps_answers_that_a_write_elsewhere_does_not_touch() -> None:
    """Memory only: the cache is the embedded store's (Neo4j asks the database each time)."""
    from pboss.inventory.demo import demo_network

    store = MemoryStore()
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    store.riders(["OLT-1"])
    cache = store._riders_cache
    hits = cache.hits
    store.set_status("NE-1", "maintenance", actor="noc", reason="elsewhere")  # not under OLT-1
    store.riders(["OLT-1"])
    assert cache.hits == hits + 1
    store.set_status("OLT-1/0/1", "maintenance", actor="noc", reason="under it")
    answer = store.riders(["OLT-1"])
    assert cache.hits == hits + 1  # recomputed
    assert {r.health for r in answer.items} == {"degraded"}


@pytest.mark.parametrize("size", [1, 2])
def test_the_cache_keeps_at_most_its_size(size: int) -> None:
    from pboss.inventory.demo import demo_network

    store = MemoryStore()
    store._riders_cache.size = size
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    for resource in ("OLT-1", "OLT-2", "ONT-1"):
        store.riders([resource])
    assert len(store._riders_cache) == size
