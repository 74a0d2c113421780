"""A load that fails after writing has begun leaves the store as it was (issue 16, item 3).

The failure is injected in the last batch (the database going away, say), after earlier batches
created nodes and edges, changed stored nodes (a status the lifecycle would not let back, names,
attributes), changed a stored edge's properties and left history. Afterwards every node, edge and
history record is as before, on both stores, with one writer and with two.
"""

from __future__ import annotations

from typing import Any

import pytest

from pboss.inventory.model import EDGE_RULES, KINDS
from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, load_paths
from pboss.loaders.issues import LoadError
from tests.loaders.conftest import BundleMaker

EdgeKey = tuple[str, str, str]


class _FailsOn:
    """A store whose write holding the edge `key` fails as a lost database would."""

    def __init__(self, store: GraphStore, key: EdgeKey):
        self._store, self._key = store, key
        self.writes = 0
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _check(self, keys: list[EdgeKey]) -> None:
        if self._key in keys:
            self.failed = True
            raise RuntimeError("injected: the database went away")
        self.writes += 1

    def insert_new(self, nodes: Any, edges: Any = ()) -> Any:
        self._check([(e.type, e.src, e.dst) for e in edges])
        return self._store.insert_new(nodes, edges)

    def upsert(self, nodes: Any, edges: Any = (), **kw: Any) -> Any:
        self._check([e.key for e in edges])
        return self._store.upsert(nodes, edges, **kw)


def _state(store: GraphStore) -> tuple[Any, ...]:
    """Everything a load may touch: nodes, edges (with properties), history, counts."""
    nodes = {k: list(store.scan_nodes(k)) for k in sorted(KINDS)}
    edges = {t: list(store.scan_edges(t)) for t in EDGE_RULES}
    history = sorted(
        (c.element_id, c.from_status or "", c.to_status, c.actor, c.reason)
        for c in store.history(limit=100_000)
    )
    ends = ("OLT-1", "OLT-1/0/1", "B-DH", "B-JZ", "H-1", "ONT-1")  # entries at edges' far ends too
    each = {i: [(c.change, c.actor, c.reason) for c in store.history(i, limit=1000)] for i in ends}
    return nodes, edges, history, each, store.counts()


def _node(nodes: list[dict], node_id: str) -> dict:
    return next(n for n in nodes if n["id"] == node_id)


def _edge(edges: list[dict], etype: str, src: str, dst: str) -> dict:
    return next(e for e in edges if (e["type"], e["src"], e["dst"]) == (etype, src, dst))


def _a_load_that_changes_much(last: EdgeKey) -> Any:
    """Demo rows changed and added to, with the FOR edge `last` the load's very last row."""

    def change(nodes: list[dict], edges: list[dict]) -> None:
        _node(nodes, "B-DH")["name"] = "都华名苑 (renamed)"
        _node(nodes, "B-DH")["zone"] = "east"  # a new attribute
        _node(nodes, "H-1")["phone"] = "13900000000"
        _node(nodes, "ONT-1")["status"] = "faulty"  # faulty -> in_use is no lifecycle step
        _edge(edges, "PART_OF", "OLT-1/0/1", "OLT-1")["note"] = "re-patched"  # edge attribute
        nodes += [
            {"kind": "Customer", "id": f"C-NEW-{i}", "name": f"New {i}", "site": "B-JZ"}
            for i in range(25)
        ]
        nodes.append({"kind": "ONT", "id": "ONT-9", "site": "B-JZ", "spec": "ONT-HGU"})
        nodes.append({"kind": "Service", "id": "SVC-NEW", "product": "FTTH-100M"})
        edges += [
            {"type": "FED_BY", "src": "ONT-9", "dst": "SPL-JZ-2A:5"},
            {"type": "USES", "src": "SVC-NEW", "dst": "ONT-9"},
            {"type": "USES", "src": "SVC-H3-VO", "dst": "ONT-9"},  # a stored node, a new edge
            {"type": "USES", "src": "SVC-H3-VO", "dst": "ONT-1"},  # both stored, a new edge
            {"type": "FOR", "src": "SVC-NEW", "dst": "H-1"},
        ]
        edges.append(edges.pop(edges.index(_edge(edges, *last))))  # the last row of the load

    return change


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(
    "last",
    [("FOR", "SVC-NEW", "H-1"), ("FOR", "SVC-H1-BB", "H-1")],
    ids=["fails in the bulk part", "fails in the upsert part"],
)
def test_a_failure_in_the_last_batch_leaves_the_store_as_it_was(
    demo_store: GraphStore, make_bundle: BundleMaker, workers: int, last: EdgeKey
) -> None:
    bundle = make_bundle(_a_load_that_changes_much(last))
    before = _state(demo_store)
    failing = _FailsOn(demo_store, last)
    with pytest.raises(LoadError) as info:
        load_paths(failing, [bundle], LoadOptions(batch_size=7, workers=workers))  # type: ignore[arg-type]
    assert failing.failed and failing.writes >= 5  # the failure came after writing had begun
    assert "injected: the database went away" in str(info.value)
    assert "undone: the store is as it was" in str(info.value)
    assert _state(demo_store) == before

    # the same load without the failure writes it all (so the rollback above undid real writes)
    load_paths(demo_store, [bundle], LoadOptions(batch_size=7, workers=workers))
    assert demo_store.get("ONT-1").status == "faulty"  # type: ignore[union-attr]
    assert demo_store.get("B-DH").attrs == {"zone": "east"}  # type: ignore[union-attr]
    assert demo_store.get("C-NEW-24") is not None
    after = _state(demo_store)
    assert after != before and after[-1]["Customer"] == before[-1]["Customer"] + 25


def test_an_interrupt_while_writing_undoes_what_was_written(
    demo_store: GraphStore, make_bundle: BundleMaker
) -> None:
    last = ("FOR", "SVC-NEW", "H-1")
    bundle = make_bundle(_a_load_that_changes_much(last))
    before = _state(demo_store)

    class _Interrupted(_FailsOn):
        def _check(self, keys: list[EdgeKey]) -> None:
            if self._key in keys:
                raise KeyboardInterrupt
            self.writes += 1

    interrupted = _Interrupted(demo_store, last)
    with pytest.raises(KeyboardInterrupt):
        load_paths(interrupted, [bundle], LoadOptions(batch_size=7, workers=1))  # type: ignore[arg-type]
    assert interrupted.writes >= 5
    assert _state(demo_store) == before
