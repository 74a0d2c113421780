"""The protocol's whole-store scans: ordered, flat, streamed, and only over the model's names."""

from __future__ import annotations

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.store import GraphStore


def test_scans_return_what_was_written_in_order(demo_store: GraphStore) -> None:
    nodes, edges = demo_network()
    ports = sorted((n for n in nodes if n.kind == "SplitterPort"), key=lambda n: n.id)
    scanned = list(demo_store.scan_nodes("SplitterPort"))
    assert scanned == [n.props() for n in ports]
    assert not any(k.startswith("_") for p in scanned for k in p)

    assert list(demo_store.scan_ids("SplitterPort", "self")) == [n.id for n in ports]
    assert list(demo_store.scan_ids("SplitterPort", "P-nobody")) == []

    fed = sorted((e.src, e.dst, e.props()) for e in edges if e.type == "FED_BY")
    assert list(demo_store.scan_edges("FED_BY")) == fed
    bare = list(demo_store.scan_edges("FED_BY", ordered=False, props=False))
    assert sorted(bare) == [(s, d, {}) for s, d, _ in fed]
    routed = [e for e in edges if e.type == "ROUTED_OVER"]
    assert {(s, d): p for s, d, p in demo_store.scan_edges("ROUTED_OVER")} == {
        (e.src, e.dst): e.props() for e in routed
    }


def test_scans_refuse_names_the_model_does_not_know(store: GraphStore) -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        list(store.scan_nodes("Nope) DETACH DELETE (n"))
    with pytest.raises(ValueError, match="unknown kind"):
        list(store.scan_ids("Nope", "self"))
    with pytest.raises(ValueError, match="unknown edge type"):
        list(store.scan_edges("KNOWS"))
    assert list(store.scan_nodes("Order")) == []  # a known kind with no node yet
