"""A map for pass 1's indexes that keeps its newest entries in memory and the rest on disk.

Validating a load needs facts about every id the feed defined so far (its kind, its single
upstream), so an index in memory grows with the feed: ~110 bytes an id, 200 MB on a million
elements, gigabytes on the large network. A `SpillMap` holds at most two generations of
`spill_at` entries in dicts and moves older ones to an SQLite table in a private temporary file,
so memory stays the same however large the feed. Look-ups of spilled keys are batched: the
validator `prefetch`es the keys a chunk of rows will read (one query), then reads `recent`,
`older` and `window` as plain dicts in its hot loop. A load smaller than `spill_at` never
touches the disk.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Generic, Literal, TypeVar

from pboss.loaders import jsonio

K = TypeVar("K", str, int)
V = TypeVar("V", str, int)

#: Entries per in-memory generation: two of them (~14 MB of ids) before anything is read back
#: from disk; large enough that a chunk's references mostly hit memory when rows refer to
#: recent ones (parts to their splitter, ONTs to their port), small enough to stay flat.
SPILL_AT = 65_536
#: SQLite's page cache per map, in KiB (negative: KiB, as SQLite's PRAGMA takes it).
_CACHE_KIB = 8192
#: Keys per prefetch query.
_QUERY_CHUNK = 20_000

SqlType = Literal["TEXT", "INTEGER"]


class SpillMap(Generic[K, V]):
    """A key -> value map (str or 64-bit int on both sides) with a bounded memory footprint.

    Writes go to `recent` (a dict; call `settle` between chunks). Reads: `get` for one key (it
    queries the disk for a key not prefetched), or, in a hot loop, the three dicts `recent`,
    `older` and `window` in that order after `prefetch(keys)` covered the keys read.
    """

    def __init__(self, key_type: SqlType, value_type: SqlType, *, spill_at: int | None = None):
        self.recent: dict[K, V] = {}
        self.older: dict[K, V] = {}
        self.window: dict[K, V] = {}
        self._asked: set[K] = set()
        self._key_type, self._value_type = key_type, value_type
        self._spill_at = SPILL_AT if spill_at is None else spill_at  # read now: tests lower it
        self._dir: Path | None = None
        self._db: sqlite3.Connection | None = None

    @property
    def spilled(self) -> bool:
        """True once some entries live on disk (before that, `recent` holds them all)."""
        return self._db is not None

    def settle(self) -> None:
        """Move the older generation to disk once `recent` is full; call it between chunks, so a
        prefetched window stays valid while a chunk is checked."""
        if len(self.recent) < self._spill_at:
            return
        db = self._open()
        db.execute("BEGIN")  # one transaction: autocommit would write the pages row by row
        db.executemany("INSERT OR REPLACE INTO m(k, v) VALUES (?, ?)", sorted(self.recent.items()))
        db.execute("COMMIT")
        self._asked.difference_update(self.recent)  # asked when absent: ask the disk again
        self.older, self.recent = self.recent, {}

    def prefetch(self, keys: Iterable[K]) -> None:
        """Read into `window` the spilled entries of these keys. The window keeps what earlier
        chunks read, up to `spill_at` keys asked (then it starts again): consecutive chunks
        refer to many of the same ids (a splitter's ports, a site's equipment)."""
        if self._db is None:
            return
        # set differences iterate the left side only, so each costs the chunk's keys
        fresh = set(keys).difference(self.recent).difference(self.older)
        wanted = fresh.difference(self._asked)
        if len(self._asked) + len(wanted) > self._spill_at:
            self.window, self._asked, wanted = {}, set(), fresh
        self._asked.update(wanted)
        self._query_into(self.window, list(wanted))

    def get(self, key: K) -> V | None:
        """The value of a key, or None; from memory, else from disk unless it was prefetched."""
        value = self.recent.get(key)
        if value is None:
            value = self.older.get(key)
        if value is None:
            value = self.window.get(key)
        if value is None and self._db is not None and key not in self._asked:
            found: dict[K, V] = {}
            self._query_into(found, [key])
            value = found.get(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def present(self, keys: Collection[K]) -> set[K]:
        """The keys of this collection the map holds, in as few queries as possible."""
        recent, older = self.recent, self.older
        found = {k for k in keys if k in recent or k in older}
        if self._db is not None:
            on_disk: dict[K, V] = {}
            self._query_into(on_disk, [k for k in keys if k not in found])
            found.update(on_disk)
        return found

    def close(self) -> None:
        """Remove the disk part (the map is empty afterwards)."""
        self.recent, self.older, self.window, self._asked = {}, {}, {}, set()
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # ---- disk ----------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """The table on disk, created on the first spill (no journal: the file dies with us)."""
        if self._db is None:
            self._dir = Path(tempfile.mkdtemp(prefix="pboss-index-"))
            db = sqlite3.connect(self._dir / "index.db", isolation_level=None)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", f"cache_size=-{_CACHE_KIB}"):
                db.execute(f"PRAGMA {pragma}")
            rowid = "" if self._key_type == "INTEGER" else " WITHOUT ROWID"
            db.execute(
                f"CREATE TABLE m(k {self._key_type} PRIMARY KEY, v {self._value_type}){rowid}"
            )
            self._db = db
        return self._db

    def _query_into(self, into: dict[K, V], keys: list[K]) -> None:
        """Add to `into` the spilled entries of these keys, one query per `_QUERY_CHUNK` keys."""
        assert self._db is not None
        for start in range(0, len(keys), _QUERY_CHUNK):
            batch = jsonio.dumps(keys[start : start + _QUERY_CHUNK]).decode()
            into.update(
                self._db.execute(
                    "SELECT k, v FROM m WHERE k IN (SELECT value FROM json_each(?))", (batch,)
                )
            )
