"""`insert_new`, the bulk path of a validated load: it writes what `upsert` would, and refuses the
whole call when the store changed since validation (id taken, end gone, upstream taken)."""

from __future__ import annotations

import pytest

from pboss.inventory.errors import ValidationFailed
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.rows import EdgeRow
from pboss.inventory.store import GraphStore
from tests.contract.test_writes import edge, node, snapshot


def _ont(ont_id: str) -> dict:
    return node(kind="ONT", id=ont_id, site="B-JZ", serial=f"SN-{ont_id}").props()


def _fed_by(src: str, dst: str) -> EdgeRow:
    return EdgeRow("FED_BY", src, dst, {})


def test_writes_what_upsert_writes(demo_store: GraphStore) -> None:
    reference = MemoryStore()
    from pboss.inventory.demo import demo_network

    reference.upsert(*demo_network())
    new = [_ont("ONT-N1"), _ont("ONT-N2")]
    links = [_fed_by("ONT-N1", "SPL-JZ-2A:3"), _fed_by("ONT-N2", "SPL-JZ-2A:4")]
    result = demo_store.insert_new(new, links)
    assert (result.nodes_added, result.edges_added) == (2, 2)
    ref = reference.upsert(
        [node(**n) for n in new],
        [edge(type=e.type, src=e.src, dst=e.dst) for e in links],
    )
    assert (ref.nodes_added, ref.edges_added) == (2, 2)
    assert snapshot(demo_store) == snapshot(reference)
    assert [e.src for e, _ in demo_store.neighbours("SPL-JZ-2A:3", "in", ["FED_BY"])] == ["ONT-N1"]


def test_an_edge_given_again_is_updated_or_left_alone(demo_store: GraphStore) -> None:
    demo_store.insert_new([_ont("ONT-N1")], [_fed_by("ONT-N1", "SPL-JZ-2A:3")])
    same = demo_store.insert_new([], [_fed_by("ONT-N1", "SPL-JZ-2A:3")])
    assert (same.edges_added, same.edges_updated, same.edges_unchanged) == (0, 0, 1)
    changed = demo_store.insert_new([], [EdgeRow("FED_BY", "ONT-N1", "SPL-JZ-2A:3", {"x": 1})])
    assert (changed.edges_added, changed.edges_updated) == (0, 1)


def test_an_id_taken_since_validation_refuses_everything(demo_store: GraphStore) -> None:
    before = snapshot(demo_store)
    with pytest.raises(ValidationFailed, match="ONT-1"):
        demo_store.insert_new([_ont("ONT-N1"), _ont("ONT-1")], [_fed_by("ONT-N1", "SPL-JZ-2A:3")])
    assert snapshot(demo_store) == before


def test_an_end_gone_since_validation_refuses_everything(demo_store: GraphStore) -> None:
    before = snapshot(demo_store)
    with pytest.raises(ValidationFailed, match=r"missing node: dst 'SPL-GONE:1'") as info:
        demo_store.insert_new(
            [_ont("ONT-N1"), _ont("ONT-N2")],
            [_fed_by("ONT-N1", "SPL-JZ-2A:3"), _fed_by("ONT-N2", "SPL-GONE:1")],
        )
    assert [i.item for i in info.value.issues] == ["edge FED_BY('ONT-N2' -> 'SPL-GONE:1')"]
    assert snapshot(demo_store) == before


def test_an_upstream_taken_since_validation_refuses_everything(demo_store: GraphStore) -> None:
    demo_store.insert_new([_ont("ONT-N1")], [_fed_by("ONT-N1", "SPL-JZ-2A:3")])
    before = snapshot(demo_store)
    with pytest.raises(ValidationFailed, match=r"already has FED_BY 'SPL-JZ-2A:3'"):
        demo_store.insert_new([_ont("ONT-N2")], [_fed_by("ONT-N1", "SPL-JZ-2A:4")])
    assert snapshot(demo_store) == before


def test_an_id_given_twice_in_one_call_refuses_everything(demo_store: GraphStore) -> None:
    """Neo4j meets its uniqueness constraint; the memory store must not write the id twice."""
    before = snapshot(demo_store)
    with pytest.raises(ValidationFailed, match="ONT-N1"):
        demo_store.insert_new([_ont("ONT-N1"), _ont("ONT-N2"), _ont("ONT-N1")])
    assert snapshot(demo_store) == before


def test_two_upstreams_in_one_call_refuse_everything(demo_store: GraphStore) -> None:
    before = snapshot(demo_store)
    with pytest.raises(ValidationFailed, match="FED_BY"):
        demo_store.insert_new(
            [_ont("ONT-N1")], [_fed_by("ONT-N1", "SPL-JZ-2A:3"), _fed_by("ONT-N1", "SPL-JZ-2A:4")]
        )
    assert snapshot(demo_store) == before
