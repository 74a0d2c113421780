"""Cluster-ready driver use: `neo4j://` routing, READ/WRITE routing per query, and bookmarks.

A single Neo4j serves a routing table naming itself, so the `neo4j://` scheme, the access mode
of each session and the bookmark flow are all tested against the server the tests start.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from neo4j import READ_ACCESS, WRITE_ACCESS, Neo4jDriver
from neo4j.exceptions import ClientError

from pboss.inventory.consistency import CausalScope, InvalidBookmark, causal_scope, decode, encode
from pboss.inventory.demo import demo_network
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import Element, parse_node
from pboss.inventory.neo4j.queries import READ, Query
from pboss.inventory.neo4j.store import Neo4jStore
from pboss.inventory.store import GraphStore

pytestmark = pytest.mark.neo4j


@pytest.fixture
def routed(neo4j_endpoint: Any) -> Iterator[tuple[Neo4jStore, list[dict[str, Any]]]]:
    """A store on the `neo4j://` (routing) URI of the test server, and a record of every
    session it opens (access mode and bookmarks), through the driver's public `session`."""
    uri = neo4j_endpoint.uri.replace("bolt://", "neo4j://", 1)
    store = Neo4jStore(uri, auth=neo4j_endpoint.auth)
    store.clear()
    opened: list[dict[str, Any]] = []
    real = store.client.driver.session

    def session(**config: Any) -> Any:
        bookmarks = config.get("bookmarks")
        opened.append(
            {
                "access": config.get("default_access_mode", WRITE_ACCESS),
                "bookmarks": bookmarks.raw_values if bookmarks is not None else frozenset(),
            }
        )
        return real(**config)

    store.client.driver.session = session  # type: ignore[method-assign]
    try:
        yield store, opened
    finally:
        store.clear()
        store.close()


def _olt(name: str = "OLT R") -> Element:
    olt = parse_node({"kind": "OLT", "id": "OLT-R", "site": "EX-1", "name": name})
    assert isinstance(olt, Element), olt
    return olt


def _seed(store: GraphStore) -> None:
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="seed")


def test_a_routing_uri_opens_a_routing_driver(routed: Any) -> None:
    store, _ = routed
    assert isinstance(store.client.driver, Neo4jDriver)  # neo4j:// (not a direct BoltDriver)
    _seed(store)
    assert store.get("OLT-1") is not None


def test_reads_open_read_sessions_and_writes_write_sessions(routed: Any) -> None:
    store, opened = routed
    _seed(store)
    opened.clear()
    store.get("OLT-1")
    store.riders(["OLT-1"])
    list(store.scan_nodes("OLT"))
    assert [s["access"] for s in opened] == [READ_ACCESS] * 3
    opened.clear()
    store.upsert([_olt()], [], actor="test", reason="routing")
    store.transact(lambda tx: tx.lock(["OLT-R"]), actor="test", reason="routing")
    assert opened and {s["access"] for s in opened} == {WRITE_ACCESS}


def test_the_server_refuses_a_write_sent_with_read_routing(routed: Any) -> None:
    """Read routing is real: a statement sent on the read path may not write (on a cluster it
    would land on a follower), so a query wrongly named READ fails loudly instead."""
    store, _ = routed
    with pytest.raises(ClientError, match="read access mode"):
        store.client.read(Query("probe_write", READ, "CREATE (:RoutingProbe) RETURN 1 AS x"))


def test_a_write_hands_its_bookmark_to_the_request_and_reads_wait_for_it(routed: Any) -> None:
    store, opened = routed
    _seed(store)
    with causal_scope() as scope:
        store.get("OLT-R")  # a read only: nothing to hand back
        assert not scope.wrote and scope.token() is None
        store.upsert([_olt()], [], actor="test", reason="bookmark")
        assert scope.wrote
        token = scope.token()
    assert token is not None
    first = decode(token)
    assert first and all(b.startswith("FB:") for b in first)
    opened.clear()
    with causal_scope(first) as scope:  # the client's next request, on any replica
        assert store.get("OLT-R") is not None
        assert opened[-1] == {"access": READ_ACCESS, "bookmarks": first}
        store.upsert([_olt("OLT renamed")], [], actor="test", reason="bookmark")
        later = scope.bookmarks
        assert opened[-1]["bookmarks"] == first  # the write waited for the first too
    assert later and later != first  # the newer bookmark supersedes the one it began after
    assert len(later) == 1
    opened.clear()
    with causal_scope():  # no bookmark: reads may go to any follower
        store.get("OLT-R")
    assert opened == [{"access": READ_ACCESS, "bookmarks": frozenset()}]


def test_a_bookmark_the_database_never_issued_is_invalid_bookmark(routed: Any) -> None:
    store, _ = routed
    with causal_scope({"not-a-neo4j-bookmark"}), pytest.raises(InvalidBookmark, match="bookmark"):
        store.get("OLT-1")


def test_the_embedded_store_ignores_bookmarks() -> None:
    store = MemoryStore()
    _seed(store)
    with causal_scope({"FB:anything"}) as scope:
        store.upsert([_olt()], [], actor="test", reason="memory")
        assert store.get("OLT-R") is not None
    assert not scope.wrote and scope.bookmarks == {"FB:anything"}


def test_tokens_round_trip_and_refuse_what_pboss_did_not_make() -> None:
    raw = {"FB:b", "FB:a"}
    assert decode(encode(raw)) == raw
    assert encode(raw) == encode(sorted(raw, reverse=True))  # opaque but stable
    for bad in ("%%%", encode([]).replace("W", "{"), "e30", "WzFd", "x" * 5000):
        with pytest.raises(InvalidBookmark, match="X-Pboss-Bookmark"):
            decode(bad)
    scope = CausalScope({"FB:a"})
    scope.committed(frozenset({"FB:a"}), {"FB:b"})
    scope.committed(frozenset({"FB:a"}), {"FB:c"})  # a concurrent write begun after FB:a only
    assert scope.bookmarks == {"FB:b", "FB:c"}
