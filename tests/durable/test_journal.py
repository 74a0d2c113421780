"""The durable embedded store (memory/durable.py): what it is given comes back from its data
directory, from the journal alone, from a snapshot plus a journal tail, and past a torn record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pboss.inventory.demo import demo_network
from pboss.inventory.listeners import DeadLetter, DeadLetterState, DeliveryReport, Listener
from pboss.inventory.memory.durable import JOURNAL, SNAPSHOT, DataDirError
from pboss.inventory.memory.store import MemoryStore
from pboss.inventory.model import from_props
from pboss.inventory.undo import Undo
from pboss.provisioning.service import ProvisioningService
from tests.durable.conftest import state_of
from tests.provisioning.conftest import Clock, add_ports, ftth, leased

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def crash(store: MemoryStore) -> None:
    """Let go of the files as a killed process would: no compaction, nothing more written."""
    assert store.durable is not None
    store.durable.close(compact=False)


def workload(store: MemoryStore) -> None:
    """Every kind of write the store has: loads, transactions with events, status, edge
    changes, deletes, insert_new, an undone batch, listeners and dead letters."""
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    for ne, site in {"NE-A": "CP-XX", "NE-1": "EX-1", "NE-2": "EX-2", "NE-Z": "B-DH"}.items():
        add_ports(store, ne, site, "PORT-E1", 2, "E1F")
        add_ports(store, ne, site, "PORT-GE", 10, "GE")
    svc = ProvisioningService(store, clock=Clock())
    fiber = svc.reserve(svc.submit_order(ftth("D1")).id)
    svc.confirm(fiber.id)
    svc.reserve(svc.submit_order(leased("D2")).id)
    svc.cancel(svc.submit_order(ftth("D3", customer="H-D3")).id)
    store.set_status("NE-1/GE-1", "faulty", actor="noc", reason="alarm")
    store.insert_new(
        [{"kind": "Site", "id": "S-NEW", "name": "new site"}, {"kind": "Site", "id": "S-GONE"}]
    )
    store.upsert([from_props({"kind": "Site", "id": "S-NEW", "name": "renamed"})], actor="a")
    add_ports(store, "NE-1", "EX-1", "PORT-GE", 12, "GE")  # two more, and ten unchanged
    store.change_edges([("PART_OF", "NE-1/GE-12", "NE-1")], actor="a", reason="unlink")
    store.delete(["S-GONE"], actor="a")
    # a load's batch undone: its node and its history go
    store.upsert([from_props({"kind": "Site", "id": "S-UNDO"})], actor="loader", reason="batch")
    store.restore(
        Undo(
            created_nodes=["S-UNDO"],
            history_ids=["S-UNDO"],
            actor="loader",
            reason="batch",
            since=NOW - timedelta(days=3650),
        )
    )
    for name in ("L-1", "L-2"):
        store.add_listener(
            Listener(
                id=name, callback="http://127.0.0.1/x", secret="s", owner_role="crm", created_at=NOW
            )
        )
    [held] = store.claim_listeners("me", now=NOW, until=NOW + timedelta(minutes=1), limit=1)
    dead = DeadLetter(
        id="DL-1", listener=held.id, seq=1, event_id="e", event_type="t", reason="500", attempts=3,
        at=NOW,
    )  # fmt: skip
    report = DeliveryReport(cursor=2, lease_until=NOW, delivered=1, dead=[dead])
    assert store.record_delivery(held.id, "me", report)
    store.set_dead_letters(["DL-1"], DeadLetterState.REPLAY, reason="fixed")
    store.remove_listener("L-2")


def test_a_store_reopened_from_its_journal_holds_everything(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path)
    workload(store)
    before = state_of(store)
    assert store.last_event_seq() > 0 and store.history("NE-1/GE-1")
    crash(store)
    assert not (tmp_path / SNAPSHOT).exists()  # the journal alone
    again = MemoryStore(data_dir=tmp_path)
    after = state_of(again)
    for part in before:  # one part at a time, so a failure names it
        assert after[part] == before[part], part
    # the listener's lease is not kept: a new process takes it at once
    assert again.get_listener("L-1").lease_owner is None  # type: ignore[union-attr]
    assert [d.state for d in again.dead_letters()] == [DeadLetterState.REPLAY]


def test_a_snapshot_plus_the_journal_after_it(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path)
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    with store.lock:
        store.durable.compact()  # type: ignore[union-attr]
    assert (tmp_path / JOURNAL).stat().st_size == 0
    store.set_status("NE-1", "faulty", actor="noc", reason="after the snapshot")
    before = state_of(store)
    crash(store)
    again = MemoryStore(data_dir=tmp_path)
    assert state_of(again) == before
    assert again.get("NE-1").status == "faulty"  # type: ignore[union-attr]


def test_compaction_when_the_journal_outgrows_its_limit(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path, compact_bytes=10_000)
    workload(store)
    assert store.durable.compactions >= 1  # type: ignore[union-attr]
    before = state_of(store)
    crash(store)
    assert state_of(MemoryStore(data_dir=tmp_path)) == before


def test_a_close_compacts_and_a_reopen_needs_no_journal(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path)
    workload(store)
    before = state_of(store)
    store.close()
    assert (tmp_path / JOURNAL).stat().st_size == 0
    assert state_of(MemoryStore(data_dir=tmp_path)) == before


def test_records_already_in_the_snapshot_are_not_applied_twice(tmp_path: Path) -> None:
    """A crash between the snapshot's rename and the journal's truncation: history and events
    (appended, not set) must not come back doubled."""
    store = MemoryStore(data_dir=tmp_path)
    workload(store)
    before = state_of(store)
    journal = (tmp_path / JOURNAL).read_bytes()
    with store.lock:
        store.durable.compact()  # type: ignore[union-attr]
    crash(store)
    (tmp_path / JOURNAL).write_bytes(journal)  # as if the truncation never happened
    assert state_of(MemoryStore(data_dir=tmp_path)) == before


@pytest.mark.parametrize("cut", [1, 5, 9, 40])
def test_a_torn_last_record_is_ignored_and_cut_off(tmp_path: Path, cut: int) -> None:
    store = MemoryStore(data_dir=tmp_path)
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    before = state_of(store)
    size = (tmp_path / JOURNAL).stat().st_size
    store.set_status("NE-1", "faulty", actor="noc", reason="torn")
    crash(store)
    journal = tmp_path / JOURNAL
    whole = journal.read_bytes()
    journal.write_bytes(whole[: size + cut])  # the crash came `cut` bytes into the record
    again = MemoryStore(data_dir=tmp_path)
    assert state_of(again) == before
    assert journal.stat().st_size == size  # cut off, so the next record follows a whole one
    again.set_status("NE-2", "faulty", actor="noc", reason="after")
    crash(again)
    assert MemoryStore(data_dir=tmp_path).get("NE-2").status == "faulty"  # type: ignore[union-attr]


def test_a_last_record_with_a_bad_checksum_is_torn_too(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path)
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    before = state_of(store)
    store.set_status("NE-1", "faulty", actor="noc", reason="torn")
    crash(store)
    journal = tmp_path / JOURNAL
    data = bytearray(journal.read_bytes())
    data[-3] ^= 0xFF  # a sector of the last record never reached the disk
    journal.write_bytes(bytes(data))
    assert state_of(MemoryStore(data_dir=tmp_path)) == before


def test_damage_before_the_last_record_refuses_to_start(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path)
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    store.set_status("NE-1", "faulty", actor="noc", reason="second record")
    crash(store)
    journal = tmp_path / JOURNAL
    data = bytearray(journal.read_bytes())
    data[20] ^= 0xFF  # inside the first record, a whole one follows
    journal.write_bytes(bytes(data))
    with pytest.raises(DataDirError, match=r"journal.log: record at byte 0 is damaged"):
        MemoryStore(data_dir=tmp_path)


def test_one_process_per_data_directory(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path)
    with pytest.raises(DataDirError, match="open in another pboss process"):
        MemoryStore(data_dir=tmp_path)
    store.close()
    MemoryStore(data_dir=tmp_path).close()  # free again once closed


def test_a_clear_is_kept(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path)
    workload(store)
    store.clear()
    store.insert_new([{"kind": "Site", "id": "S-AFTER"}])
    before = state_of(store)
    crash(store)
    again = MemoryStore(data_dir=tmp_path)
    assert state_of(again) == before
    assert again.counts() == {"Site": 1} and again.last_event_seq() == 0


def test_a_refused_write_journals_nothing(tmp_path: Path) -> None:
    store = MemoryStore(data_dir=tmp_path)
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="test", reason="reference network")
    lsn = store.durable.lsn  # type: ignore[union-attr]
    with pytest.raises(Exception, match="exists already"):
        store.insert_new([{"kind": "Site", "id": nodes[0].id}])
    store.get("NE-1")  # reads write nothing either
    assert store.durable.lsn == lsn  # type: ignore[union-attr]


def test_without_a_data_directory_nothing_is_written(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    store = MemoryStore()
    workload(store)
    assert store.durable is None and not list(tmp_path.iterdir())
