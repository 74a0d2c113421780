"""Every change to an element or an edge is in its history: who, when, why, before and after.

History used to record status changes only: renaming an OLT or moving it to another site left no
trace. Upserts, transaction commits, status changes and deletes now enter each change (created,
fields changed, edges added, changed or removed at both ends, deleted) on both stores, and a
write that changes nothing enters nothing.
"""

from __future__ import annotations

from pboss.inventory.demo import demo_network
from pboss.inventory.model import Edge, parse_node
from pboss.inventory.results import ChangeRecord
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx


def _kinds(entries: list[ChangeRecord]) -> list[str]:
    return [e.change for e in entries]


def test_renaming_and_moving_an_olt_is_recorded_with_before_and_after(
    demo_store: GraphStore,
) -> None:
    before = len(demo_store.history("OLT-1", limit=1000))
    olt = demo_store.get("OLT-1")
    assert olt is not None
    moved = olt.model_copy(update={"name": "ZJ-OLT-01 (moved)", "site": "EX-2"})
    moved.attrs["rack"] = "R7"
    demo_store.upsert([moved], actor="eng:dora", reason="exchange consolidation")
    latest = demo_store.history("OLT-1")[0]
    assert (latest.change, latest.actor, latest.reason) == (
        "updated",
        "eng:dora",
        "exchange consolidation",
    )
    assert latest.before == {"name": olt.name, "site": "EX-1", "rack": None}
    assert latest.after == {"name": "ZJ-OLT-01 (moved)", "site": "EX-2", "rack": "R7"}
    assert (latest.from_status, latest.to_status) == ("available", "available")
    assert latest.edge is None and latest.at is not None

    demo_store.upsert([moved], actor="eng:dora", reason="again")  # unchanged: nothing entered
    nodes, edges = demo_network()
    demo_store.upsert([n for n in nodes if n.id != "OLT-1"], edges, actor="loader", reason="x")
    assert len(demo_store.history("OLT-1", limit=1000)) == before + 1
    assert demo_store.history(actor="loader") == []


def test_creating_linking_and_updating_edges_is_in_the_history_of_both_ends(
    store: GraphStore,
) -> None:
    site = parse_node({"kind": "Site", "id": "S-1", "name": "Exchange", "address": "1 Rd"})
    olt = parse_node({"kind": "OLT", "id": "OLT-9", "site": "S-1"})
    pon = parse_node({"kind": "PonPort", "id": "OLT-9/0/1", "site": "S-1"})
    store.upsert([site, olt, pon], actor="eng", reason="build")  # type: ignore[list-item]
    [created] = store.history("OLT-9")
    assert (created.change, created.from_status) == ("created", None)
    assert created.to_status == "available"
    assert created.before is None and created.after is not None
    assert created.after["site"] == "S-1" and "id" not in created.after

    part_of = Edge(type="PART_OF", src="OLT-9/0/1", dst="OLT-9")
    store.upsert([], [part_of], actor="eng", reason="cabling")
    at_olt, at_port = store.history("OLT-9")[0], store.history("OLT-9/0/1")[0]
    for entry in (at_olt, at_port):
        assert entry.change == "edge_added" and entry.reason == "cabling"
        assert entry.edge is not None
        assert (entry.edge.type, entry.edge.src, entry.edge.dst) == (
            "PART_OF",
            "OLT-9/0/1",
            "OLT-9",
        )
        assert entry.from_status == entry.to_status == "available"
    assert at_olt.element_id == "OLT-9" and at_port.element_id == "OLT-9/0/1"
    everything = store.history(actor="eng", limit=1000)
    assert sum(1 for e in everything if e.change == "edge_added") == 1  # listed once, at its src

    tagged = part_of.model_copy(update={"attrs": {"slot": 3}})
    store.upsert([], [tagged], actor="eng", reason="label")
    latest = store.history("OLT-9")[0]
    assert latest.change == "edge_updated"
    assert (latest.before, latest.after) == ({"slot": None}, {"slot": 3})


def test_a_transaction_records_what_it_links_unlinks_and_changes(demo_store: GraphStore) -> None:
    ont = parse_node({"kind": "ONT", "id": "ONT-NEW", "site": "B-JZ"})

    def connect(tx: GraphTx) -> None:
        [port] = tx.lock(["SPL-JZ-2B:5"]).values()
        tx.put(ont, new=True)  # type: ignore[arg-type]
        tx.put(port.model_copy(update={"status": "in_use"}))
        tx.link(Edge(type="FED_BY", src="ONT-NEW", dst="SPL-JZ-2B:5"))

    demo_store.transact(connect, actor="crew-7", reason="install")
    assert _kinds(demo_store.history("ONT-NEW")) == ["edge_added", "created"]
    port_entries = demo_store.history("SPL-JZ-2B:5")
    assert {e.change for e in port_entries[:2]} == {"edge_added", "status"}
    status = next(e for e in port_entries if e.change == "status")
    assert (status.before, status.after) == ({"status": "available"}, {"status": "in_use"})
    assert {e.actor for e in port_entries[:2]} == {"crew-7"}

    def disconnect(tx: GraphTx) -> None:
        tx.lock(["ONT-NEW", "SPL-JZ-2B:5"])
        tx.unlink("FED_BY", "ONT-NEW", "SPL-JZ-2B:5")
        tx.unlink("FED_BY", "ONT-NEW", "SPL-JZ-2B:6")  # no such edge: nothing to record

    demo_store.transact(disconnect, actor="crew-8", reason="move")
    removed = demo_store.history("SPL-JZ-2B:5")[0]
    assert (removed.change, removed.actor, removed.reason) == ("edge_removed", "crew-8", "move")
    assert removed.edge is not None and removed.edge.src == "ONT-NEW"
    assert demo_store.history("SPL-JZ-2B:6") == [
        e for e in demo_store.history("SPL-JZ-2B:6") if e.change != "edge_removed"
    ]

    def nothing(tx: GraphTx) -> None:
        [port] = tx.lock(["SPL-JZ-2B:5"]).values()
        tx.put(port)

    count = len(demo_store.history("SPL-JZ-2B:5", limit=1000))
    demo_store.transact(nothing, actor="crew-8", reason="noop")
    assert len(demo_store.history("SPL-JZ-2B:5", limit=1000)) == count


def test_a_delete_records_what_went_and_the_edges_cut_at_what_stays(
    demo_store: GraphStore,
) -> None:
    doomed = demo_store.delete(["ONT-3"], cascade=True, actor="eng:carol")
    assert doomed == ["ONT-3", "SVC-H3-BB", "SVC-H3-VO"]
    gone = demo_store.history("ONT-3")[0]
    assert (gone.change, gone.to_status, gone.reason) == ("deleted", "deleted", "delete")
    assert gone.before is not None and gone.before["serial"] == "HWTCONT-3"
    svc = demo_store.history("SVC-H3-VO")[0]
    assert (svc.change, svc.reason) == ("deleted", "cascade delete")
    # the splitter port and the customer stay: each shows its edge to what went
    [cut] = [e for e in demo_store.history("SPL-JZ-2B:1") if e.change == "edge_removed"]
    assert cut.edge is not None and (cut.edge.type, cut.edge.src) == ("FED_BY", "ONT-3")
    assert cut.from_status == cut.to_status == "available"
    customer = [e for e in demo_store.history("H-3") if e.change == "edge_removed"]
    assert sorted(e.edge.src for e in customer if e.edge) == ["SVC-H3-BB", "SVC-H3-VO"]
    assert all(e.actor == "eng:carol" for e in customer)
