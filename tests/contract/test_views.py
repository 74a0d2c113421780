"""The availability inputs: what is free at a site, and the transport links path finding uses."""

from __future__ import annotations

import pytest

from pboss.inventory.errors import NotFound
from pboss.inventory.store import GraphStore


def test_site_view_lists_free_splitter_ports_with_chain_and_load(demo_store: GraphStore) -> None:
    view = demo_store.site_view("B-JZ")
    by_id = {s.splitter.id: s for s in view.splitters}
    assert sorted(by_id) == ["SPL-JZ-1", "SPL-JZ-2A", "SPL-JZ-2B"]
    two_a = by_id["SPL-JZ-2A"]
    assert two_a.free_ports == [f"SPL-JZ-2A:{i}" for i in range(3, 9)]
    assert two_a.busy_ports == 2
    assert [e.id for e in two_a.upstream] == ["SPL-JZ-1:1", "SPL-JZ-1", "OLT-1/0/1", "OLT-1"]
    assert (two_a.pon_port, two_a.olt, two_a.pon_load, two_a.pon_budget) == (
        "OLT-1/0/1", "OLT-1", 3, 64
    )  # fmt: skip
    assert by_id["SPL-JZ-1"].free_ports == ["SPL-JZ-1:3", "SPL-JZ-1:4"]
    assert view.partner_access == [] and view.nes == []


def test_site_view_shows_partner_pools_and_ne_ports(demo_store: GraphStore) -> None:
    dh = demo_store.site_view("B-DH")
    assert [(p.id, p.owner, p.total, p.used) for p in dh.partner_access] == [  # type: ignore[attr-defined]
        ("PA-DH-OC", "P-OC", 100, 40)
    ]
    assert [n.id for n in dh.nes] == ["NE-Z"]
    ex2 = demo_store.site_view("EX-2")
    # PL-1 is handed over at NE-2 itself (partner links end on NEs, not on a port)
    assert [(p.port.id, p.ne, p.busy) for p in ex2.ports] == [
        ("NE-2/E1-1", "NE-2", True), ("NE-2/STM4-1", "NE-2", True)
    ]  # fmt: skip
    with pytest.raises(NotFound):
        demo_store.site_view("OLT-1")
    with pytest.raises(NotFound):
        demo_store.site_view("NOPE")


def test_a_faulty_olt_shows_in_the_site_view_chain(demo_store: GraphStore) -> None:
    demo_store.set_status("OLT-2", "faulty", actor="noc", reason="alarm")
    [spl] = [s for s in demo_store.site_view("B-DH").splitters if s.splitter.id == "SPL-DH-2A"]
    assert [e.status for e in spl.upstream if e.id == "OLT-2"] == ["faulty"]


def test_transport_links_with_end_nes_and_used_slots(demo_store: GraphStore) -> None:
    links = {t.link.id: t for t in demo_store.transport_links()}
    assert sorted(links) == ["PL-1", "TS-1", "TS-2"]
    assert (links["TS-1"].a_ne, links["TS-1"].z_ne) == ("NE-1", "NE-A")
    assert links["TS-2"].used_slots == [1, 2, 3, 4, 5, 6]
    assert links["TS-2"].free_slots[:3] == [7, 8, 9] and len(links["TS-2"].free_slots) == 246
    assert links["PL-1"].link.owner == "P-TT" and links["PL-1"].used_slots == [10, 11]
