"""Review of the bulk load path: cases pass 1 must catch so that pass 2 never writes a row it
should have refused, nor fails half-way through a load."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, LoadRefused, load_paths
from tests.loaders.conftest import BundleMaker

#: every test twice: the validator's index in memory, and on disk (conftest)
pytestmark = pytest.mark.usefixtures("index_place")


def test_an_id_defined_twice_when_the_first_row_refers_forward(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    """The first B-DH waits for CP-XX (later in Site.ndjson); the second B-DH must still be a
    duplicate, not a second new node for the bulk path."""

    def change(nodes: list[dict], edges: list[dict]) -> None:
        i = next(i for i, r in enumerate(nodes) if r.get("id") == "B-DH")
        nodes[i]["site"] = "CP-XX"
        twin = {k: v for k, v in nodes[i].items() if k != "site"}
        twin["name"] = "twin"
        nodes.insert(i + 1, twin)

    bundle = make_bundle(change)
    with pytest.raises(LoadRefused) as info:
        load_paths(store, [bundle], LoadOptions(batch_size=1))
    assert any("already defined" in i.reason for i in info.value.issues), info.value.issues
    assert store.counts() == {}


def test_a_second_upstream_against_the_store(
    store: GraphStore, make_bundle: BundleMaker, tmp_path: Path
) -> None:
    """The store holds FED_BY ONT-1 -> SPL-JZ-2A:1; a feed moving ONT-1 to another port is
    refused in pass 1, before anything is written (upsert would refuse its batch in pass 2)."""
    load_paths(store, [make_bundle(name="first")])
    before = store.get("B-JZ")

    def change(nodes: list[dict], edges: list[dict]) -> None:
        next(r for r in nodes if r.get("id") == "B-JZ")["name"] = "renamed"
        next(e for e in edges if e["type"] == "FED_BY" and e["src"] == "ONT-1")["dst"] = (
            "SPL-JZ-2A:5"
        )

    with pytest.raises(LoadRefused) as info:
        load_paths(store, [make_bundle(change, name="again")], LoadOptions(batch_size=3))
    assert any("FED_BY" in i.reason for i in info.value.issues), info.value.issues
    assert store.get("B-JZ") == before


class _SlowFor:
    """A store whose `upsert` of one edge takes a while (a busy database)."""

    def __init__(self, store: GraphStore, key: tuple[str, str, str]):
        self._store, self._key = store, key

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def upsert(self, nodes, edges=(), **kw):  # type: ignore[no-untyped-def]
        if any(e.key == self._key for e in edges):
            time.sleep(0.5)
        return self._store.upsert(nodes, edges, **kw)


def test_slots_freed_by_an_earlier_row_are_taken_after_it(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    """CIR-1 moves from slots 5-6 of TS-2 to 7-8, and a later row gives 5-6 to the new CIR-3:
    valid in feed order, so pass 2 must not write CIR-3's route while CIR-1's is in flight."""
    load_paths(store, [make_bundle(name="first")])

    def change(nodes: list[dict], edges: list[dict]) -> None:
        cir2 = next(r for r in nodes if r.get("id") == "CIR-2")
        nodes.append({**cir2, "id": "CIR-3"})
        moved = next(e for e in edges if e.get("src") == "CIR-1" and e.get("dst") == "TS-2")
        moved["slots"] = [7, 8]
        edges.append(
            {"type": "ROUTED_OVER", "src": "CIR-3", "dst": "TS-2", "seq": 1, "slots": [5, 6]}
        )

    bundle = make_bundle(change, name="again")
    slow = _SlowFor(store, ("ROUTED_OVER", "CIR-1", "TS-2"))
    load_paths(slow, [bundle], LoadOptions(batch_size=1, workers=2))  # type: ignore[arg-type]
    held = {e.src: e.slots for e, _ in store.neighbours("TS-2", "in", ["ROUTED_OVER"])}
    assert held["CIR-1"] == [7, 8] and held["CIR-3"] == [5, 6]
