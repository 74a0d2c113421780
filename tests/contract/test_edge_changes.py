"""Deleting and re-pointing edges (`GraphStore.change_edges`, `GraphTx.repoint`) on both stores.

A household could not be re-homed: adding `FED_BY ONT-1 -> <another output>` was refused ("already
has FED_BY") and no edge could be deleted. A move is now one validated, locked, recorded change:
the model's rules hold after it, a taken port is refused naming its user, a missing edge or node
is NotFound, an invalid part refuses the whole request, riders must be acknowledged, and moving
back restores exactly the graph that was there.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pboss.inventory.edges import EdgeMove, EdgeNotFound
from pboss.inventory.errors import NotFound, PortInUse, ValidationFailed
from pboss.inventory.impact import Acknowledgement, ImpactNotAcknowledged
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import EDGE_RULES, KINDS
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx

#: ONT-1 (household H-1, two services) hangs off SPL-JZ-2A:1; SPL-JZ-2B:2 is free, on the other
#: 1:8 splitter; SPL-JZ-2A:2 feeds ONT-2.
REHOME = EdgeMove("FED_BY", "ONT-1", "SPL-JZ-2A:1", new_dst="SPL-JZ-2B:2")


def graph_of(store: GraphStore) -> dict[str, Any]:
    """Every node and edge with its stored properties (history apart): to compare graphs."""
    nodes = {p["id"]: p for kind in sorted(KINDS) for p in store.scan_nodes(kind)}
    edges = {(t, s, d): props for t in sorted(EDGE_RULES) for s, d, props in store.scan_edges(t)}
    return {"nodes": nodes, "edges": edges}


def state_of(store: GraphStore) -> tuple[dict[str, Any], int]:
    """The graph and how many history entries there are (a refused write changes neither)."""
    return graph_of(store), len(store.history(limit=100_000))


def feed_of(store: GraphStore, ont: str) -> list[str]:
    """The splitter outputs an ONT is fed by (exactly one, whatever happens)."""
    return [el.id for _, el in store.neighbours(ont, "out", ["FED_BY"])]


def test_rehoming_an_ont_moves_its_riders_and_trace(demo_store: GraphStore) -> None:
    assert demo_store.riders(["SPL-JZ-2B"]).totals.services == 2  # ONT-3's two
    result = demo_store.change_edges(
        moves=[REHOME], actor="eng:li", reason="cabinet moved", ack=Acknowledgement(riders=2)
    )
    [moved] = result.moved
    assert (moved.before.dst, moved.after.dst) == ("SPL-JZ-2A:1", "SPL-JZ-2B:2")
    assert feed_of(demo_store, "ONT-1") == ["SPL-JZ-2B:2"]
    on_b = {r.service.id for r in demo_store.riders(["SPL-JZ-2B"]).items}
    assert {"SVC-H1-BB", "SVC-H1-TV"} <= on_b and len(on_b) == 4
    on_a = {r.service.id for r in demo_store.riders(["SPL-JZ-2A"]).items}
    assert on_a == {"SVC-H2-BB"}
    hops = [h.element.id for h in demo_store.trace("SVC-H1-BB").hops]
    assert hops[:3] == ["ONT-1", "SPL-JZ-2B:2", "SPL-JZ-2B"] and "SPL-JZ-2A" not in hops
    # the old output is free again: another ONT may take it
    demo_store.change_edges(
        moves=[EdgeMove("FED_BY", "ONT-2", "SPL-JZ-2A:2", new_dst="SPL-JZ-2A:1")],
        actor="eng:li",
        reason="tidy",
    )
    assert feed_of(demo_store, "ONT-2") == ["SPL-JZ-2A:1"]


def test_a_move_onto_a_taken_output_is_port_in_use_naming_its_user(
    demo_store: GraphStore,
) -> None:
    before = state_of(demo_store)
    taken = EdgeMove("FED_BY", "ONT-1", "SPL-JZ-2A:1", new_dst="SPL-JZ-2A:2")
    with pytest.raises(PortInUse, match=r"'SPL-JZ-2A:2'.*already used by 'ONT-2'") as err:
        demo_store.change_edges(moves=[taken], actor="eng", reason="x")
    assert [i.item for i in err.value.issues] == ["SplitterPort 'SPL-JZ-2A:2'"]
    assert state_of(demo_store) == before


def test_a_missing_edge_or_node_is_not_found_and_nothing_is_written(
    demo_store: GraphStore,
) -> None:
    before = state_of(demo_store)
    with pytest.raises(EdgeNotFound, match=r"edge FED_BY\('ONT-1' -> 'SPL-JZ-2B:2'\) not found"):
        demo_store.change_edges([("FED_BY", "ONT-1", "SPL-JZ-2B:2")], actor="eng", reason="x")
    with pytest.raises(NotFound) as err:
        demo_store.change_edges(
            [("FED_BY", "ONT-1", "SPL-JZ-2A:1")],
            [EdgeMove("FED_BY", "ONT-2", "SPL-JZ-2A:2", new_dst="SPL-NOPE:1")],
            actor="eng",
            reason="x",
        )
    assert err.value.element_id == "SPL-NOPE:1" and not isinstance(err.value, EdgeNotFound)
    assert state_of(demo_store) == before


def test_a_request_with_one_invalid_move_writes_nothing(demo_store: GraphStore) -> None:
    before = state_of(demo_store)
    bad = EdgeMove("FED_BY", "ONT-2", "SPL-JZ-2A:2", new_dst="OLT-1/0/2")  # ONT onto a PON port
    with pytest.raises(ValidationFailed, match=r"FED_BY cannot join ONT -> PonPort"):
        demo_store.change_edges(moves=[REHOME, bad], actor="eng", reason="x")
    second = EdgeMove("FED_BY", "ONT-1", "SPL-JZ-2A:1", new_src="ONT-2")  # ONT-2 has a feed
    with pytest.raises(ValidationFailed, match=r"'ONT-2' already has FED_BY 'SPL-JZ-2A:2'"):
        demo_store.change_edges(moves=[second], actor="eng", reason="x")
    with pytest.raises(ValidationFailed, match="named twice"):
        demo_store.change_edges([REHOME.key], [REHOME], actor="eng", reason="x")
    assert state_of(demo_store) == before


def test_single_upstreams_and_ports_are_checked_after_the_whole_change(
    demo_store: GraphStore,
) -> None:
    """Swapping two ONTs between two outputs in one request is allowed: each output has one
    user once the change is made, though not in either order of two separate moves."""
    demo_store.change_edges(
        moves=[
            EdgeMove("FED_BY", "ONT-1", "SPL-JZ-2A:1", new_dst="SPL-JZ-2A:2"),
            EdgeMove("FED_BY", "ONT-2", "SPL-JZ-2A:2", new_dst="SPL-JZ-2A:1"),
        ],
        actor="eng",
        reason="swap",
    )
    assert (feed_of(demo_store, "ONT-1"), feed_of(demo_store, "ONT-2")) == (
        ["SPL-JZ-2A:2"],
        ["SPL-JZ-2A:1"],
    )


def test_a_moved_route_holds_free_slots_of_its_new_section(demo_store: GraphStore) -> None:
    """CIR-2 off TS-2 onto TS-1: slots 1-2 of TS-1 are CIR-1's (refused), 3-4 are free."""
    clash = EdgeMove("ROUTED_OVER", "CIR-2", "TS-2", new_dst="TS-1", slots=(1, 2, 3, 4))
    with pytest.raises(ValidationFailed, match=r"VC-12 slot 1 already held by 'CIR-1'"):
        demo_store.change_edges(moves=[clash], actor="eng", reason="x")
    free = EdgeMove("ROUTED_OVER", "CIR-2", "TS-2", new_dst="TS-1", slots=(3, 4, 5, 6))
    [moved] = demo_store.change_edges(moves=[free], actor="eng", reason="x").moved
    assert moved.after.slots == [3, 4, 5, 6] and moved.after.seq == 1
    assert sorted(demo_store.slot_use(["TS-1"])["TS-1"].routed) == [1, 2, 3, 4, 5, 6]


def test_history_shows_the_move_before_and_after_at_every_end(demo_store: GraphStore) -> None:
    result = demo_store.change_edges(moves=[REHOME], actor="eng:li", reason="cabinet moved")
    assert sorted(h.element_id for h in result.history) == ["ONT-1", "SPL-JZ-2A:1", "SPL-JZ-2B:2"]
    for end in ("ONT-1", "SPL-JZ-2A:1", "SPL-JZ-2B:2"):
        [entry] = [h for h in demo_store.history(end) if h.change == "edge_moved"]
        assert entry.before == {"src": "ONT-1", "dst": "SPL-JZ-2A:1"}
        assert entry.after == {"src": "ONT-1", "dst": "SPL-JZ-2B:2"}
        assert (entry.actor, entry.reason) == ("eng:li", "cabinet moved")
        assert entry.edge is not None and entry.edge.dst == "SPL-JZ-2B:2"
        assert entry.to_status == demo_store.get(end).status  # type: ignore[union-attr]
    demo_store.change_edges([("FED_BY", "ONT-1", "SPL-JZ-2B:2")], actor="eng", reason="cease")
    for end in ("ONT-1", "SPL-JZ-2B:2"):
        [entry] = [h for h in demo_store.history(end) if h.change == "edge_removed"]
        assert entry.before == {} and entry.after is None and entry.reason == "cease"
    assert feed_of(demo_store, "ONT-1") == []


def test_riders_must_be_acknowledged_and_a_stale_count_is_refused(
    demo_store: GraphStore,
) -> None:
    before = state_of(demo_store)
    with pytest.raises(ImpactNotAcknowledged) as err:
        demo_store.change_edges(moves=[REHOME], actor="eng", reason="x", ack=Acknowledgement())
    assert err.value.impact.totals.services == 2 and err.value.impact.resource_ids == ["ONT-1"]
    with pytest.raises(ImpactNotAcknowledged) as err:
        demo_store.change_edges(
            moves=[REHOME], actor="eng", reason="x", ack=Acknowledgement(riders=1)
        )
    assert err.value.stale
    cut = ("ROUTED_OVER", "CIR-1", "PL-1")  # a circuit's route: the circuit's one service
    with pytest.raises(ImpactNotAcknowledged) as err:
        demo_store.change_edges([cut], actor="eng", reason="x", ack=Acknowledgement(riders=2))
    assert err.value.impact.totals.services == 1
    assert state_of(demo_store) == before
    # a re-point of no failure edge (a service moved to another account) takes nothing down
    account = EdgeMove("FOR", "SVC-H1-TV", "H-1", new_dst="H-2")
    demo_store.change_edges(moves=[account], actor="eng", reason="x", ack=Acknowledgement())
    demo_store.change_edges(
        moves=[REHOME], actor="eng", reason="x", ack=Acknowledgement(accept=True)
    )
    assert feed_of(demo_store, "ONT-1") == ["SPL-JZ-2B:2"]


def test_repointing_back_restores_exactly_the_prior_graph(demo_store: GraphStore) -> None:
    before = graph_of(demo_store)
    moves = [
        REHOME,
        EdgeMove("FED_BY", "SPL-JZ-2B", "SPL-JZ-1:2", new_dst="SPL-JZ-1:3"),
        EdgeMove("A_END", "CIR-2", "NE-2/E1-1", new_dst="NE-1/E1-1"),
        EdgeMove("Z_END", "CIR-2", "NE-1/E1-1", new_dst="NE-2/E1-1"),
        EdgeMove("ROUTED_OVER", "CIR-2", "TS-2", new_dst="TS-1", slots=(3, 4, 5, 6)),
    ]
    done = demo_store.change_edges(moves=moves, actor="eng", reason="cutover")
    assert graph_of(demo_store) != before
    back = [m.back(d.before) for m, d in zip(moves, done.moved, strict=True)]
    demo_store.change_edges(moves=back, actor="eng", reason="rollback")
    assert graph_of(demo_store) == before


def test_a_transaction_repoints_an_edge_it_read(demo_store: GraphStore) -> None:
    def rehome(tx: GraphTx) -> None:
        tx.lock(["ONT-1", "SPL-JZ-2A:1", "SPL-JZ-2B:2"])
        [(edge, _)] = tx.linked("ONT-1", "FED_BY", "out")
        assert tx.repoint(edge, dst="SPL-JZ-2B:2").dst == "SPL-JZ-2B:2"

    demo_store.transact(rehome, actor="eng", reason="cutover step")
    assert feed_of(demo_store, "ONT-1") == ["SPL-JZ-2B:2"]
    moved = [h for h in demo_store.history("SPL-JZ-2A:1") if h.change == "edge_moved"]
    assert [(h.before, h.after) for h in moved] == [
        ({"src": "ONT-1", "dst": "SPL-JZ-2A:1"}, {"src": "ONT-1", "dst": "SPL-JZ-2B:2"})
    ]
    step = [h.change for h in demo_store.history("ONT-1") if h.reason == "cutover step"]
    assert step == ["edge_moved"]  # not a removal and an addition

    def onto_taken(tx: GraphTx) -> None:
        [(edge, _)] = tx.linked("ONT-1", "FED_BY", "out")
        tx.repoint(edge, dst="SPL-JZ-2A:2")

    before = state_of(demo_store)
    with pytest.raises(PortInUse, match="already used by 'ONT-2'"):
        demo_store.transact(onto_taken, actor="eng", reason="x")

    def stale(tx: GraphTx) -> None:  # an edge read elsewhere, gone since
        [(edge, _)] = tx.linked("ONT-3", "FED_BY", "out")
        tx.repoint(edge.model_copy(update={"dst": "SPL-JZ-2B:7"}), dst="SPL-JZ-2B:3")

    with pytest.raises(EdgeNotFound):
        demo_store.transact(stale, actor="eng", reason="x")

    def merging(tx: GraphTx) -> None:  # CIR-1 is routed over TS-2 already
        [edge] = [e for e, _ in tx.linked("CIR-1", "ROUTED_OVER", "out") if e.dst == "TS-1"]
        tx.repoint(edge, dst="TS-2")

    with pytest.raises(ValidationFailed, match="exists already"):
        demo_store.transact(merging, actor="eng", reason="x")
    assert state_of(demo_store) == before


def test_readers_never_see_a_repointed_ont_without_its_feed(demo_store: GraphStore) -> None:
    """Many re-points back and forth while readers look. The embedded store excludes readers
    during a change: they always see exactly one FED_BY. Neo4j commits the move atomically but
    reads at read-committed without a snapshot, so a read running across the commit may see the
    old edge gone before the new one is linked (neo4j/neo4j#12250): there the guarantee is that
    every read after the change returned sees exactly the new feed, and no read fails."""
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.append(len(feed_of(demo_store, "ONT-1")))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    after_each: list[tuple[list[str], str]] = []  # what a read just after showed, and the aim
    try:
        at = "SPL-JZ-2A:1"
        for i in range(30):
            to = "SPL-JZ-2B:2" if i % 2 == 0 else "SPL-JZ-2A:1"
            move = EdgeMove("FED_BY", "ONT-1", at, new_dst=to)
            demo_store.change_edges(moves=[move], actor="eng", reason=f"flip {i}")
            after_each.append((feed_of(demo_store, "ONT-1"), to))
            at = to
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert all(feed == [to] for feed, to in after_each)
    assert len(seen) > 30 and set(seen) <= {0, 1, 2}
    if isinstance(demo_store, MemoryStore):
        assert set(seen) == {1}


def _race(store: GraphStore, move: EdgeMove, start: threading.Barrier, outcomes: list[str]) -> None:
    """One racer: wait for the other, then move; say how it went."""
    start.wait()
    try:
        store.change_edges(moves=[move], actor="eng", reason="race")
        outcomes.append("moved")
    except PortInUse as exc:
        assert "already used by 'ONT-" in str(exc)
        outcomes.append("port in use")


def test_two_moves_onto_one_free_output_at_once_give_it_one_user(demo_store: GraphStore) -> None:
    """The output's lock orders two concurrent re-homes: one wins, the other is PortInUse
    naming the winner, read after the lock (Neo4j runs read-committed)."""
    for round_ in range(5):
        port = f"SPL-JZ-2B:{3 + round_}"
        moves = [
            EdgeMove("FED_BY", ont, feed_of(demo_store, ont)[0], new_dst=port)
            for ont in ("ONT-1", "ONT-2")
        ]
        outcomes: list[str] = []
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=_race, args=(demo_store, m, start, outcomes)) for m in moves
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["moved", "port in use"]
        users = [s for s, d, _ in demo_store.scan_edges("FED_BY") if d == port]
        assert len(users) == 1
        assert len(feed_of(demo_store, "ONT-1")) == len(feed_of(demo_store, "ONT-2")) == 1


@pytest.mark.neo4j
def test_an_edge_change_is_two_statements_on_neo4j(neo4j_store_session: Any) -> None:
    """One read under the locks (riders included) and one write, whatever the request holds."""
    from pboss.inventory.demo import demo_network

    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network())
    before = store.queries_run
    store.change_edges(
        [("ROUTED_OVER", "CIR-1", "PL-1")],
        [
            REHOME,
            EdgeMove("A_END", "CIR-2", "NE-2/E1-1", new_dst="NE-1/E1-1"),
            EdgeMove("Z_END", "CIR-2", "NE-1/E1-1", new_dst="NE-2/E1-1"),
        ],
        actor="eng",
        reason="x",
        ack=Acknowledgement(accept=True),
    )
    assert store.queries_run - before == 2
    store.clear()
