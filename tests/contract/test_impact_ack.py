"""Retiring, maintaining or deleting what live services ride needs their acknowledgement.

A trunk carrying a live circuit was RETIRED (a final state) and the circuit went down, silently.
With an `Acknowledgement` (the GraphQL mutations always pass one) the store counts the riders
inside the write transaction and refuses, writing nothing, unless the acknowledgement covers
exactly them: none acknowledged, or a stale count, is refused on both stores.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pboss.inventory.errors import HasDependants
from pboss.inventory.impact import Acknowledgement, ImpactNotAcknowledged
from pboss.inventory.model import parse_edge, parse_node
from pboss.inventory.store import GraphStore

NONE = Acknowledgement()


def _status_changes(store: GraphStore, element_id: str) -> list[tuple[str | None, str]]:
    return [(h.from_status, h.to_status) for h in store.history(element_id) if h.change == "status"]


def test_retiring_a_trunk_with_a_live_circuit_needs_its_riders_acknowledged(
    demo_store: GraphStore,
) -> None:
    with pytest.raises(ImpactNotAcknowledged) as err:
        demo_store.set_status("TS-1", "retired", actor="eng", reason="decommission", ack=NONE)
    impact = err.value.impact
    assert (impact.totals.services, impact.totals.customers) == (1, 1)
    assert impact.totals.by_sla_tier == {"platinum": 1}
    [rider] = impact.riders
    assert rider.service.id == "SVC-E1-LL" and rider.customer is not None
    assert rider.customer.id == "E-1"
    assert not err.value.stale and impact.resource_ids == ["TS-1"]
    assert demo_store.get("TS-1").status == "available"  # type: ignore[union-attr]
    assert _status_changes(demo_store, "TS-1") == []

    with pytest.raises(ImpactNotAcknowledged) as err:  # a count that is not the riders'
        demo_store.set_status(
            "TS-1", "retired", actor="eng", reason="x", ack=Acknowledgement(riders=2)
        )
    assert err.value.stale and err.value.acknowledged == 2
    assert demo_store.get("TS-1").status == "available"  # type: ignore[union-attr]

    change = demo_store.set_status(
        "TS-1", "retired", actor="eng", reason="decommission", ack=Acknowledgement(riders=1)
    )
    assert change is not None and change.to_status == "retired"


def test_a_count_acknowledged_before_the_riders_changed_is_refused(
    demo_store: GraphStore,
) -> None:
    seen = demo_store.riders(["TS-1"]).totals.services
    assert seen == 1
    nodes = [
        parse_node({"kind": "Circuit", "id": "CIR-9", "bandwidth_2m": 1, "status": "in_use"}),
        parse_node(
            {"kind": "Service", "id": "SVC-E2-L9", "product": "MSTP-LL", "status": "in_use"}
        ),
    ]
    edges = [
        parse_edge({"type": "ROUTED_OVER", "src": "CIR-9", "dst": "TS-1", "seq": 1, "slots": [9]}),
        parse_edge({"type": "USES", "src": "SVC-E2-L9", "dst": "CIR-9"}),
        parse_edge({"type": "FOR", "src": "SVC-E2-L9", "dst": "E-2"}),
    ]
    demo_store.upsert(nodes, edges, actor="crm", reason="new leased line")  # type: ignore[arg-type]
    with pytest.raises(ImpactNotAcknowledged) as err:
        demo_store.set_status(
            "TS-1", "maintenance", actor="eng", reason="fibre", ack=Acknowledgement(riders=seen)
        )
    assert err.value.stale and err.value.impact.totals.services == 2
    assert err.value.impact.totals.customers == 2
    assert demo_store.get("TS-1").status == "available"  # type: ignore[union-attr]
    demo_store.set_status(
        "TS-1", "maintenance", actor="eng", reason="fibre", ack=Acknowledgement(riders=2)
    )
    assert demo_store.get("TS-1").status == "maintenance"  # type: ignore[union-attr]


def test_maintenance_is_gated_faults_are_recorded_and_idle_resources_need_nothing(
    demo_store: GraphStore,
) -> None:
    riders = demo_store.riders(["OLT-1"]).totals.services
    with pytest.raises(ImpactNotAcknowledged) as err:
        demo_store.set_status("OLT-1", "maintenance", actor="eng", reason="swap", ack=NONE)
    assert err.value.impact.totals.services == riders > 0
    assert len(err.value.impact.riders) == riders
    # a fault has happened whatever is recorded: holding it back would hide an outage
    assert demo_store.set_status("OLT-1", "faulty", actor="noc", reason="alarm", ack=NONE)
    # nothing rides a spare PON port: no acknowledgement needed
    assert demo_store.riders(["OLT-1/0/2"]).totals.services == 0
    assert demo_store.set_status("OLT-1/0/2", "retired", actor="eng", reason="x", ack=NONE)
    # accepting the impact whatever it is
    assert demo_store.set_status(
        "TS-2", "retired", actor="eng", reason="x", ack=Acknowledgement(accept=True)
    )


def test_an_upsert_that_retires_a_ridden_resource_is_gated(demo_store: GraphStore) -> None:
    ts = demo_store.get("TS-1")
    assert ts is not None
    retired = ts.model_copy(update={"status": "retired", "name": "renamed too"})
    with pytest.raises(ImpactNotAcknowledged) as err:
        demo_store.upsert([retired], actor="eng", reason="decommission", ack=NONE)
    assert err.value.impact.totals.services == 1
    got = demo_store.get("TS-1")
    assert got is not None and (got.status, got.name) == ("available", ts.name)
    result = demo_store.upsert(
        [retired], actor="eng", reason="decommission", ack=Acknowledgement(riders=1)
    )
    assert result.nodes_updated == 1
    assert demo_store.get("TS-1").status == "retired"  # type: ignore[union-attr]


def test_deleting_what_services_ride_needs_their_acknowledgement(demo_store: GraphStore) -> None:
    with pytest.raises(HasDependants):  # without a cascade, dependants refuse as before
        demo_store.delete(["SPL-JZ-2B"], ack=NONE)
    with pytest.raises(ImpactNotAcknowledged) as err:
        demo_store.delete(["SPL-JZ-2B"], cascade=True, ack=NONE)
    assert err.value.impact.totals.services == 2
    assert {r.service.id for r in err.value.impact.riders} == {"SVC-H3-BB", "SVC-H3-VO"}
    assert demo_store.get("ONT-3") is not None and demo_store.get("SVC-H3-VO") is not None
    with pytest.raises(ImpactNotAcknowledged):  # a live service deleted directly is its own rider
        demo_store.delete(["SVC-H1-TV"], ack=NONE)
    assert demo_store.get("SVC-H1-TV") is not None
    doomed = demo_store.delete(["SPL-JZ-2B"], cascade=True, ack=Acknowledgement(riders=2))
    assert "SVC-H3-BB" in doomed and demo_store.get("ONT-3") is None
    assert demo_store.delete(["OLT-1/0/2"], ack=NONE) == ["OLT-1/0/2"]


@pytest.mark.neo4j
def test_a_rider_joining_while_the_count_waits_for_its_lock_is_counted(
    neo4j_store_session: Any,
) -> None:
    """Neo4j reads at read-committed: the count is taken only after the riders' closure is
    write-locked, so a transaction adding a rider under one of its nodes either commits first
    (and is counted: the acknowledged count is stale) or waits for the retirement."""
    from pboss.inventory.demo import demo_network
    from pboss.inventory.neo4j.queries.base import labels_for

    neo = neo4j_store_session
    neo.clear()
    neo.upsert(*demo_network())
    with pytest.raises(ImpactNotAcknowledged):  # the queries planned: the retirement is quick
        neo.set_status("TS-1", "retired", actor="eng", reason="x", ack=NONE)
    locked, release = threading.Event(), threading.Event()

    def add_rider(tx: Any) -> None:  # holds CIR-1 (above TS-1) while it adds a service on it
        tx.run("MATCH (c:Entity {id: 'CIR-1'}) SET c._lock = true REMOVE c._lock").consume()
        tx.run(
            f"CREATE (s{labels_for('Service')} {{id: 'SVC-LATE', kind: 'Service', name: 'late', "
            "owner: 'self', status: 'in_use', product: 'MSTP-LL'}) WITH s "
            "MATCH (c:Entity {id: 'CIR-1'}), (e:Entity {id: 'E-2'}) "
            "CREATE (s)-[:USES]->(c), (s)-[:FOR]->(e)"
        ).consume()
        locked.set()
        release.wait(30)

    outcome: list[BaseException | object] = []

    def retire() -> None:
        try:
            outcome.append(
                neo.set_status(
                    "TS-1", "retired", actor="eng", reason="x", ack=Acknowledgement(riders=1)
                )
            )
        except BaseException as exc:
            outcome.append(exc)

    writer = threading.Thread(target=lambda: neo.execute_write(add_rider))
    writer.start()
    assert locked.wait(30)
    retiring = threading.Thread(target=retire)
    retiring.start()
    retiring.join(3)
    assert retiring.is_alive(), "the count must wait for the lock on the riders' closure"
    release.set()
    writer.join(30)
    retiring.join(30)
    [result] = outcome
    assert isinstance(result, ImpactNotAcknowledged), result
    assert result.stale and result.impact.totals.services == 2
    assert neo.get("TS-1").status == "available"
    neo.clear()
