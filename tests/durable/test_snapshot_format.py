"""The embedded store's snapshot (memory/snapshot.py): plain values that name no class, read
without validating an element again, refused when damaged or of an older format, read by name
when a kind's fields changed, and holding kept riders answers that a journaled write drops."""

from __future__ import annotations

from pathlib import Path

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.memory import snapshot as codec
from pboss.inventory.memory.durable import OLD_SNAPSHOT, SNAPSHOT, TRANSIENT, DataDirError
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import KINDS, Site, from_props
from tests.durable.conftest import state_of


def _network(path: Path) -> MemoryStore:
    store = MemoryStore(data_dir=path)
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    return store


def _compact(store: MemoryStore) -> None:
    assert store.durable is not None
    with store.lock:
        store.durable.compact()


def _crash(store: MemoryStore) -> None:
    assert store.durable is not None
    store.durable.close(compact=False)


def test_the_snapshot_is_plain_values_read_without_validating_elements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _network(tmp_path)
    store.close()
    data = (tmp_path / SNAPSHOT).read_bytes()
    assert data.startswith(codec.MAGIC)  # not a pickle (b"\x80..."): nothing in it runs code
    assert b"pydantic" not in data and b"networkx" not in data  # no class is named

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an element was validated again on start-up")

    for cls in KINDS.values():
        monkeypatch.setattr(cls, "model_validate", refuse)
    again = MemoryStore(data_dir=tmp_path)
    assert again.get("OLT-1").kind == "OLT"  # type: ignore[union-attr]


def test_a_damaged_snapshot_refuses_to_start(tmp_path: Path) -> None:
    _network(tmp_path).close()
    path = tmp_path / SNAPSHOT
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataDirError, match="damaged"):
        MemoryStore(data_dir=tmp_path)


def test_a_snapshot_of_the_pickle_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / OLD_SNAPSHOT).write_bytes(b"\x80\x05N.")  # never unpickled
    with pytest.raises(DataDirError, match="pboss export"):
        MemoryStore(data_dir=tmp_path)


def test_every_attribute_of_the_store_is_in_the_snapshot_or_transient(tmp_path: Path) -> None:
    """A new MemoryStore attribute must be given a section, or a restart would lose it."""
    assert set(vars(MemoryStore())) - TRANSIENT == codec.STATE
    store = _network(tmp_path)
    store.new_index = {}  # type: ignore[attr-defined]
    with pytest.raises(codec.SnapshotError, match="new_index"), (tmp_path / "x").open("wb") as f:
        codec.write(f, store, 0)


def test_a_kind_whose_fields_changed_is_read_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore(data_dir=tmp_path)
    store.upsert([from_props({"kind": "Site", "id": "S-1", "name": "one", "households": 7})])
    store.close()

    class SiteWithFloors(Site):
        """Site as a later pboss might have it: one more field."""

        floors: int | None = None

    monkeypatch.setitem(KINDS, "Site", SiteWithFloors)
    site = MemoryStore(data_dir=tmp_path).get("S-1")
    assert isinstance(site, SiteWithFloors)
    assert (site.name, site.households, site.floors) == ("one", 7, None)  # type: ignore[attr-defined]


def test_riders_kept_in_the_snapshot_answer_the_first_ask_and_a_journaled_write_drops_them(
    tmp_path: Path,
) -> None:
    store = _network(tmp_path)
    computed = store.riders(["OLT-1"]).model_dump()
    store.close()  # compacts: every OLT's riders are kept in the snapshot

    again = MemoryStore(data_dir=tmp_path)
    assert again.riders(["OLT-1"]).model_dump() == computed
    assert again._riders_cache.hits == 1  # the first ask after the start-up: a kept answer
    again.set_status("ONT-1", "faulty", actor="noc", reason="los")  # journaled, no compaction
    changed = again.riders(["OLT-1"]).model_dump()
    before = state_of(again)
    _crash(again)

    third = MemoryStore(data_dir=tmp_path)  # the snapshot's answer, then the journal's write
    assert third.riders(["OLT-1"]).model_dump() == changed != computed
    assert third._riders_cache.hits == 0  # dropped when the journal touched what it read
    assert state_of(third) == before


def test_a_row_holds_plain_values_even_from_enum_members() -> None:
    """marshal refuses a str subclass: an enum member left in a field must not break a commit."""
    from pboss.field.model import Crew, Skill
    from pboss.inventory.memory.rows import pack, unpack

    crew = Crew.model_construct(id="C-1", skills=[Skill.FTTH_INSTALL], status="available")
    row = codec.decode_row(codec.loads(codec.dumps(codec.encode_row(pack(crew)))))
    assert unpack(row).skills == ["ftthInstall"]  # type: ignore[attr-defined]
