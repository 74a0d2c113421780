"""On Neo4j, trace and riders are one query each, however many riders there are."""

from __future__ import annotations

import logging
import re

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.model import parse_edge, parse_node

pytestmark = pytest.mark.neo4j
#: A Bolt message in the driver's debug log: who sent it (Client or Server) and which.
_BOLT = re.compile(r"\[#\w+\]\s+([CS]): (\w+)")


def _add_households(store, count: int) -> None:
    """Hang `count` more household services off free ports below OLT-1/0/2."""
    nodes, edges = [], []
    raw = [{"kind": "Splitter", "id": "SPL-N1", "site": "B-JZ", "stage": 1, "ratio": 32}]
    edges.append({"type": "FED_BY", "src": "SPL-N1", "dst": "OLT-1/0/2"})
    for i in range(count):
        port, ont, svc, cust = f"SPL-N1:{i}", f"ONT-N{i}", f"SVC-N{i}", f"H-N{i}"
        raw += [
            {"kind": "SplitterPort", "id": port, "site": "B-JZ", "index": i},
            {"kind": "ONT", "id": ont, "site": "B-JZ"},
            {"kind": "Customer", "id": cust, "site": "B-JZ"},
            {"kind": "Service", "id": svc, "product": "FTTH-100M"},
        ]
        edges += [
            {"type": "PART_OF", "src": port, "dst": "SPL-N1"},
            {"type": "FED_BY", "src": ont, "dst": port},
            {"type": "USES", "src": svc, "dst": ont},
            {"type": "FOR", "src": svc, "dst": cust},
        ]
    nodes = [parse_node(r) for r in raw]
    store.upsert(nodes, [parse_edge(e) for e in edges])


@pytest.mark.parametrize("extra", [0, 3, 30])
def test_riders_and_trace_cost_one_query_each(neo4j_store_session, extra: int) -> None:
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network())
    _add_households(store, extra)
    before = store.queries_run
    riders = store.riders(["OLT-1"], first=10)
    assert store.queries_run - before == 1
    assert riders.totals.services == 5 + extra
    before = store.queries_run
    store.trace("CIR-1")
    assert store.queries_run - before == 1
    store.clear()


def test_hot_reads_send_begin_with_the_query(neo4j_store_session, caplog) -> None:
    """riders, the site view and trace wait for the server once per query, not once for BEGIN and
    again for the query (`Neo4jStore._fetch` pipelines BEGIN, as `Driver.execute_query` does)."""
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network())
    calls = (
        lambda: store.riders(["OLT-1"]),
        lambda: store.site_view("B-JZ"),
        lambda: store.trace("CIR-1"),
    )
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        for call in calls:
            caplog.clear()
            call()
            said = [m.groups() for m in map(_BOLT.match, caplog.messages) if m]
            begin = said.index(("C", "BEGIN"))
            assert said[begin + 1 : begin + 3] == [("C", "RUN"), ("C", "PULL")], said
    store.clear()
