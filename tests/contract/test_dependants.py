"""`GraphStore.dependants`: the tree of what depends on some resources, identical on every store
(each dependant once, under the smallest id among its nearest parents), worked out by hand from
the reference network (pboss/inventory/demo.py)."""

from __future__ import annotations

from pboss.inventory.dependants import Dependant
from pboss.inventory.store import GraphStore


def _tree(store: GraphStore, *ids: str) -> dict[str, tuple[str, int]]:
    return {d.id: (d.parent, d.depth) for d in store.dependants(list(ids))}


def test_an_ne_s_circuits_hang_once_from_their_nearest_parent(demo_store: GraphStore) -> None:
    assert _tree(demo_store, "NE-1") == {
        "NE-1/E1-1": ("NE-1", 1),
        "NE-1/STM1-1": ("NE-1", 1),
        "NE-1/STM4-1": ("NE-1", 1),
        "CIR-2": ("NE-1/E1-1", 2),  # its Z-end, nearer than TS-2 it is routed over
        "TS-1": ("NE-1/STM1-1", 2),
        "TS-2": ("NE-1/STM4-1", 2),
        "CIR-1": ("TS-1", 3),  # routed over TS-1 and TS-2: the smaller id
        "SVC-E2-LL": ("CIR-2", 3),
        "SVC-E1-LL": ("CIR-1", 4),
    }


def test_an_olt_s_tree_down_to_its_services(demo_store: GraphStore) -> None:
    tree = _tree(demo_store, "OLT-1")
    assert tree["OLT-1/0/1"] == ("OLT-1", 1)
    assert tree["OLT-1/0/2"] == ("OLT-1", 1)  # idle branches are dependants too
    assert tree["SPL-JZ-1"] == ("OLT-1/0/1", 2)
    assert tree["SPL-JZ-2A"] == ("SPL-JZ-1:1", 4)
    assert tree["ONT-2"] == ("SPL-JZ-2A:2", 6)
    assert tree["SVC-H1-TV"] == ("ONT-1", 7)
    assert sorted(i for i in tree if i.startswith("SVC-")) == [
        "SVC-H1-BB",
        "SVC-H1-TV",
        "SVC-H2-BB",
        "SVC-H3-BB",
        "SVC-H3-VO",
    ]
    # 2 PON ports, a splitter of 4 outputs, two splitters of 8, 3 ONTs, 5 services
    assert len(tree) == 2 + 1 + 4 + 2 + 16 + 3 + 5
    rows = demo_store.dependants(["OLT-1"])
    assert [(d.depth, d.parent, d.id) for d in rows] == sorted(
        (d.depth, d.parent, d.id) for d in rows
    )


def test_rows_carry_what_a_picture_shows(demo_store: GraphStore) -> None:
    rows = {d.id: d for d in demo_store.dependants(["NE-2"])}
    assert rows["PL-1"] == Dependant(
        "PL-1", "PartnerLink", "铁通 NE-2—NE-Z", "available", "P-TT", "NE-2", 1
    )
    assert rows["SVC-E1-LL"].kind == "Service"
    assert rows["SVC-E1-LL"].status == "in_use"
    assert rows["SVC-E1-LL"].owner == "self"


def test_a_set_of_resources_and_unknown_ids(demo_store: GraphStore) -> None:
    tree = _tree(demo_store, "OLT-1", "OLT-1/0/1")
    assert "OLT-1/0/1" not in tree  # a resource asked about is no dependant
    assert tree["SPL-JZ-1"] == ("OLT-1/0/1", 1)
    assert tree["OLT-1/0/2"] == ("OLT-1", 1)
    both = _tree(demo_store, "TS-2", "PL-1")
    assert both["CIR-1"] == ("PL-1", 1)  # nearest to both: the smaller id
    assert both["CIR-2"] == ("TS-2", 1)
    assert _tree(demo_store, "NOPE-1") == {}
    assert _tree(demo_store, "NOPE-1", "OLT-2") == _tree(demo_store, "OLT-2")
    assert _tree(demo_store, "OLT-1/0/2") == {}
