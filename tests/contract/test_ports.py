"""A port has one user: no write path gives an exclusive port (a splitter output, an NE port) a
second user or takes one a reservation holds, on either store, even under concurrency.

Every path is tried: `upsert` (the API's and the loader's), a transaction (provisioning's steps,
later cutover), a whole load through pboss's loader, and confirm of a hold whose port was taken
by data written past the rules. Each refusal is a `PortInUse` naming the port and its user or
holder, and writes nothing.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pboss.inventory.demo import demo_rows
from pboss.inventory.errors import PortInUse
from pboss.inventory.model import ONT, Circuit, Edge, Element
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx
from pboss.loaders import LoadOptions, LoadRefused, load_paths
from pboss.provisioning.errors import Conflict
from pboss.provisioning.model import ReservationState
from tests.contract.test_transactions import graph_of, network, service_on
from tests.loaders.conftest import column_of, line_of, write_bundle
from tests.provisioning.conftest import Clock, ftth, leased


def _ont(ont_id: str, site: str = "B-DH") -> ONT:
    return ONT(id=ont_id, site=site, ont_type="HGU")


def _feeds(ont_id: str, port: str) -> Edge:
    return Edge(type="FED_BY", src=ont_id, dst=port)


def _refused(store: GraphStore, nodes: list[Element], edges: list[Edge]) -> PortInUse:
    """Upsert that must be refused for a port, leaving the store exactly as it was."""
    before = graph_of(store)
    with pytest.raises(PortInUse) as info:
        store.upsert(nodes, edges, actor="contract", reason="second user")
    assert graph_of(store) == before
    return info.value


def _only_issue(exc: PortInUse) -> tuple[str, str]:
    [issue] = exc.issues
    return issue.item, issue.reason


def test_an_ont_fed_by_an_output_another_ont_uses_is_refused(demo_store: GraphStore) -> None:
    exc = _refused(demo_store, [_ont("ONT-2ND")], [_feeds("ONT-2ND", "SPL-DH-2A:1")])
    assert _only_issue(exc) == (
        "SplitterPort 'SPL-DH-2A:1'",
        "already used by 'ONT-4' (FED_BY), not free for 'ONT-2ND' (FED_BY)",
    )
    # the same edge again is no second user; a free output is taken as before
    demo_store.upsert([], [_feeds("ONT-4", "SPL-DH-2A:1")])
    demo_store.upsert([_ont("ONT-NEW")], [_feeds("ONT-NEW", "SPL-DH-2A:3")])
    assert [el.id for _, el in demo_store.neighbours("SPL-DH-2A:3", "in")] == ["ONT-NEW"]


def test_one_batch_cannot_give_one_output_two_onts(demo_store: GraphStore) -> None:
    nodes = [_ont("ONT-X"), _ont("ONT-Y")]
    edges = [_feeds("ONT-X", "SPL-DH-2A:3"), _feeds("ONT-Y", "SPL-DH-2A:3")]
    item, reason = _only_issue(_refused(demo_store, nodes, edges))
    assert item == "SplitterPort 'SPL-DH-2A:3'"
    assert reason == "already used by 'ONT-X' (FED_BY), not free for 'ONT-Y' (FED_BY)"


def test_an_ont_fed_by_an_output_a_reservation_holds_is_refused(store: GraphStore) -> None:
    svc = service_on(network(store), Clock())
    res = svc.reserve(svc.submit_order(ftth("PT1", site="B-DH")).id)
    [port] = [r for r in res.resources if r.startswith("SPL-")]
    exc = _refused(store, [_ont("ONT-SNEAK")], [_feeds("ONT-SNEAK", port)])
    assert _only_issue(exc) == (
        f"SplitterPort {port!r}",
        f"already held by {res.id!r} (HOLDS), not free for 'ONT-SNEAK' (FED_BY)",
    )
    # the hold still confirms: its own ONT takes the port
    assert svc.confirm(res.id).state == ReservationState.CONFIRMED
    [(edge, ont)] = store.neighbours(port, "in")
    assert (edge.type, ont.id) == ("FED_BY", "ONT-PT1")


def test_a_circuit_ending_on_a_held_ne_port_is_refused(store: GraphStore) -> None:
    svc = service_on(network(store), Clock())
    res = svc.reserve(svc.submit_order(leased("PT2")).id)
    a_end = res.resources[0]
    assert a_end.startswith("NE-A/")
    circuit = Circuit(id="CIR-SNEAK", bandwidth_2m=1, status="in_use")
    edges = [Edge(type="A_END", src="CIR-SNEAK", dst=a_end)]
    exc = _refused(store, [circuit], edges)
    assert _only_issue(exc) == (
        f"Port {a_end!r}",
        f"already held by {res.id!r} (HOLDS), not free for 'CIR-SNEAK' (A_END)",
    )
    # and on a port another circuit ends on
    used = [Edge(type="A_END", src="CIR-SNEAK", dst="NE-A/E1-1")]
    item, reason = _only_issue(_refused(store, [circuit], used))
    assert (item, reason) == (
        "Port 'NE-A/E1-1'",
        "already used by 'CIR-1' (A_END), not free for 'CIR-SNEAK' (A_END)",
    )


def test_a_transaction_cannot_give_a_port_a_second_user(demo_store: GraphStore) -> None:
    """What a step (provisioning today, cutover later) writes passes the same check."""
    before = graph_of(demo_store)

    def sneak(tx: GraphTx) -> None:
        tx.lock(["SPL-JZ-2A:1"])
        tx.put(_ont("ONT-TX", "B-JZ"), new=True)
        tx.link(_feeds("ONT-TX", "SPL-JZ-2A:1"))

    with pytest.raises(PortInUse, match=r"'SPL-JZ-2A:1'.*already used by 'ONT-1'"):
        demo_store.transact(sneak, actor="contract", reason="second user")
    assert graph_of(demo_store) == before

    def move(tx: GraphTx) -> None:  # moving ONT-1 off the port first frees it for the newcomer
        tx.lock(["SPL-JZ-2A:1", "SPL-JZ-2A:3"])
        tx.unlink("FED_BY", "ONT-1", "SPL-JZ-2A:1")
        tx.link(_feeds("ONT-1", "SPL-JZ-2A:3"))
        tx.put(_ont("ONT-TX", "B-JZ"), new=True)
        tx.link(_feeds("ONT-TX", "SPL-JZ-2A:1"))

    demo_store.transact(move, actor="contract", reason="cutover")
    assert [el.id for _, el in demo_store.neighbours("SPL-JZ-2A:1", "in")] == ["ONT-TX"]


def test_concurrent_upserts_for_one_free_output_exactly_one_wins(demo_store: GraphStore) -> None:
    writers = 8
    barrier = threading.Barrier(writers)

    def one(n: int) -> Any:
        barrier.wait()
        try:
            return demo_store.upsert([_ont(f"ONT-R{n}")], [_feeds(f"ONT-R{n}", "SPL-DH-2A:4")])
        except PortInUse as exc:
            return exc

    with ThreadPoolExecutor(max_workers=writers) as pool:
        results = list(pool.map(one, range(writers)))
    refused = [r for r in results if isinstance(r, PortInUse)]
    assert len(refused) == writers - 1, results
    [(edge, winner)] = demo_store.neighbours("SPL-DH-2A:4", "in")
    assert edge.type == "FED_BY" and winner.id.startswith("ONT-R")
    assert all(f"already used by {winner.id!r}" in str(r) for r in refused)
    # the losers wrote nothing, not even their ONT
    onts = set(demo_store.scan_ids("ONT", "self"))
    assert {o for o in onts if o.startswith("ONT-R")} == {winner.id}


def test_confirm_of_a_hold_whose_port_was_taken_is_refused(store: GraphStore) -> None:
    """Data written past the rules (before them, or by hand in the database) took the held
    output: confirm must not make it feed two ONTs."""
    svc = service_on(network(store), Clock())
    res = svc.reserve(svc.submit_order(ftth("PT3", site="B-DH")).id)
    [port] = [r for r in res.resources if r.startswith("SPL-")]
    _write_past_the_rules(store, _ont("ONT-ROGUE"), _feeds("ONT-ROGUE", port))
    before = graph_of(store)

    with pytest.raises(Conflict) as info:
        svc.confirm(res.id)
    assert info.value.message == "a port this step needs is taken"
    assert info.value.reasons == [
        f"SplitterPort {port!r}: already used by 'ONT-ROGUE' (FED_BY), not free for "
        "'ONT-PT3' (FED_BY)"
    ]
    assert graph_of(store) == before
    assert svc.reservation(res.id).state == ReservationState.HELD


def _write_past_the_rules(store: GraphStore, node: Element, edge: Edge) -> None:
    """Write a node and an edge without any validation (as legacy data would be)."""
    if hasattr(store, "graph"):  # MemoryStore
        store._put_node(node)  # type: ignore[attr-defined]
        store.graph.add_edge(edge.src, edge.dst, key=edge.type)  # type: ignore[attr-defined]
        return

    def work(tx: Any) -> None:
        tx.run(
            "CREATE (n:Entity:Resource:ONT) SET n = $props "
            "WITH n MATCH (p:Entity {id: $dst}) CREATE (n)-[:FED_BY]->(p)",
            props=node.props(),
            dst=edge.dst,
        ).consume()

    store.execute_write(work)  # type: ignore[attr-defined]


# ---- the loader ---------------------------------------------------------------------------------


def _load_refused(store: GraphStore, bundle: Path) -> list[Any]:
    before = graph_of(store)
    with pytest.raises(LoadRefused) as info:
        load_paths(store, [bundle], LoadOptions())
    assert graph_of(store) == before
    return info.value.issues


def test_a_load_feeding_a_used_output_is_refused_at_its_line(
    demo_store: GraphStore, tmp_path: Path
) -> None:
    rows = [{"kind": "ONT", "id": "ONT-LOAD", "site": "B-DH", "ont_type": "HGU"}]
    edges = [
        {"type": "FED_BY", "src": "ONT-LOAD", "dst": "SPL-DH-2A:5"},
        {"type": "FED_BY", "src": "ONT-LOAD2", "dst": "SPL-DH-2A:1"},
    ]
    rows.append({"kind": "ONT", "id": "ONT-LOAD2", "site": "B-DH", "ont_type": "HGU"})
    bundle = write_bundle(tmp_path / "b", rows, edges)
    fed = bundle / "edges" / "FED_BY.ndjson"
    [issue] = _load_refused(demo_store, bundle)
    line = line_of(fed, '"ONT-LOAD2"')
    assert (issue.file, issue.line) == (str(fed), line)
    assert issue.column == column_of(fed, line, "dst")
    assert issue.reason == (
        "SplitterPort 'SPL-DH-2A:1' already used by 'ONT-4' (FED_BY) in the feed or the store, "
        "not free for 'ONT-LOAD2' (FED_BY)"
    )


def test_a_load_taking_a_held_port_or_one_output_twice_is_refused(
    store: GraphStore, tmp_path: Path
) -> None:
    svc = service_on(network(store), Clock())
    res = svc.reserve(svc.submit_order(leased("PT4")).id)
    a_end = res.resources[0]
    rows = [{"kind": "Circuit", "id": "CIR-LOAD", "bandwidth_2m": 1}]
    edges = [{"type": "A_END", "src": "CIR-LOAD", "dst": a_end}]
    bundle = write_bundle(tmp_path / "held", rows, edges)
    [issue] = _load_refused(store, bundle)
    assert issue.line == 1 and issue.file == str(bundle / "edges" / "A_END.ndjson")
    assert f"Port {a_end!r} already held by {res.id!r} (HOLDS)" in issue.reason

    # within one feed: the second ONT on SPL-DH-2A:2 of the reference network (ONT-5's)
    nodes, edges = demo_rows()
    next(e for e in edges if e.get("src") == "ONT-5")["dst"] = "SPL-DH-2A:1"
    store.clear()
    bundle = write_bundle(tmp_path / "feed", nodes, edges)
    fed = bundle / "edges" / "FED_BY.ndjson"
    [issue] = _load_refused(store, bundle)
    assert (issue.file, issue.line) == (str(fed), line_of(fed, '"ONT-5"'))
    assert "'SPL-DH-2A:1' already used by 'ONT-4' (FED_BY)" in issue.reason
