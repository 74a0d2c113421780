"""Pass 1's index keeps its newest entries in memory and the rest on disk (pboss.loaders.spill),
and a load reads the same answers either way."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from pboss.inventory.memory.store import MemoryStore
from pboss.loaders import LoadOptions, load_paths, loader, spill
from pboss.loaders.issues import LoadError
from pboss.loaders.spill import SpillMap
from tests.loaders.conftest import BundleMaker


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make temporary files go to a directory of this test's, to see them come and go."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def _untimed(rendered: str) -> list[str]:
    """A load report's lines but its timings."""
    return [line for line in rendered.splitlines() if not line.startswith("time:")]


def _fill(m: SpillMap[str, str], n: int) -> None:
    for i in range(n):
        m.recent[f"id-{i}"] = f"tag-{i % 3}"
        m.settle()


def test_entries_beyond_two_generations_live_on_disk_and_read_back(private_tmp: Path) -> None:
    m: SpillMap[str, str] = SpillMap("TEXT", "TEXT", spill_at=4)
    _fill(m, 20)
    assert m.spilled
    assert len(m.recent) + len(m.older) <= 8  # the memory part stays bounded
    assert [m.get(f"id-{i}") for i in range(20)] == [f"tag-{i % 3}" for i in range(20)]
    assert m.get("id-20") is None and "id-20" not in m and "id-0" in m
    assert m.present([f"id-{i}" for i in range(0, 25, 5)]) == {"id-0", "id-5", "id-10", "id-15"}
    m.prefetch(["id-1", "id-2", "id-99"])  # the hot loop reads the window after a prefetch
    m.wait()
    assert m.window == {"id-1": "tag-1", "id-2": "tag-2"}
    assert m.get("id-99") is None
    m.close()
    assert list(private_tmp.iterdir()) == []


def test_integer_keys_and_values_keep_64_bits(private_tmp: Path) -> None:
    m: SpillMap[int, int] = SpillMap("INTEGER", "INTEGER", spill_at=2)
    pairs = {hash(("FED_BY", f"ONT-{i}")): hash(f"SPL-{i}") for i in range(9)}
    pairs[-(2**63)] = 2**63 - 1
    for k, v in pairs.items():
        m.recent[k] = v
        m.settle()
    m.prefetch(pairs)
    m.wait()
    assert {k: m.get(k) for k in pairs} == pairs
    m.close()


def test_a_small_map_never_touches_the_disk(private_tmp: Path) -> None:
    m: SpillMap[str, str] = SpillMap("TEXT", "TEXT", spill_at=100)
    _fill(m, 99)
    m.prefetch(["id-1", "nope"])
    assert not m.spilled and m.get("id-1") == "tag-1" and m.get("nope") is None
    assert list(private_tmp.iterdir()) == []


def test_a_load_with_its_index_on_disk_writes_the_same_graph(
    tiny_bundle: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = MemoryStore()
    expected = load_paths(in_memory, [tiny_bundle]).render()

    written: list[int] = []
    original = SpillMap._write

    def counting_write(self: SpillMap, generation: dict) -> None:  # type: ignore[type-arg]
        written.append(len(generation))
        original(self, generation)

    monkeypatch.setattr(SpillMap, "_write", counting_write)
    monkeypatch.setattr(spill, "SPILL_AT", 50)
    monkeypatch.setattr(loader, "CHUNK", 7)
    on_disk = MemoryStore()
    report = load_paths(on_disk, [tiny_bundle], LoadOptions())
    assert len(written) > 10  # many generations went to disk
    assert _untimed(report.render()) == _untimed(expected)
    assert on_disk.counts() == in_memory.counts()
    assert list(private_tmp.iterdir()) == []  # the index files went with the load


def test_a_full_disk_stops_the_load_with_a_clear_error_and_writes_nothing(
    tiny_bundle: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: SpillMap, generation: dict) -> None:  # type: ignore[type-arg]
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SpillMap, "_write", full)
    monkeypatch.setattr(spill, "SPILL_AT", 50)
    store = MemoryStore()
    with pytest.raises(
        LoadError,
        match=r"validation index on disk \(.*pboss-index-.*\): "
        r"database or disk is full; free some space",
    ):
        load_paths(store, [tiny_bundle])
    assert store.counts() == {}
    assert list(private_tmp.iterdir()) == []


def test_an_unreadable_row_with_a_lone_surrogate_id_is_rejected_not_a_crash(
    make_bundle: BundleMaker, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cut-short row's salvaged id may hold a lone surrogate escape; asking the index on disk
    about it must not fail to encode it (no row can define such an id: the reader refuses it)."""
    bundle = make_bundle()
    ports = bundle / "nodes" / "SplitterPort.ndjson"
    lines = ports.read_text(encoding="utf-8").splitlines()
    lines[10] = '{"id":"SP-X\\ud800","kind":"SplitterPort"'
    ports.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(spill, "SPILL_AT", 2)
    monkeypatch.setattr(loader, "CHUNK", 3)
    opts = LoadOptions(skip_invalid=True, rejects=private_tmp.parent / "rejects.ndjson")
    report = load_paths(MemoryStore(), [bundle], opts)
    assert any("no low surrogate" in reason for reason in report.validation.bad.values())
    assert list(private_tmp.iterdir()) == []


def test_a_write_to_disk_that_fails_late_still_stops_the_load(
    tiny_bundle: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generation's write that fails after the next one was queued (a slow full disk) must not
    be forgotten: the drift report would read an index missing entries, and the load go on."""
    store = MemoryStore()
    load_paths(store, [tiny_bundle])  # a re-load: the feed's edge digests are kept (and spilled)
    counts = store.counts()
    original = SpillMap._write

    def slow_full(self: SpillMap, generation: dict) -> None:  # type: ignore[type-arg]
        if self._key_type == "INTEGER" and set(generation.values()) == {1}:  # edge digests
            time.sleep(0.05)
            raise sqlite3.OperationalError("database or disk is full")
        original(self, generation)

    monkeypatch.setattr(SpillMap, "_write", slow_full)
    monkeypatch.setattr(spill, "SPILL_AT", 50)
    with pytest.raises(LoadError, match="database or disk is full"):
        load_paths(store, [tiny_bundle], LoadOptions(prune=True))
    assert store.counts() == counts
    assert list(private_tmp.iterdir()) == []
