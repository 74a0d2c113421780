"""Generate tiny -> load -> export -> load into an empty store -> the same graph, on every store;
and loading the same files again changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.store import GraphStore
from pboss.loaders import LoadOptions, export_bundle, load_paths
from pboss.loaders.native import discover, read_records

#: every test twice: the validator's index in memory, and on disk (conftest)
pytestmark = pytest.mark.usefixtures("index_place")


def _rows(bundle: Path) -> dict[str, set[str]]:
    """Every file's lines as a set (exports are ordered, but compare content, not layout)."""
    out: dict[str, set[str]] = {}
    for f in discover([bundle]):
        out[f.path.name] = {r.text for r in read_records(0, f, "utf-8")}
    return out


def test_generated_network_round_trips(
    store: GraphStore, tiny_bundle: Path, tmp_path: Path
) -> None:
    first = load_paths(store, [tiny_bundle])
    generated = sum(first.validation.nodes_by_kind.values())
    assert first.result is not None and first.result.nodes_added == generated
    counts = store.counts()
    export_bundle(store, tmp_path / "a")

    store.clear()
    assert store.counts() == {}
    again = load_paths(store, [tmp_path / "a"])
    assert again.result is not None and again.result.nodes_added == generated
    assert store.counts() == counts
    export_bundle(store, tmp_path / "b")

    a, b = _rows(tmp_path / "a"), _rows(tmp_path / "b")
    assert a == b
    assert sum(len(v) for v in a.values()) == sum(counts.values())
    # the same graph as the embedded store makes of the generated files: stores agree
    reference = MemoryStore()
    load_paths(reference, [tiny_bundle])
    export_bundle(reference, tmp_path / "memory")
    assert _rows(tmp_path / "memory") == a


def test_loading_twice_reports_no_change(store: GraphStore, tiny_bundle: Path) -> None:
    load_paths(store, [tiny_bundle])
    counts = store.counts()
    report = load_paths(store, [tiny_bundle])
    r = report.result
    assert r is not None and not r.changed
    assert r.nodes_unchanged == sum(report.validation.nodes_by_kind.values())
    assert r.edges_unchanged == sum(report.validation.edges_by_type.values())
    assert store.counts() == counts
    assert report.drift is not None and report.drift.nodes == 0 and report.drift.edges == 0
    assert "no change" in report.render()


def test_dry_run_writes_nothing(store: GraphStore, tiny_bundle: Path) -> None:
    report = load_paths(store, [tiny_bundle], LoadOptions(dry_run=True))
    assert report.validation.ok and report.result is None
    assert store.counts() == {}
    assert "dry run" in report.render()


def test_small_batches_written_in_parallel_give_the_same_graph(
    store: GraphStore, tiny_bundle: Path, tmp_path: Path
) -> None:
    """Batches of 7 with 3 in flight (node batches overtaking each other, edges waiting for
    them) make exactly the graph one sequential writer makes."""
    reference = MemoryStore()
    load_paths(reference, [tiny_bundle], LoadOptions(workers=1))
    export_bundle(reference, tmp_path / "sequential")
    report = load_paths(store, [tiny_bundle], LoadOptions(batch_size=7, workers=3))
    assert report.result is not None
    assert report.result.nodes_added == sum(report.validation.nodes_by_kind.values())
    assert report.result.edges_added == sum(report.validation.edges_by_type.values())
    export_bundle(store, tmp_path / "parallel")
    assert _rows(tmp_path / "parallel") == _rows(tmp_path / "sequential")


def test_orders_and_holds_round_trip(demo_store: GraphStore, tmp_path: Path) -> None:
    """Provisioning's kinds (orders, reservations, HOLDS with slots) export and load back too."""
    from pboss.provisioning.service import OrderRequest, ProvisioningService

    svc = ProvisioningService(demo_store)
    order = svc.submit_order(
        OrderRequest(crm_order_id="CRM-1", product="FTTH-100M", customer="H-1", site="B-JZ")
    )
    svc.reserve(order.id)
    counts = demo_store.counts()
    assert counts.get("Reservation") == 1 and counts.get("edge:HOLDS")
    export_bundle(demo_store, tmp_path / "a")
    demo_store.clear()
    report = load_paths(demo_store, [tmp_path / "a"])
    assert report.validation.ok and demo_store.counts() == counts
    export_bundle(demo_store, tmp_path / "b")
    assert _rows(tmp_path / "a") == _rows(tmp_path / "b")
