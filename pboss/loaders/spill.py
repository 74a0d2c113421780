"""A map for pass 1's indexes that keeps its newest entries in memory and the rest on disk.

Validating a load needs facts about every id the feed defined so far (its kind, its single
upstream), so an index in memory grows with the feed: ~110 bytes an id, 200 MB on a million
elements, gigabytes on the large network. A `SpillMap` holds at most two generations of
`spill_at` entries in dicts and moves older ones to an SQLite table in a private temporary file,
so memory stays the same however large the feed. Look-ups of spilled keys are batched: the
validator `prefetch`es the keys a chunk of rows will read (one query), then reads `recent`,
`older` and `window` as plain dicts in its hot loop. The disk is worked by a thread of its own,
in single SQL statements that run without the GIL, so while it answers one chunk's look-ups the
validator parses the next on the other core. A load smaller than `spill_at` never touches the
disk.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Generic, Literal, TypeVar

from pboss.loaders import jsonio
from pboss.loaders.issues import LoadError

K = TypeVar("K", str, int)
V = TypeVar("V", str, int)
T = TypeVar("T")

#: Entries per in-memory generation (two of them, and a window of as many keys read back), about
#: 2-3 MB a map. Measured on medium (pass 1, dry run): 8,192 took as long as 65,536 (17-18 s;
#: the time goes to look-ups the generations cannot hold anyway: most edges refer to nodes
#: defined in earlier files) and peaked at 85 MB against 160 MB; everything in memory: 15 s,
#: 150 MB, and growing with the feed.
SPILL_AT = 8_192
#: SQLite's page cache per map, in KiB (negative: KiB, as SQLite's PRAGMA takes it).
_CACHE_KIB = 8192
#: Keys per prefetch query.
_QUERY_CHUNK = 20_000

SqlType = Literal["TEXT", "INTEGER"]


class SpillMap(Generic[K, V]):
    """A key -> value map (str or 64-bit int on both sides) with a bounded memory footprint.

    Writes go to `recent` (a dict; call `settle` between chunks). Reads: `get` for one key (it
    asks the disk for a key not prefetched), or, in a hot loop, the three dicts `recent`,
    `older` and `window` in that order, after `prefetch(keys)` and then `wait()`.
    """

    def __init__(self, key_type: SqlType, value_type: SqlType, *, spill_at: int | None = None):
        self.recent: dict[K, V] = {}
        self.older: dict[K, V] = {}
        self.window: dict[K, V] = {}
        self._asked: set[K] = set()
        self._key_type, self._value_type = key_type, value_type
        self._spill_at = SPILL_AT if spill_at is None else spill_at  # read now: tests lower it
        self._dir: Path | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._reading: Future[dict[K, V]] | None = None
        self._writing: Future[None] | None = None
        self._db: sqlite3.Connection | None = None  # the worker's alone

    @property
    def spilled(self) -> bool:
        """True once some entries live on disk (before that, `recent` holds them all)."""
        return self._worker is not None

    def settle(self) -> None:
        """Move the older generation to disk once `recent` is full; call it between chunks, so a
        prefetched window stays valid while a chunk is checked."""
        if len(self.recent) < self._spill_at:
            return
        if self._worker is None:
            self._dir = Path(tempfile.mkdtemp(prefix="pboss-index-"))
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="pboss-index")
        self.wait()
        self._written()  # the last generation's write: its failure must not go unseen
        generation = self.recent
        # the worker takes jobs in order: every later read sees this generation on disk
        self._writing = self._worker.submit(self._write, generation)
        self._asked.difference_update(generation)  # asked when absent: ask the disk again
        self.older, self.recent = generation, {}

    def prefetch(self, keys: Iterable[K]) -> None:
        """Start reading into `window` the spilled entries of these keys (`wait` for them). The
        window keeps what earlier chunks read, up to `spill_at` keys asked (then it starts
        again): consecutive chunks refer to many of the same ids (a splitter's ports, a site)."""
        if self._worker is None:
            return
        self.wait()
        # set differences iterate the left side only, so each costs the chunk's keys
        fresh = (keys if isinstance(keys, set) else set(keys)).difference(self.recent)
        fresh = fresh.difference(self.older)
        wanted = fresh.difference(self._asked)
        if len(self._asked) + len(wanted) > self._spill_at:
            self.window, self._asked, wanted = {}, set(), fresh
        self._asked.update(wanted)
        if wanted:
            self._reading = self._worker.submit(self._read, list(wanted))

    def wait(self) -> None:
        """Have the last prefetch in `window`; raise here what failed on the disk."""
        reading, self._reading = self._reading, None
        if reading is not None:
            self.window.update(self._result(reading))
        if self._writing is not None and self._writing.done():  # done before any later read
            self._written()

    def _written(self) -> None:
        """Wait for the last generation's write; raise here what failed on the disk."""
        writing, self._writing = self._writing, None
        if writing is not None:
            self._result(writing)

    def get(self, key: K) -> V | None:
        """The value of a key, or None; from memory, else from disk unless it was prefetched."""
        value = self.recent.get(key)
        if value is None:
            value = self.older.get(key)
        if value is None:
            value = self.window.get(key)
        if value is None and self._worker is not None:
            self.wait()  # a read in flight may bring it
            value = self.window.get(key)
            if value is None and key not in self._asked:
                value = self._result(self._worker.submit(self._read, [key])).get(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def present(self, keys: Collection[K]) -> set[K]:
        """The keys of this collection the map holds, in as few queries as possible."""
        recent, older = self.recent, self.older
        found = {k for k in keys if k in recent or k in older}
        if self._worker is not None:
            self._written()  # a failed write would leave keys out of the answer
            rest = [k for k in keys if k not in found]
            found.update(self._result(self._worker.submit(self._read, rest)))
        return found

    def close(self) -> None:
        """Remove the disk part (the map is empty afterwards)."""
        self.recent, self.older, self.window, self._asked = {}, {}, {}, set()
        if self._worker is not None:
            self._reading = self._writing = None
            self._worker.submit(self._close_db)
            self._worker.shutdown(wait=True)
            self._worker = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _result(self, job: Future[T]) -> T:
        """A disk job's result; its failure (a full disk, say) as a LoadError naming the file."""
        try:
            return job.result()
        except (sqlite3.Error, OSError) as exc:
            where = self._dir or tempfile.gettempdir()
            raise LoadError(
                f"validation index on disk ({where}): {exc}; free some space there or point "
                "TMPDIR elsewhere (or raise --index-entries to keep more of it in memory)"
            ) from exc

    # ---- disk: the worker thread's ---------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """The table on disk, created on the first spill (no journal: the file dies with us)."""
        if self._db is None:
            assert self._dir is not None
            db = sqlite3.connect(self._dir / "index.db", isolation_level=None)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{_CACHE_KIB}"):
                db.execute(f"PRAGMA {pragma}")
            rowid = "" if self._key_type == "INTEGER" else " WITHOUT ROWID"
            db.execute(
                f"CREATE TABLE m(k {self._key_type} PRIMARY KEY, v {self._value_type}){rowid}"
            )
            self._db = db
        return self._db

    def _write(self, generation: dict[K, V]) -> None:
        """Add a generation: one statement, so one transaction (autocommit would write the pages
        row by row) and no Python per row; sorted, so the B-tree takes them in order."""
        rows = jsonio.dumps(list(generation.items())).decode()
        self._connection().execute(
            "INSERT OR REPLACE INTO m(k, v) SELECT value ->> 0, value ->> 1 FROM json_each(?) "
            "ORDER BY 1",
            (rows,),
        )

    def _read(self, keys: list[K]) -> dict[K, V]:
        """The spilled entries of these keys: one query per `_QUERY_CHUNK` keys, each giving one
        row (a JSON array of pairs), so no Python runs per key until orjson reads it."""
        db, found = self._connection(), {}
        for start in range(0, len(keys), _QUERY_CHUNK):
            batch = jsonio.dumps(keys[start : start + _QUERY_CHUNK]).decode()
            ((pairs,),) = db.execute(
                "SELECT json_group_array(json_array(k, v)) FROM m "
                "WHERE k IN (SELECT value FROM json_each(?))",
                (batch,),
            )
            found.update(jsonio.loads(pairs))
        return found

    def _close_db(self) -> None:
        """Close the connection (in the thread that made it)."""
        if self._db is not None:
            self._db.close()
            self._db = None
