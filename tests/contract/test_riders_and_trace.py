"""Bottom-up riders and top-down traces on the reference network, identical on every store."""

from __future__ import annotations

from typing import Any

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.errors import NotFound, StoredDataInvalid
from pboss.inventory.neo4j.store import Neo4jStore
from pboss.inventory.results import RIDER_CORE, RiderFields
from pboss.inventory.store import GraphStore

# Every service on each resource, worked out by hand from pboss/inventory/demo.py.
OLT1 = ["SVC-H1-BB", "SVC-H1-TV", "SVC-H2-BB", "SVC-H3-BB", "SVC-H3-VO"]
EXPECTED_RIDERS: dict[str, list[str]] = {
    "OLT-1": OLT1,
    "OLT-1/0/1": OLT1,
    "OLT-1/0/2": [],
    "SPL-JZ-1": OLT1,
    "SPL-JZ-1:1": ["SVC-H1-BB", "SVC-H1-TV", "SVC-H2-BB"],
    "SPL-JZ-1:2": ["SVC-H3-BB", "SVC-H3-VO"],
    "SPL-JZ-1:3": [],
    "SPL-JZ-2A": ["SVC-H1-BB", "SVC-H1-TV", "SVC-H2-BB"],
    "SPL-JZ-2A:2": ["SVC-H2-BB"],
    "ONT-1": ["SVC-H1-BB", "SVC-H1-TV"],
    "OLT-2": ["SVC-E2-BB", "SVC-H4-BB"],
    "SPL-DH-2A:2": ["SVC-E2-BB"],
    "TS-1": ["SVC-E1-LL"],
    "TS-2": ["SVC-E1-LL", "SVC-E2-LL"],
    "PL-1": ["SVC-E1-LL"],
    "NE-1": ["SVC-E1-LL", "SVC-E2-LL"],
    "NE-1/STM1-1": ["SVC-E1-LL"],
    "NE-A/E1-1": ["SVC-E1-LL"],
    "NE-Z": ["SVC-E1-LL"],
    "CIR-2": ["SVC-E2-LL"],
    "PA-DH-OC": ["SVC-H5-CB"],
    "SVC-H4-BB": ["SVC-H4-BB"],
    "B-JZ": [],
}
CUSTOMER_OF = {
    "SVC-H1-BB": "H-1", "SVC-H1-TV": "H-1", "SVC-H2-BB": "H-2", "SVC-H3-BB": "H-3",
    "SVC-H3-VO": "H-3", "SVC-H4-BB": "H-4", "SVC-E2-BB": "E-2", "SVC-E1-LL": "E-1",
    "SVC-E2-LL": "E-2", "SVC-H5-CB": "H-5",
}  # fmt: skip


@pytest.mark.parametrize("resource", sorted(EXPECTED_RIDERS))
def test_riders_are_exactly_the_expected_services_and_customers(
    demo_store: GraphStore, resource: str
) -> None:
    riders = demo_store.riders([resource], first=100)
    services = [r.service.id for r in riders.items]
    assert services == EXPECTED_RIDERS[resource]
    assert [r.customer.id if r.customer else None for r in riders.items] == [
        CUSTOMER_OF[s] for s in services
    ]
    assert riders.totals.services == len(services)
    assert riders.totals.customers == len({CUSTOMER_OF[s] for s in services})
    assert all(r.health == "ok" for r in riders.items)


def test_rider_totals_by_product_customer_type_and_tier(demo_store: GraphStore) -> None:
    olt = demo_store.riders(["OLT-1"]).totals
    assert olt.by_product == {"FTTH-1000M": 1, "FTTH-100M": 2, "IPTV": 1, "VOICE": 1}
    assert olt.by_customer_type == {"household": 3}
    assert olt.by_sla_tier == {"gold": 1, "standard": 2}
    ne = demo_store.riders(["NE-1"]).totals
    assert ne.by_product == {"MSTP-LL": 2}
    assert ne.by_customer_type == {"enterprise": 2}
    assert ne.by_sla_tier == {"gold": 1, "platinum": 1}


def test_impact_of_several_resources_is_deduplicated(demo_store: GraphStore) -> None:
    both = demo_store.riders(["TS-1", "TS-2", "PL-1"], first=100)
    assert [r.service.id for r in both.items] == ["SVC-E1-LL", "SVC-E2-LL"]
    mixed = demo_store.riders(["TS-1", "OLT-2"], first=100)
    assert [r.service.id for r in mixed.items] == ["SVC-E1-LL", "SVC-E2-BB", "SVC-H4-BB"]
    assert mixed.totals.customers == 3


def test_riders_are_paged_with_stable_totals(demo_store: GraphStore) -> None:
    first = demo_store.riders(["OLT-1"], first=2)
    assert [r.service.id for r in first.items] == OLT1[:2]
    assert first.next_cursor == OLT1[1]
    second = demo_store.riders(["OLT-1"], first=2, after=first.next_cursor)
    assert [r.service.id for r in second.items] == OLT1[2:4]
    last = demo_store.riders(["OLT-1"], first=2, after=second.next_cursor)
    assert [r.service.id for r in last.items] == OLT1[4:]
    assert last.next_cursor is None
    assert first.totals == second.totals == last.totals


@pytest.mark.parametrize(
    "fields",
    [
        RiderFields(frozenset(), frozenset()),
        RiderFields(frozenset({"name"}), frozenset({"name", "phone"})),
        RiderFields(frozenset({"service_type", "spec"}), frozenset({"address", "sla_tier"})),
    ],
)
def test_riders_with_fields_carry_those_properties_and_the_core(
    demo_store: GraphStore, fields: RiderFields
) -> None:
    svc = demo_store.get("SVC-H1-BB")
    assert svc is not None
    demo_store.upsert([svc.model_copy(update={"name": "宽带", "service_type": "ftth"})])
    for resources in (["OLT-1"], ["TS-1", "OLT-2", "PA-DH-OC"]):
        for after in (None, "SVC-E2-BB"):
            whole = demo_store.riders(resources, first=2, after=after)
            some = demo_store.riders(resources, first=2, after=after, fields=fields)
            assert some.totals == whole.totals and some.next_cursor == whole.next_cursor
            assert len(some.items) == len(whole.items) > 0
            for got, full in zip(some.items, whole.items, strict=True):
                assert (got.health, got.impaired_by) == (full.health, full.impaired_by)
                pairs = [(got.service, full.service, fields.service | {"product"})]
                if full.customer is not None:
                    pairs.append((got.customer, full.customer, fields.customer))
                else:
                    assert got.customer is None
                for el, whole_el, asked in pairs:
                    assert type(el) is type(whole_el)
                    for name in {*RIDER_CORE, *asked} - {"kind"}:
                        assert getattr(el, name) == getattr(whole_el, name), (el.id, name)


@pytest.mark.neo4j
def test_neo4j_fetches_only_the_fields_asked(neo4j_store_session: GraphStore) -> None:
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network())
    fields = RiderFields(frozenset(), frozenset({"name"}))
    riders = store.riders(["OLT-1"], first=1, fields=fields)
    customer = riders.items[0].customer
    assert customer is not None and customer.name == "张伟"
    assert customer.phone is None and customer.site is None  # not asked: never left the server
    assert store.riders(["OLT-1"], first=1).items[0].customer.phone == "13811111111"  # type: ignore[union-attr]
    store.clear()


@pytest.mark.neo4j
def test_neo4j_will_not_open_on_services_with_two_customers(
    neo4j_store_session: Neo4jStore, neo4j_endpoint: Any
) -> None:
    """A database written before FOR was single-upstream may give a service two customers;
    riders would list and count it twice, so the store refuses to open until one FOR is gone."""
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network())
    second_for = "MATCH (s:Entity {id: 'SVC-H1-BB'}), (c:Entity {id: 'H-2'}) CREATE (s)-[:FOR]->(c)"
    store.execute_write(lambda tx: tx.run(second_for).consume())
    try:
        with pytest.raises(StoredDataInvalid, match=r"SVC-H1-BB -> H-1, H-2\); each may have one"):
            Neo4jStore(neo4j_endpoint.uri, auth=neo4j_endpoint.auth)
        store.execute_write(
            lambda tx: tx.run("MATCH ({id: 'SVC-H1-BB'})-[r:FOR]->({id: 'H-2'}) DELETE r").consume()
        )
        reopened = Neo4jStore(neo4j_endpoint.uri, auth=neo4j_endpoint.auth)
        assert [r.customer.id for r in reopened.riders(["ONT-1"]).items if r.customer] == [
            "H-1",
            "H-1",
        ]
        reopened.close()
    finally:
        store.clear()


def test_riders_of_an_unknown_resource_is_not_found(demo_store: GraphStore) -> None:
    with pytest.raises(NotFound) as err:
        demo_store.riders(["OLT-1", "NO-SUCH-OLT"])
    assert err.value.element_id == "NO-SUCH-OLT"


def _hops(trace) -> list[tuple[str, str]]:
    return [(h.role, h.element.id) for h in trace.hops]


def test_trace_of_a_circuit_runs_a_end_trunk_z_end_in_route_order(demo_store: GraphStore) -> None:
    trace = demo_store.trace("CIR-1")
    assert _hops(trace) == [
        ("a_end", "NE-A"),
        ("a_end", "NE-A/E1-1"),
        ("trunk", "TS-1"),
        ("trunk", "TS-2"),
        ("trunk", "PL-1"),
        ("z_end", "NE-Z/E1-1"),
        ("z_end", "NE-Z"),
    ]
    trunks = {h.element.id: h for h in trace.hops if h.role == "trunk"}
    assert [trunks[t].seq for t in ("TS-1", "TS-2", "PL-1")] == [1, 2, 3]
    assert trunks["TS-2"].slots == [5, 6]
    assert (trunks["TS-2"].used, trunks["TS-2"].capacity) == (6, 252)
    assert (trunks["PL-1"].used, trunks["PL-1"].capacity) == (2, 63)
    assert [h.element.id for h in trace.hops if h.partner] == ["PL-1"]
    assert trunks["PL-1"].element.owner == "P-TT"
    assert trace.health == "ok"


def test_trace_of_a_leased_line_service_starts_at_its_circuit(demo_store: GraphStore) -> None:
    trace = demo_store.trace("SVC-E2-LL")
    assert _hops(trace) == [
        ("circuit", "CIR-2"),
        ("a_end", "NE-2"),
        ("a_end", "NE-2/E1-1"),
        ("trunk", "TS-2"),
        ("z_end", "NE-1/E1-1"),
        ("z_end", "NE-1"),
    ]


def test_trace_of_an_ftth_service_climbs_from_ont_to_olt(demo_store: GraphStore) -> None:
    trace = demo_store.trace("SVC-H1-BB")
    assert _hops(trace) == [
        ("ont", "ONT-1"),
        ("splitter_port", "SPL-JZ-2A:1"),
        ("splitter", "SPL-JZ-2A"),
        ("splitter_port", "SPL-JZ-1:1"),
        ("splitter", "SPL-JZ-1"),
        ("pon_port", "OLT-1/0/1"),
        ("olt", "OLT-1"),
    ]
    splitters = {h.element.id: (h.used, h.capacity) for h in trace.hops if h.role == "splitter"}
    assert splitters == {"SPL-JZ-2A": (2, 8), "SPL-JZ-1": (2, 4)}
    assert [h.depth for h in trace.hops] == [1, 2, 3, 4, 5, 6, 7]


def test_trace_of_a_partner_service_shows_the_partner_pool(demo_store: GraphStore) -> None:
    trace = demo_store.trace("SVC-H5-CB")
    assert _hops(trace) == [("partner_access", "PA-DH-OC")]
    hop = trace.hops[0]
    assert hop.partner and hop.element.owner == "P-OC"
    assert (hop.used, hop.capacity) == (40, 100)


def test_trace_of_an_unknown_id_is_not_found(demo_store: GraphStore) -> None:
    with pytest.raises(NotFound):
        demo_store.trace("NOPE")


def test_a_faulty_olt_shows_in_riders_health_and_traces(demo_store: GraphStore) -> None:
    change = demo_store.set_status("OLT-1", "faulty", actor="noc:alice", reason="power alarm")
    assert change is not None and (change.from_status, change.to_status) == ("available", "faulty")
    riders = demo_store.riders(["SPL-JZ-2A"])
    assert {r.health for r in riders.items} == {"down"}
    assert all(r.impaired_by == ["OLT-1"] for r in riders.items)
    assert {r.health for r in demo_store.riders(["OLT-2"]).items} == {"ok"}
    trace = demo_store.trace("SVC-H2-BB")
    assert (trace.health, trace.impaired_by) == ("down", ["OLT-1"])
    demo_store.set_status("OLT-1", "maintenance", actor="noc:alice", reason="card swap")
    assert {r.health for r in demo_store.riders(["OLT-1"]).items} == {"degraded"}
    demo_store.set_status("OLT-1", "available", actor="noc:bob", reason="repaired")
    assert {r.health for r in demo_store.riders(["OLT-1"]).items} == {"ok"}
    history = [h for h in demo_store.history("OLT-1") if h.change == "status"]
    assert [(h.from_status, h.to_status, h.actor, h.reason) for h in history] == [
        ("maintenance", "available", "noc:bob", "repaired"),
        ("faulty", "maintenance", "noc:alice", "card swap"),
        ("available", "faulty", "noc:alice", "power alarm"),
    ]
    assert [h.element_id for h in demo_store.history(actor="noc:bob")] == ["OLT-1"]
