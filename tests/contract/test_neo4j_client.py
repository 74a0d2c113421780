"""The one Neo4j client: queries timed by name and access, an unreachable server raised as the
project's own error, the store's scans, and no driver use outside the client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from prometheus_client import CollectorRegistry

from pboss.inventory.demo import demo_network
from pboss.inventory.errors import StoreUnavailable
from pboss.inventory.neo4j.client import Neo4jClient, query_histogram
from pboss.inventory.neo4j.queries import READ, Query, lookups

PBOSS = Path(__file__).resolve().parents[2] / "pboss"
#: The only modules that may import the driver itself (exceptions aside): the client, and the
#: launcher of a local Neo4j (which checks that the server answers).
DRIVER_USERS = {"inventory/neo4j/client.py", "inventory/neo4j/local.py"}


def _typing_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes under `if TYPE_CHECKING:` (imports for annotations only)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    return skip


def _uses_driver(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom) and node.module:
        names = [node.module]
    elif isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        return False
    return any(n == "neo4j" or (n.startswith("neo4j.") and n != "neo4j.exceptions") for n in names)


def test_only_the_client_uses_the_driver() -> None:
    users = set()
    for path in PBOSS.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        skip = _typing_only(tree)
        if any(_uses_driver(n) for n in ast.walk(tree) if id(n) not in skip):
            users.add(path.relative_to(PBOSS).as_posix())
    assert users <= DRIVER_USERS, users


def test_an_unreachable_server_is_store_unavailable() -> None:
    uri = "bolt://127.0.0.1:9"  # nothing listens on the discard port
    driver = GraphDatabase.driver(uri, max_transaction_retry_time=0.2, connection_timeout=1)
    client = Neo4jClient(uri, driver=driver)
    try:
        with pytest.raises(StoreUnavailable, match="cannot be reached") as down:
            client.read(lookups.GET, id="x")
        assert "127.0.0.1" not in str(down.value)  # no address of ours in a caller's answer
        with pytest.raises(StoreUnavailable):
            client.write(lambda tx: tx.run(lookups.GET, id="x"))
    finally:
        client.close()


@pytest.mark.neo4j
def test_every_query_is_timed_by_name_and_access(neo4j_endpoint) -> None:
    registry = CollectorRegistry()
    client = Neo4jClient(
        neo4j_endpoint.uri, neo4j_endpoint.auth, histogram=query_histogram(registry)
    )
    try:
        heard: list[str] = []
        client.on_query = lambda name, seconds: heard.append(name)
        client.read(Query("test.one", READ, "RETURN 1 AS one"))
        client.write(lambda tx: tx.run(Query("test.write", READ, "RETURN 2 AS two")))
        assert heard == ["test.one", "test.write"]
        assert client.queries_run == 2
        count = registry.get_sample_value(
            "pboss_neo4j_query_seconds_count", {"name": "test.one", "access": "READ"}
        )
        assert count == 1
    finally:
        client.close()


@pytest.mark.neo4j
def test_scans_stream_flat_properties_ids_and_edges(neo4j_store_session) -> None:
    store = neo4j_store_session
    store.clear()
    nodes, edges = demo_network()
    store.upsert(nodes, edges)
    onts = list(store.scan_nodes("ONT"))
    assert [p["id"] for p in onts] == sorted(n.id for n in nodes if n.kind == "ONT")
    assert all(not k.startswith("_") for p in onts for k in p)
    assert onts[0] == store.get(onts[0]["id"]).props()
    owned = list(store.scan_ids("PartnerAccess", "P-TT"))
    want = sorted(n.id for n in nodes if n.kind == "PartnerAccess" and n.owner == "P-TT")
    assert owned == want
    routed = list(store.scan_edges("ROUTED_OVER"))
    expected = sorted((e.src, e.dst, e.props()) for e in edges if e.type == "ROUTED_OVER")
    assert routed == expected
    bare = list(store.scan_edges("ROUTED_OVER", ordered=False, props=False))
    assert sorted(bare) == sorted((s, d, {}) for s, d, _ in expected)
    with pytest.raises(ValueError):
        list(store.scan_nodes("Nope"))
    with pytest.raises(ValueError):
        list(store.scan_edges("NOPE"))
    store.clear()
