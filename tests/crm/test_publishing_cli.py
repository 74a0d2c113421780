"""`pboss load` publishes what it changed: one BusinessResourceChangedEvent per package, when
the load ends. Neo4j only: a load into the throw-away memory store publishes nothing (nothing
it writes outlives the command)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pboss.cli.main import app
from pboss.crm.publishing import EVENT_TYPE
from pboss.inventory.demo import demo_network
from pboss.inventory.store import GraphStore
from tests.crm.test_publishing import _estate_rows, publisher
from tests.loaders.conftest import write_bundle


@pytest.mark.neo4j
def test_pboss_load_publishes_one_event_per_package_it_changed(
    neo4j_endpoint: Any,
    neo4j_store_session: GraphStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = neo4j_store_session
    store.clear()
    try:
        store.latest_events(EVENT_TYPE, ["probe"])
    except NotImplementedError:
        pytest.skip("this store does not serve latest_events yet (issue 17's Neo4j hub reads)")
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    publisher(store).reconcile()
    before = store.last_event_seq()
    bundle = write_bundle(tmp_path / "estate", *_estate_rows())
    if neo4j_endpoint.auth:
        monkeypatch.setenv("PBOSS_NEO4J_USER", neo4j_endpoint.auth[0])
        monkeypatch.setenv("PBOSS_NEO4J_PASSWORD", neo4j_endpoint.auth[1])
    args = ["load", str(bundle), "--store", "neo4j", "--neo4j-uri", neo4j_endpoint.uri, "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "published 1 business resource change(s)" in result.output
    new = store.events_after(before, types=[EVENT_TYPE], first=100)
    assert [(e.subject, e.body["event"]["reasons"]) for e in new] == [
        ("ftth-access@B-NEW", ["packageAdded"])
    ]
    store.clear()
