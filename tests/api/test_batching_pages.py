"""A page's nested `history`, `dependants` and `dependencies` cost a fixed handful of store calls,
whatever the page size: the loaders batch them into `history_many` and `neighbours_many` (one
query each on Neo4j). Counted through the app's store-call metrics and, on Neo4j, the client's
own query count. Runs on the memory store and on Neo4j."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.inventory.model import parse_edge, parse_node
from pboss.inventory.store import GraphStore
from tests.api.conftest import ENGINEER, Api, api_settings
from tests.api.test_batching import _calls_of

PAGE = """{ elements(kind: "OLT", first: 50) { totalCount edges { node { id
    history(limit: 5) { elementId toStatus reason }
    dependants { type node { id } }
    dependencies { type node { id } }
    again: dependants(types: [PART_OF]) { node { id } } } } } }"""


def _olts(store: GraphStore, n: int) -> None:
    """n OLTs at EX-1 (the demo has two), each with two PON ports and one status change."""
    rows = []
    edges = []
    for i in range(n):
        olt = f"OLT-B{i:02d}"
        rows.append({"kind": "OLT", "id": olt, "site": "EX-1", "spec": "OLT-C600"})
        for p in (1, 2):
            rows.append({"kind": "PonPort", "id": f"{olt}/0/{p}", "site": "EX-1", "port": p})
            edges.append({"type": "PART_OF", "src": f"{olt}/0/{p}", "dst": olt})
    nodes = [parse_node(r) for r in rows]
    parsed_edges = [parse_edge(e) for e in edges]
    store.upsert(nodes, parsed_edges, actor="test", reason="a bigger exchange")  # type: ignore[arg-type]
    for i in range(n):
        store.set_status(f"OLT-B{i:02d}", "maintenance", actor="test", reason=f"works {i}")


def test_a_page_of_50_olts_with_history_and_links_is_a_fixed_handful_of_calls(
    demo_store: GraphStore,
) -> None:
    _olts(demo_store, 48)
    neo4j = getattr(demo_store, "client", None)  # Neo4j's client counts its queries
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        api = Api(client)
        page = api.data(PAGE, key=ENGINEER)["elements"]
        assert page["totalCount"] == 50 and len(page["edges"]) == 50
        by_id = {e["node"]["id"]: e["node"] for e in page["edges"]}
        olt = by_id["OLT-B07"]
        assert olt["history"][0] == {
            "elementId": "OLT-B07",
            "toStatus": "maintenance",
            "reason": "works 7",
        }  # then its creation and its two PON ports' PART_OF edges
        assert [h["reason"] for h in olt["history"][1:]] == ["a bigger exchange"] * 3
        assert olt["dependants"] == [
            {"type": "PART_OF", "node": {"id": "OLT-B07/0/1"}},
            {"type": "PART_OF", "node": {"id": "OLT-B07/0/2"}},
        ]
        assert olt["again"] == [{"node": {"id": "OLT-B07/0/1"}}, {"node": {"id": "OLT-B07/0/2"}}]
        assert olt["dependencies"] == []
        assert {h["reason"] for h in by_id["OLT-1"]["history"]} == {"reference network"}
        assert {d["node"]["id"] for d in by_id["OLT-1"]["dependants"]} >= {"OLT-1/0/1"}
        ran_before = neo4j.queries_run if neo4j is not None else 0
        calls = _calls_of(api, PAGE)
        ran = neo4j.queries_run - ran_before if neo4j is not None else 0
    # the page, one history read for all 50, one link read per direction and type filter
    assert calls == Counter({"find": 1, "history_many": 1, "neighbours_many": 3}), calls
    if neo4j is not None:  # each of those is one query (one round trip)
        assert ran == sum(calls.values()), ran
