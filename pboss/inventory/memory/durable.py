"""The embedded store on disk: a snapshot plus an append-only journal in a data directory.

Why a journal of effects and not SQLite: the MemoryStore already is the database (its indexes,
its one lock, its history and event log); what it lacks is only keeping them. So every commit
(the outermost release of the store's lock after a write) appends one record holding the state
*as it now is* of what the commit touched: the nodes and edges the graph noted (`recording.py`),
the elements history entries name (a status set in place), the new history entries, the new
events, and the listeners and dead letters changed. The record is written and fsynced before the
lock is released, so before the write is acknowledged and in commit order. Records are final
states, so applying one is the same whatever wrote it: any kind, any edge, any new store method.

Files in the data directory:
- `snapshot.pboss`: the store's state as of a journal position (`snapshot.py`: the element rows,
  edges, history rows, events and listeners as plain values, no code, nothing validated again on
  loading, which is what makes start-up fast). Written to a temporary file, fsynced, then renamed
  over.
- `journal.log`: records of `length (4 bytes) | crc32 (4 bytes) | marshal((lsn, body))` (plain
  values, `snapshot.py`'s encoding). Start-up loads the snapshot and applies the records whose
  lsn is newer. A torn last record (a crash in
  the middle of writing it) is cut off and ignored; a bad record with good data after it is
  damage, not a crash, and start-up refuses with the file and offset.
- `lock`: held (flock) while a process has the directory open, so two never share it.

Compaction (`compact`) writes a new snapshot and empties the journal; it runs when the journal
outgrows `compact_bytes` (at a commit, under the lock: writers wait for it) and at a clean close.
Neither file can name a class or run code when read; `pboss export` stays the portable form.

Leases of listeners are not kept: they name a process, and after a restart the new process must
be able to take its listeners at once instead of waiting for the dead one's lease to run out.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pboss.inventory.errors import PbossError, StoreUnavailable
from pboss.inventory.memory import snapshot as codec
from pboss.inventory.memory.events import Packed

if TYPE_CHECKING:
    from pboss.inventory.memory.store import MemoryStore

log = logging.getLogger(__name__)

SNAPSHOT = "snapshot.pboss"
OLD_SNAPSHOT = "snapshot.pickle"  # format 1 (a pickle), before the rows
JOURNAL = "journal.log"
LOCK = "lock"
_HEAD = struct.Struct(">II")  # payload length, crc32 of the payload
#: attributes of a MemoryStore that are not its data (the snapshot holds `codec.STATE`)
TRANSIENT = codec.TRANSIENT
DEFAULT_COMPACT_BYTES = 256 * 1024 * 1024


class DataDirError(PbossError):
    """The data directory cannot be used: damaged, or open in another process."""

    code = "data_dir_error"


@dataclass
class Changes:
    """What one commit changed that the graph does not note itself."""

    #: in order: ("add", entries) from `_enter`, ("forget", (ids, actor, reason, since))
    history: list[tuple[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.history)


class CommitLock:
    """The store's re-entrant lock; its outermost release runs the commit hook first (which
    journals what was written, so a write returns only once it is on disk, and drops the cached
    answers it changed)."""

    def __init__(self, on_commit: Callable[[], None]) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._on_commit = on_commit
        self.broken: BaseException | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock; refused (StoreUnavailable) once a commit could not be written."""
        got = self._lock.acquire(blocking, timeout)
        if not got:
            return False
        if self.broken is not None:
            self._lock.release()
            raise StoreUnavailable(
                f"the embedded store could not commit a write ({self.broken}); restart pboss "
                "once the data directory is writable: it comes back as last acknowledged"
            )
        self._depth += 1
        return True

    def release(self) -> None:
        """Let go; the outermost release writes the commit's journal record first."""
        try:
            if self._depth == 1:
                try:
                    self._on_commit()
                except BaseException as exc:
                    self.broken = exc  # memory is now ahead of the disk: serve nothing more
                    raise StoreUnavailable(
                        f"the write could not be made durable ({exc}); nothing more is "
                        "served until pboss restarts"
                    ) from exc
        finally:
            self._depth -= 1
            self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _records(path: Path) -> Iterator[tuple[int, bytes]]:
    """(offset, payload) of each whole record; stops at a torn tail, raises on damage."""
    size = path.stat().st_size
    with path.open("rb") as f:
        offset = 0
        while offset < size:
            head = f.read(_HEAD.size)
            if len(head) < _HEAD.size:
                return  # torn in the header
            length, crc = _HEAD.unpack(head)
            payload = f.read(length)
            end = offset + _HEAD.size + length
            if len(payload) < length:
                return  # torn in the payload
            if zlib.crc32(payload) != crc:
                if end >= size:
                    return  # the last record, half-written over old bytes: torn
                raise DataDirError(
                    f"{path}: record at byte {offset} is damaged (checksum) and {size - end} "
                    "bytes follow it; restore the data directory from a backup"
                )
            yield offset, payload
            offset = end


class Durability:
    """A MemoryStore's snapshot and journal in one data directory (see the module docstring)."""

    def __init__(self, store: MemoryStore, data_dir: Path, compact_bytes: int) -> None:
        self.store = store
        self.dir = data_dir
        self.compact_bytes = compact_bytes
        self.lsn = 0
        self.changes = Changes()
        self.events_mark = 0
        self.compactions = 0
        self._journal: IO[bytes] | None = None
        self._lockfile: IO[bytes] | None = None

    # ---- opening --------------------------------------------------------------------------------

    def open(self) -> None:
        """Lock the directory, load the snapshot, apply the journal's newer records."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lockfile = (self.dir / LOCK).open("ab")
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lockfile.close()
            raise DataDirError(
                f"{self.dir} is open in another pboss process (one process per data directory)"
            ) from None
        started = time.perf_counter()
        snap = self.dir / SNAPSHOT
        if (self.dir / OLD_SNAPSHOT).exists():
            raise DataDirError(
                f"{self.dir} holds a snapshot of an older pboss ({OLD_SNAPSHOT}, a pickle, which "
                "this version does not read): export it with that version (`pboss export`) and "
                "load the export into an empty data directory"
            )
        if snap.exists():
            try:
                self.lsn = codec.read(snap, self.store)
            except codec.SnapshotError as exc:
                raise DataDirError(str(exc)) from exc
        journal = self.dir / JOURNAL
        applied, good_end = 0, 0
        if journal.exists():
            for offset, payload in _records(journal):
                try:
                    lsn, body = codec.loads(payload)
                except (ValueError, EOFError, TypeError) as exc:
                    raise DataDirError(
                        f"{journal}: record at byte {offset} cannot be read ({exc})"
                    ) from exc
                good_end = offset + _HEAD.size + len(payload)
                if lsn <= self.lsn:
                    continue  # already in the snapshot (a crash between rename and truncate)
                self._apply(body)
                self.lsn = lsn
                applied += 1
            if journal.stat().st_size > good_end:
                log.warning("%s: ignored a torn last record after byte %d", journal, good_end)
                with journal.open("r+b") as f:
                    f.truncate(good_end)
                    os.fsync(f.fileno())
        cleared, touched, _ = self.store.graph.take_touched()  # what the journal changed
        if cleared:
            self.store._riders_cache.clear()
        self.store._riders_cache.invalidate(touched | self.store._entered)
        self.store._entered = set()
        self.events_mark = len(self.store.events)
        self._journal = journal.open("ab")
        log.info(
            "embedded store opened from %s in %.1f s (%d journal records applied; snapshot: %s)",
            self.dir,
            time.perf_counter() - started,
            applied,
            ", ".join(f"{step} {s:.1f} s" for step, s in codec.last_read.items()),
        )

    def _apply(self, body: dict[str, Any]) -> None:
        """Apply one journal record to the store (final states; see the module docstring)."""
        store = self.store
        if body.get("clear"):
            store.clear_state()
        for row in body["nodes"]:
            store.place_node(codec.decode_row(row))
        for (src, dst, key), data in body["edges"]:
            if store.graph.has_edge(src, dst, key=key):
                store.graph.remove_edge(src, dst, key=key)
            if data is not None:
                store.graph.add_edge(src, dst, key=key, **data)
        for node_id in body["gone"]:
            store.drop_node(node_id)
        for op, arg in body["history"]:
            op, arg = codec.decode_history_op(op, arg)
            if op == "add":
                store.keep_history(arg)
            else:
                store.forget_history(*arg)
        store.events.extend([Packed(*p) for p in body["events"]])
        for listener_id, listener in body["listeners"]:
            store.listeners.put_listener(listener_id, codec.decode_listener(listener))
        for dead_id, dead in body["dead"]:
            store.listeners.put_dead(dead_id, codec.decode_dead(dead))

    # ---- committing -----------------------------------------------------------------------------

    def pending(self) -> bool:
        """True when a commit has more to write than the graph noted (history, events,
        listeners)."""
        store = self.store
        events = len(store.events) != self.events_mark
        return bool(self.changes) or events or store.listeners.touched

    def commit(self, cleared: bool, nodes: set[Any], edges: set[Any]) -> None:
        """Write what the finished commit changed as one fsynced record (nothing if nothing):
        `nodes` and `edges` are what it touched (the graph's notes and the elements its history
        entries name), `cleared` whether it began with a clean slate."""
        store = self.store
        graph = store.graph
        events = len(store.events)
        book = store.listeners
        if not (cleared or nodes or edges or self.pending()):
            return
        listeners, dead = book.take_touched()
        changes, self.changes = self.changes, Changes()
        present = [codec.encode_row(graph.nodes[n]["row"]) for n in nodes if n in graph]
        gone = [n for n in nodes if n not in graph]
        edge_states = [
            ((u, v, k), None if (data := graph.get_edge_data(u, v, key=k)) is None else dict(data))
            for u, v, k in edges
        ]
        if cleared:
            self.events_mark = 0
        body = {
            "clear": cleared,
            "nodes": present,
            "edges": edge_states,
            "gone": gone,
            "history": [codec.encode_history_op(op, arg) for op, arg in changes.history],
            "events": [tuple(p) for p in store.events.rows_from(self.events_mark)],
            "listeners": [
                (i, codec.encode_model(book.kept_listener(i))) for i in sorted(listeners)
            ],
            "dead": [(i, codec.encode_model(book.kept_dead(i))) for i in sorted(dead)],
        }
        self.events_mark = events
        self._append(body)
        if self._journal is not None and self._journal.tell() > self.compact_bytes:
            self.compact()

    def _append(self, body: dict[str, Any]) -> None:
        assert self._journal is not None, "the data directory is closed"
        payload = codec.dumps((self.lsn + 1, body))
        self._journal.write(_HEAD.pack(len(payload), zlib.crc32(payload)) + payload)
        self._journal.flush()
        os.fdatasync(self._journal.fileno())
        self.lsn += 1

    # ---- compacting -----------------------------------------------------------------------------

    def compact(self) -> None:
        """Write a new snapshot atomically (temp file, fsync, rename), then empty the journal;
        the caller holds the store's lock (a commit, or `close`)."""
        started = time.perf_counter()
        self.store.warm_riders()  # kept in the snapshot: the first ask after a start-up is cheap
        tmp = self.dir / f"{SNAPSHOT}.tmp"
        with tmp.open("wb") as f:
            codec.write(f, self.store, self.lsn)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.dir / SNAPSHOT)
        _fsync_dir(self.dir)
        if self._journal is not None:  # records up to self.lsn are in the snapshot now
            self._journal.truncate(0)
            self._journal.seek(0)
            os.fsync(self._journal.fileno())
        self.compactions += 1
        log.info("embedded store compacted in %.1f s", time.perf_counter() - started)

    def journal_bytes(self) -> int:
        """How long the journal is now."""
        return 0 if self._journal is None else self._journal.tell()

    def close(self, *, compact: bool = True) -> None:
        """Compact (so the next start-up has no journal to apply), then let go of the files."""
        if self._journal is None:
            return
        if compact and self.journal_bytes():
            self.compact()
        self._journal.close()
        self._journal = None
        if self._lockfile is not None:
            self._lockfile.close()  # releases the flock
            self._lockfile = None


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
