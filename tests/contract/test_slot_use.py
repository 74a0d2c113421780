"""`slot_use`: the VC-12 slots circuits carry and holds keep on trunk sections and partner links,
for many links in one call, equal on both stores and to what path computation counts."""

from __future__ import annotations

from pboss.inventory.store import GraphStore
from pboss.provisioning.service import ProvisioningService
from tests.provisioning.conftest import add, add_ports, leased


def test_slot_use_splits_circuits_from_holds_for_many_links_at_once(
    demo_store: GraphStore,
) -> None:
    for ne, site in (("NE-A", "CP-XX"), ("NE-1", "EX-1")):
        add_ports(demo_store, ne, site, "PORT-GE", 2, "GE")
    svc = ProvisioningService(demo_store)
    hold = svc.reserve(svc.submit_order(leased("U1", z="EX-1", n=3)).id)
    assert "TS-1" in hold.resources

    use = demo_store.slot_use(["TS-1", "TS-2", "PL-1", "NE-1", "NOPE", "TS-1"])

    assert sorted(use) == ["PL-1", "TS-1", "TS-2"]  # other kinds and unknown ids are absent
    ts1 = use["TS-1"]
    assert (ts1.capacity, ts1.routed, ts1.held) == (63, [1, 2], [3, 4, 5])
    assert (ts1.taken, ts1.free) == (5, 58)
    assert (use["TS-2"].capacity, use["TS-2"].routed, use["TS-2"].held) == (
        252, [1, 2, 3, 4, 5, 6], []
    )  # fmt: skip
    assert (use["PL-1"].routed, use["PL-1"].held) == ([10, 11], [])
    assert demo_store.slot_use([]) == {}
    for link in demo_store.transport_links():  # what path computation counts as taken
        got = use[link.link.id]
        assert sorted(got.routed + got.held) == link.used_slots
        assert got.free == len(link.free_slots)


def test_slot_use_of_a_link_nobody_uses_is_all_free(store: GraphStore) -> None:
    add(store, [{"kind": "TrunkSection", "id": "TS-9", "spec": "TRUNK-STM1"}], [])
    [(lid, use)] = store.slot_use(["TS-9"]).items()
    assert (lid, use.capacity, use.routed, use.held, use.free) == ("TS-9", 63, [], [], 63)
