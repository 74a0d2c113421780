"""On Neo4j, trace and riders are one query each, however many riders there are."""

from __future__ import annotations

import logging
import re

import pytest
from neo4j.exceptions import CypherSyntaxError, SessionExpired

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


def test_reads_are_one_round_trip_without_begin_or_commit(neo4j_store_session, caplog) -> None:
    """A read is one auto-commit statement: RUN and PULL go out together and the answer ends it,
    with no BEGIN before and no COMMIT round trip after (`Neo4jClient._read_once`)."""
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network())
    calls = (
        lambda: store.riders(["OLT-1"]),
        lambda: store.site_view("B-JZ"),
        lambda: store.trace("CIR-1"),
        lambda: store.get("OLT-1"),
        lambda: store.history("OLT-1"),
    )
    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        for call in calls:
            caplog.clear()
            call()
            said = [m.groups() for m in map(_BOLT.match, caplog.messages) if m]
            sent = [message for side, message in said if side == "C"]
            assert "BEGIN" not in sent and "COMMIT" not in sent, said
            run = sent.index("RUN")
            assert sent[run : run + 2] == ["RUN", "PULL"], said
    store.clear()


def test_a_read_failing_retryably_runs_again_in_a_managed_transaction(
    neo4j_store_session, monkeypatch
) -> None:
    """A lost connection on the auto-commit attempt does not reach the caller: the statement
    runs again through the driver's managed, retried transaction and gives the same rows."""
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network())
    expected = store.riders(["OLT-1"])
    real_session = store.client.driver.session
    failed: list[str] = []

    class LosesTheFirstRun:
        def __init__(self, session):
            self.session = session

        def __enter__(self):
            self.session.__enter__()
            return self

        def __exit__(self, *exc):
            return self.session.__exit__(*exc)

        def run(self, *args, **kwargs):
            failed.append("run")
            raise SessionExpired("connection lost")

        def __getattr__(self, name):
            return getattr(self.session, name)

    def session(**config):
        real = real_session(**config)
        return LosesTheFirstRun(real) if not failed else real

    monkeypatch.setattr(store.client.driver, "session", session)
    managed: list[str] = []
    execute_read = store.client.execute_read

    def spied(work):  # the managed, retried transaction
        managed.append("again")
        return execute_read(work)

    monkeypatch.setattr(store.client, "execute_read", spied)
    before = store.queries_run
    again = store.riders(["OLT-1"])
    assert failed == ["run"] and managed == ["again"]
    assert store.queries_run - before == 1
    assert [r.service.id for r in again.items] == [r.service.id for r in expected.items]
    assert again.totals == expected.totals
    store.clear()


def test_a_read_failing_for_good_is_not_run_again(neo4j_store_session, monkeypatch) -> None:
    """A statement the server refuses (not retryable) is raised at once, not run twice."""
    store = neo4j_store_session
    managed: list[str] = []
    monkeypatch.setattr(store.client, "execute_read", lambda work: managed.append("again"))
    with pytest.raises(CypherSyntaxError):
        store.read("broken", "MATCH (n RETURN n")
    assert managed == []
