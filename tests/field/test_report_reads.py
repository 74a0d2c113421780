"""The reports' aggregate reads agree on both stores and with the graph they summarise."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import Edge
from pboss.inventory.reports import UTILISATION_KINDS
from pboss.inventory.store import GraphStore
from pboss.loaders import load_paths
from pboss.loaders.generator import generate


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "bundle"
    generate(out, "tiny", 1)
    return out


@pytest.fixture
def tiny_store(store: GraphStore, tiny: Path) -> GraphStore:
    load_paths(store, [tiny])
    return store


@pytest.fixture(scope="module")
def reference(tiny: Path) -> MemoryStore:
    ref = MemoryStore()
    load_paths(ref, [tiny])
    return ref


@pytest.mark.parametrize("kind", UTILISATION_KINDS)
def test_both_stores_report_the_same_utilisation(
    tiny_store: GraphStore, reference: MemoryStore, kind: str
) -> None:
    rows = tiny_store.utilisation(kind)
    assert rows, f"the tiny network has {kind}s"
    assert rows == reference.utilisation(kind)
    site = rows[0].site
    assert tiny_store.utilisation(kind, site) == [r for r in rows if r.site == site]


def test_utilisation_counts_what_is_in_the_graph(tiny_store: GraphStore) -> None:
    onts_in_service = sum(
        1 for src, _, _ in tiny_store.scan_edges("FED_BY") if src.startswith("ONT")
    )
    pons = tiny_store.utilisation("PonPort")
    olts = tiny_store.utilisation("OLT")
    assert sum(p.used for p in pons) == onts_in_service > 0
    assert sum(o.used for o in olts) == onts_in_service
    assert sum(o.capacity for o in olts) == sum(p.capacity for p in pons)
    for spl in tiny_store.utilisation("Splitter"):
        assert 0 <= spl.used + spl.held <= spl.capacity
    sections = tiny_store.utilisation("TrunkSection")
    assert any(s.used for s in sections) and all(s.used <= s.capacity for s in sections)


def test_a_hold_counts_as_held_not_used(demo_store: GraphStore) -> None:
    before = {r.id: r for r in demo_store.utilisation("Splitter")}
    spl = next(r for r in before.values() if r.capacity > r.used + r.held)
    ports = sorted(el.id for _, el in demo_store.neighbours(spl.id, "in", ["PART_OF"]))
    port = next(p for p in ports if not demo_store.neighbours(p, "in", ["FED_BY", "HOLDS"]))
    from pboss.provisioning.model import Reservation, Technology

    now = datetime.now(UTC)
    hold = Reservation(
        id="RES-T", order="ORD-T", technology=Technology.FTTH,
        valid_from=now, valid_until=now + timedelta(hours=1),
    )  # fmt: skip
    demo_store.upsert([hold], [Edge(type="HOLDS", src="RES-T", dst=port)], actor="t", reason="t")
    after = {r.id: r for r in demo_store.utilisation("Splitter")}
    assert after[spl.id].held == before[spl.id].held + 1
    assert after[spl.id].used == before[spl.id].used


def test_take_up_counts_connected_households(tiny_store: GraphStore) -> None:
    rows = tiny_store.take_up()
    assert rows and all(r.site_type in ("building", "estate") for r in rows)
    connected = Counter(
        tiny_store.get(src).site  # type: ignore[union-attr]
        for src, _, _ in tiny_store.scan_edges("FED_BY")
        if src.startswith("ONT")
    )
    assert {r.site: r.connected for r in rows if r.connected} == {
        s: n for s, n in connected.items() if n
    }


def test_records_in_a_window(store: GraphStore) -> None:
    from pboss.provisioning.model import WorkOrder

    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    orders = [
        WorkOrder(
            id=f"WO-{i}",
            order=f"O-{i}",
            reservation=f"R-{i}",
            assignee="crew:X",
            created_at=t0 + timedelta(days=i),
            due_at=t0 + timedelta(days=i, hours=48),
        )
        for i in range(5)
    ]
    store.upsert(orders, [], actor="t", reason="t")
    got = store.records(
        "WorkOrder",
        time_field="created_at",
        since=t0 + timedelta(days=1),
        until=t0 + timedelta(days=4),
    )
    assert [r["id"] for r in got] == ["WO-1", "WO-2", "WO-3"]
    with pytest.raises(ValueError, match="no time field"):
        store.records("WorkOrder", time_field="nope", since=t0, until=t0)
