"""Neo4jStore.transact: a step's writes pass the same validation as `upsert`, in one transaction,
with at most one extra round trip; and the sweeper's `due_ids`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.errors import ValidationFailed
from pboss.inventory.model import Edge, parse_node
from pboss.inventory.transaction import GraphTx

pytestmark = pytest.mark.neo4j


@pytest.fixture
def neo(neo4j_store_session):
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network(), actor="test", reason="reference network")
    yield store
    store.clear()


def test_an_invalid_edge_from_a_step_is_refused_and_nothing_is_written(neo) -> None:
    before = neo.counts()

    def step(tx: GraphTx) -> None:
        [ont] = tx.lock(["ONT-1"]).values()
        tx.put(ont.model_copy(update={"name": "renamed"}))
        tx.unlink("FED_BY", "ONT-1", "SPL-JZ-2A:1")
        tx.link(Edge(type="FED_BY", src="ONT-1", dst="OLT-1"))  # an ONT is not fed by an OLT

    with pytest.raises(ValidationFailed) as refused:
        neo.transact(step, actor="test", reason="invalid")
    assert "FED_BY" in str(refused.value)
    assert neo.counts() == before
    assert neo.get("ONT-1").name != "renamed"
    assert [e.dst for e, _ in neo.neighbours("ONT-1", "out", ["FED_BY"])] == ["SPL-JZ-2A:1"]


def test_a_status_change_the_lifecycle_forbids_is_refused(neo) -> None:
    def step(tx: GraphTx) -> None:
        [port] = tx.lock(["SPL-JZ-1:4"]).values()
        tx.put(port.model_copy(update={"status": "planned"}))  # available -> planned: refused

    with pytest.raises(ValidationFailed, match="status cannot change"):
        neo.transact(step, actor="test", reason="invalid")
    assert neo.get("SPL-JZ-1:4").status == "available"


def test_a_second_upstream_is_refused_unless_the_step_removes_the_first(neo) -> None:
    def second(tx: GraphTx) -> None:
        tx.link(Edge(type="FED_BY", src="ONT-1", dst="SPL-JZ-2A:3"))

    with pytest.raises(ValidationFailed, match="one FED_BY target"):
        neo.transact(second, actor="test", reason="two feeds")

    def move(tx: GraphTx) -> None:
        tx.lock(["ONT-1", "SPL-JZ-2A:1", "SPL-JZ-2A:3"])
        tx.unlink("FED_BY", "ONT-1", "SPL-JZ-2A:1")
        tx.link(Edge(type="FED_BY", src="ONT-1", dst="SPL-JZ-2A:3"))

    neo.transact(move, actor="test", reason="move")
    assert [e.dst for e, _ in neo.neighbours("ONT-1", "out", ["FED_BY"])] == ["SPL-JZ-2A:3"]


def test_slots_held_twice_are_refused(neo) -> None:
    held = next(e for e, _ in neo.neighbours("CIR-1", "out", ["ROUTED_OVER"]) if e.dst == "TS-1")

    def step(tx: GraphTx) -> None:
        tx.link(Edge(type="ROUTED_OVER", src="CIR-2", dst="TS-1", seq=2, slots=held.slots))

    with pytest.raises(ValidationFailed, match="already held"):
        neo.transact(step, actor="test", reason="double booking")


def test_status_changes_are_recorded_with_actor_and_reason(neo) -> None:
    def step(tx: GraphTx) -> str:
        [port] = tx.lock(["SPL-JZ-1:4"]).values()
        tx.put(port.model_copy(update={"status": "reserved"}))
        return port.id

    assert neo.transact(step, actor="crm", reason="hold for order 7") == "SPL-JZ-1:4"
    assert neo.get("SPL-JZ-1:4").status == "reserved"
    [change] = [h for h in neo.history("SPL-JZ-1:4") if h.change == "status"]
    assert (change.from_status, change.to_status) == ("available", "reserved")
    assert (change.actor, change.reason) == ("crm", "hold for order 7")


def test_validation_reuses_what_the_step_locked(neo) -> None:
    """Validation costs at most one read at commit: what the step locked (with the site and
    partner each locked node names) is not read again; the rest comes in one query."""

    def step(tx: GraphTx) -> None:
        [port] = tx.lock(["SPL-JZ-1:4"]).values()
        tx.put(port.model_copy(update={"status": "reserved"}))

    before = neo.queries_run
    neo.transact(step, actor="test", reason="reuse")
    assert neo.queries_run - before == 2  # the lock (with the port's site), the write

    def linking(tx: GraphTx) -> None:
        tx.lock(["SPL-JZ-1:3"])
        tx.link(Edge(type="FED_BY", src="ONT-1", dst="SPL-JZ-1:3"))  # refused: second feed

    before = neo.queries_run
    with pytest.raises(ValidationFailed):
        neo.transact(linking, actor="test", reason="one read")
    assert neo.queries_run - before == 2  # the lock, then one read for validation, no write


def test_a_valid_step_creates_and_links(neo) -> None:
    ont = parse_node({"kind": "ONT", "id": "ONT-NEW", "site": "B-JZ"})

    def step(tx: GraphTx) -> None:
        tx.lock(["SPL-JZ-1:4"])
        tx.put(ont, new=True)
        tx.link(Edge(type="FED_BY", src="ONT-NEW", dst="SPL-JZ-1:4"))

    neo.transact(step, actor="test", reason="new ONT")
    assert neo.get("ONT-NEW") is not None
    assert [e.dst for e, _ in neo.neighbours("ONT-NEW", "out")] == ["SPL-JZ-1:4"]


def test_due_ids_orders_by_time_then_id_and_honours_until_and_limit(neo) -> None:
    import pboss.provisioning  # noqa: F401  (registers the Reservation kind)
    from pboss.inventory.timestamps import stamp

    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    rows = [
        ("RES-B", "held", now - timedelta(minutes=5)),
        ("RES-A", "held", now - timedelta(minutes=5)),
        ("RES-C", "held", now - timedelta(hours=1)),
        ("RES-D", "held", now + timedelta(minutes=5)),
        ("RES-E", "confirmed", now - timedelta(hours=2)),
    ]
    cypher = (
        "UNWIND $rows AS r CREATE (n:Entity:Provisioning:Reservation) "
        "SET n.id = r[0], n.kind = 'Reservation', n.state = r[1], n.valid_until = r[2]"
    )
    neo.execute_write(
        lambda tx: tx.run(cypher, rows=[[i, s, stamp(t)] for i, s, t in rows]).consume()
    )

    def due(**kw):
        return neo.due_ids("Reservation", time_field="valid_until", **kw)

    assert due(states=["held"], until=now, limit=10) == ["RES-C", "RES-A", "RES-B"]
    assert due(states=["held"], until=now, limit=2) == ["RES-C", "RES-A"]
    assert due(states=["held", "confirmed"], until=None, limit=10) == [
        "RES-E",
        "RES-C",
        "RES-A",
        "RES-B",
        "RES-D",
    ]
    with pytest.raises(ValueError):
        neo.due_ids("Nope", states=["held"], time_field="valid_until", until=None, limit=1)
    with pytest.raises(ValueError):  # a time field is one of the kind's fields, never input
        neo.due_ids(
            "Reservation", states=["held"], time_field="x) DETACH DELETE (n", until=None, limit=1
        )
