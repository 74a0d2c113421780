"""Drift: what the store holds in the feed's scope that the feed no longer mentions; reported,
deleted only with --prune, and never what something else still depends on."""

from __future__ import annotations

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, load_paths
from tests.loaders.conftest import BundleMaker

#: every test twice: the validator's index in memory, and on disk (conftest)
pytestmark = pytest.mark.usefixtures("index_place")


def _without_h5_and_ont5(nodes: list[dict], edges: list[dict]) -> None:
    nodes[:] = [n for n in nodes if n["id"] not in ("H-5", "ONT-5")]
    edges[:] = [e for e in edges if "ONT-5" not in (e["src"], e["dst"]) and e["dst"] != "H-5"]


def test_drift_is_reported_and_pruned_only_when_asked(
    store: GraphStore, make_bundle: BundleMaker
) -> None:
    store.upsert(*demo_network())
    before = store.counts()
    bundle = make_bundle(_without_h5_and_ont5)
    report = load_paths(store, [bundle])
    drift = report.drift
    assert drift is not None
    assert drift.node_ids == {"Customer": ["H-5"], "ONT": ["ONT-5"]}
    assert dict(drift.edges_by_type) == {"USES": 1, "FOR": 1}
    assert "USES('SVC-E2-BB' -> 'ONT-5')" in drift.edge_examples
    assert store.counts() == before and report.result is not None and not report.result.changed

    pruned = load_paths(store, [bundle], LoadOptions(prune=True))
    assert pruned.pruned == ["H-5"]  # nothing depends on a customer through a failure edge
    assert pruned.prune_kept == ["ONT-5"]  # SVC-E2-BB still uses it
    assert store.get("H-5") is None and store.get("ONT-5") is not None


def test_scope_is_what_the_feed_covers(store: GraphStore, make_bundle: BundleMaker) -> None:
    store.upsert(*demo_network())

    def only_sites(nodes: list[dict], edges: list[dict]) -> None:
        nodes[:] = [n for n in nodes if n["kind"] == "Site" and n["id"] != "CP-XX"]
        edges.clear()

    report = load_paths(store, [make_bundle(only_sites)])
    assert report.drift is not None
    assert report.drift.node_ids == {"Site": ["CP-XX"]}  # not every other kind the feed lacks
    assert report.drift.edges == 0
