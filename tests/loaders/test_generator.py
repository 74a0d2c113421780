"""The generator: deterministic for a seed, sized per scale, and a network the model accepts with
the shapes the issue asks for (1:64 split, VC-12 slots within capacity, partners, faults)."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from pboss.inventory.catalog import default_catalog
from pboss.inventory.memory.store import MemoryStore
from pboss.loaders import load_paths
from pboss.loaders.generator import SCALES, generate


def _digest(bundle: Path) -> dict[str, str]:
    return {
        str(p.relative_to(bundle)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(bundle.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", "tiny", 7)
    generate(tmp_path / "b", "tiny", 7)
    generate(tmp_path / "c", "tiny", 8)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


@pytest.fixture(scope="module")
def tiny_store(tiny_bundle: Path) -> MemoryStore:
    store = MemoryStore()
    report = load_paths(store, [tiny_bundle])
    assert report.validation.ok
    return store


def test_tiny_is_about_a_thousand_nodes(tiny_store: MemoryStore) -> None:
    nodes = sum(v for k, v in tiny_store.counts().items() if not k.startswith("edge:"))
    assert 700 <= nodes <= 1500


def test_small_is_about_fifty_thousand_nodes(tmp_path: Path) -> None:
    summary = generate(tmp_path / "small", "small", 1)
    assert 40_000 <= summary.nodes <= 60_000
    assert set(SCALES) == {"tiny", "small", "medium", "large"}


def test_every_kind_the_metro_needs_is_there(tiny_store: MemoryStore) -> None:
    counts = tiny_store.counts()
    for kind in ("Region", "Site", "OLT", "PonPort", "Splitter", "SplitterPort", "ONT",
                 "Customer", "Service", "NE", "Port", "TrunkSection", "Circuit", "PartnerLink",
                 "PartnerAccess", "Partner"):  # fmt: skip
        assert counts.get(kind, 0) > 0, kind
    sites = Counter(p["site_type"] for p in tiny_store.scan_nodes("Site"))
    assert sites["exchange"] and sites["estate"] + sites["building"]
    assert all(p["households"] >= 0 for p in tiny_store.scan_nodes("Site"))


def test_two_stage_splitting_within_one_to_sixty_four(tiny_store: MemoryStore) -> None:
    splitters = {p["id"]: p for p in tiny_store.scan_nodes("Splitter")}
    pairs = set()
    for s in splitters.values():
        if s["stage"] == 1:
            children = [e for e, _ in tiny_store.neighbours(f"{s['id']}:1", "in", ["FED_BY"])]
            pairs.add((s["ratio"], splitters[children[0].src]["ratio"]))
    assert pairs <= {(4, 16), (8, 8)} and pairs
    onts_per_pon: Counter[str] = Counter()
    for ont in tiny_store.scan_nodes("ONT"):
        trace = tiny_store.trace(ont["id"])
        pon = next(h.element.id for h in trace.hops if h.element.kind == "PonPort")
        onts_per_pon[pon] += 1
    assert onts_per_pon and max(onts_per_pon.values()) <= 64


def test_circuits_hold_distinct_slots_within_capacity(tiny_store: MemoryStore) -> None:
    capacity = {p["id"]: p["capacity_vc12"] for k in ("TrunkSection", "PartnerLink")
                for p in tiny_store.scan_nodes(k)}  # fmt: skip
    held: dict[str, list[int]] = defaultdict(list)
    seqs: dict[str, list[int]] = defaultdict(list)
    bandwidth = {p["id"]: p["bandwidth_2m"] for p in tiny_store.scan_nodes("Circuit")}
    for src, dst, props in tiny_store.scan_edges("ROUTED_OVER"):
        assert len(props["slots"]) == bandwidth[src]
        held[dst] += props["slots"]
        seqs[src].append(props["seq"])
    for section, slots in held.items():
        assert len(slots) == len(set(slots)) and max(slots) <= capacity[section]
    assert all(sorted(s) == list(range(1, len(s) + 1)) for s in seqs.values())
    assert {s for p in tiny_store.scan_nodes("TrunkSection") for s in [p["spec"]]} >= {
        "TRUNK-STM1", "TRUNK-STM4", "TRUNK-STM16",
    }  # fmt: skip


def test_partners_products_and_faults(tiny_store: MemoryStore) -> None:
    assert {p["owner"] for p in tiny_store.scan_nodes("PartnerLink")} == {"P-TT"}
    assert {p["owner"] for p in tiny_store.scan_nodes("PartnerAccess")} == {"P-OC"}
    products = Counter(p["product"] for p in tiny_store.scan_nodes("Service"))
    assert set(products) <= set(default_catalog().products)
    assert {"FTTH-100M", "IPTV", "MSTP-LL", "CABLE-BB"} <= set(products)
    customers = Counter(
        (p["customer_type"], p["sla_tier"]) for p in tiny_store.scan_nodes("Customer")
    )
    assert any(t == "enterprise" for t, _ in customers) and any(
        t == "household" for t, _ in customers
    )
    statuses = Counter(
        p["status"] for k in ("PonPort", "SplitterPort", "ONT", "TrunkSection")
        for p in tiny_store.scan_nodes(k)
    )  # fmt: skip
    assert statuses["faulty"] >= 1
