"""Shared fixtures: every store-facing test runs once per store (memory and a real Neo4j).

Neo4j comes from NEO4J_URI, else a testcontainers container, else the local launcher
(tests/neo4j_server.py). With CI=true a Neo4j that cannot start fails the run; locally it skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from pboss.bootstrap import register_kinds
from pboss.inventory.demo import demo_network
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.store import GraphStore

IN_CI = os.environ.get("CI", "").lower() == "true"
#: the embedded store in memory only, as tests expect (the app's default keeps it in ./var/pboss);
#: tests of the data directory pass one explicitly
os.environ["PBOSS_DATA_DIR"] = ""


@pytest.fixture(scope="session", autouse=True)
def kinds() -> None:
    """The capabilities' kinds (Order, Reservation, WorkOrder) in the model, as the app has them."""
    register_kinds()


@pytest.fixture(scope="session")
def neo4j_endpoint() -> Iterator[Any]:
    """One Neo4j for the whole session, started on demand."""
    from tests.neo4j_server import Neo4jUnavailable, neo4j_endpoint_for_tests

    try:
        endpoint = neo4j_endpoint_for_tests()
    except Neo4jUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI=true and Neo4j could not start: {exc}", pytrace=False)
        pytest.skip(f"no Neo4j: {exc}")
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture(scope="session")
def neo4j_store_session(neo4j_endpoint: Any) -> Iterator[GraphStore]:
    """A Neo4jStore on the session's Neo4j, schema ensured once."""
    from pboss.inventory.neo4j.store import Neo4jStore

    store = Neo4jStore(neo4j_endpoint.uri, auth=neo4j_endpoint.auth)
    yield store
    store.close()


@pytest.fixture(params=["memory", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    """An empty store of each implementation; the same test runs on both."""
    if request.param == "memory":
        yield MemoryStore()
        return
    neo = request.getfixturevalue("neo4j_store_session")
    neo.clear()
    yield neo
    neo.clear()


@pytest.fixture
def demo_store(store: GraphStore) -> GraphStore:
    """A store holding the hand-built reference network (pboss.inventory.demo)."""
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    return store


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many tests ran against a real Neo4j, so a CI log shows they were not skipped."""
    stats = terminalreporter.stats
    ran = {
        outcome: sum(1 for r in stats.get(outcome, []) if "neo4j" in r.keywords)
        for outcome in ("passed", "failed", "error", "skipped")
    }
    terminalreporter.write_line(
        "Neo4j-backed tests: "
        + ", ".join(f"{n} {outcome}" for outcome, n in ran.items() if n or outcome == "passed")
    )
