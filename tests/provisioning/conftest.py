"""Fixtures for provisioning: the reference network with free tributary ports, a settable clock,
the service with an outbox, and a graph snapshot to prove that a step left the graph as it was.

Every test that takes `net` or `svc` runs on the memory store and on Neo4j (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pboss.inventory.memory.rows import unpack
from pboss.inventory.model import KINDS, Category, parse_edge, parse_node
from pboss.inventory.store import GraphStore
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import OrderRequest, ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keyword arguments; return the new time."""
        self.now += timedelta(**delta)
        return self.now


def add(store: GraphStore, nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
    """Upsert raw rows (what a loader would read)."""
    parsed_nodes = [parse_node(n) for n in nodes]
    parsed_edges = [parse_edge(e) for e in edges]
    bad = [x for x in parsed_nodes + parsed_edges if isinstance(x, list)]
    assert not bad, bad
    store.upsert(parsed_nodes, parsed_edges, actor="test", reason="fixture")  # type: ignore[arg-type]


def add_ports(store: GraphStore, ne: str, site: str, spec: str, count: int, prefix: str) -> None:
    """`count` free tributary ports on an NE."""
    nodes = [
        {"kind": "Port", "id": f"{ne}/{prefix}-{i}", "site": site, "spec": spec, "index": i}
        for i in range(1, count + 1)
    ]
    edges = [{"type": "PART_OF", "src": n["id"], "dst": ne} for n in nodes]
    add(store, nodes, edges)


@pytest.fixture
def net(demo_store: GraphStore) -> GraphStore:
    """The reference network plus free E1 and GE ports on every NE (the demo's are all busy)."""
    sites = {"NE-A": "CP-XX", "NE-1": "EX-1", "NE-2": "EX-2", "NE-Z": "B-DH"}
    for ne, site in sites.items():
        add_ports(demo_store, ne, site, "PORT-E1", 2, "E1F")
        add_ports(demo_store, ne, site, "PORT-GE", 10, "GE")
    return demo_store


@pytest.fixture
def clock() -> Clock:
    """The service's clock, starting at T0."""
    return Clock()


@pytest.fixture
def outbox() -> Outbox:
    """Where CRM events land."""
    return Outbox()


@pytest.fixture
def svc(net: GraphStore, clock: Clock, outbox: Outbox) -> Iterator[ProvisioningService]:
    """The provisioning service on the reference network."""
    yield ProvisioningService(
        net, notifier=outbox, clock=clock, settings=ProvisioningSettings(links_cache_seconds=0)
    )


def ftth(crm: str, site: str = "B-JZ", customer: str | None = None) -> OrderRequest:
    """An FTTH order as CRM sends it."""
    return OrderRequest(
        crm_order_id=crm,
        product="FTTH-100M",
        site=site,
        customer=customer or f"H-{crm}",
        customer_name=f"household {crm}",
        requested_date="2026-03-05",
    )


def cable(crm: str, site: str = "B-DH") -> OrderRequest:
    """A home-broadband order over the partner's cable network."""
    return ftth(crm, site).model_copy(update={"product": "CABLE-BB"})


def leased(crm: str, a: str = "CP-XX", z: str = "B-DH", n: int = 1) -> OrderRequest:
    """An MSTP leased-line order of n x 2 Mb/s."""
    return OrderRequest(
        crm_order_id=crm,
        product="MSTP-LL",
        a_site=a,
        z_site=z,
        bandwidth_2m=n,
        customer=f"E-{crm}",
        customer_type="enterprise",
    )


def _raw_graph(store: GraphStore) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """All node properties and all edges, read in bulk (one query on Neo4j)."""
    if hasattr(store, "graph"):  # MemoryStore
        graph = store.graph  # type: ignore[attr-defined]
        nodes = [unpack(data["row"]).props() for _, data in graph.nodes(data=True)]
        edges = [(k, a, b, dict(d)) for a, b, k, d in graph.edges(keys=True, data=True)]
        return nodes, edges
    nodes = [
        {k: v for k, v in r["p"].items() if not k.startswith("_")}
        for r in store.read("test.nodes", "MATCH (n:Entity) RETURN properties(n) AS p")  # type: ignore[attr-defined]
    ]
    rows = store.read(  # type: ignore[attr-defined]
        "test.edges",
        "MATCH (a:Entity)-[r]->(b:Entity) RETURN type(r) AS t, a.id AS a, b.id AS b, "
        "properties(r) AS p",
    )
    return nodes, [(r["t"], r["a"], r["b"], r["p"]) for r in rows]


def snapshot(store: GraphStore, *, provisioning: bool = False) -> dict[str, Any]:
    """Every node's properties and every edge, for before/after comparisons.

    Without `provisioning`, orders, reservations and work orders are left out (their audit
    trail legitimately changes), but edges from them to resources (HOLDS) are kept.
    """
    raw_nodes, raw_edges = _raw_graph(store)
    hidden = {
        n["id"]
        for n in raw_nodes
        if KINDS[n["kind"]].category == Category.PROVISIONING and not provisioning
    }
    nodes = {n["id"]: n for n in raw_nodes if n["id"] not in hidden}
    edges = {
        (t, a, b, repr(sorted(p.items())))
        for t, a, b, p in raw_edges
        if not (a in hidden and b in hidden)
    }
    return {"nodes": nodes, "edges": edges}


def no_locks_left(store: GraphStore) -> bool:
    """True when no node carries the `_lock` property (Neo4j) or the store lock is free (memory)."""
    lock = getattr(store, "lock", None)
    if lock is not None:
        if not lock.acquire(blocking=False):
            return False
        lock.release()
        return True
    rows = store.read(  # type: ignore[attr-defined]
        "test.locks", "MATCH (n) WHERE n._lock IS NOT NULL RETURN count(n) AS c"
    )
    return rows[0]["c"] == 0
