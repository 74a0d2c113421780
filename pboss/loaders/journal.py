"""The undo journal of a load: how pass 2 puts the store back as it was when it cannot finish.

A load writes in many transactions (one per batch part), so a failure half-way (the store
refusing a batch, the database going away, Ctrl-C) would leave the batches before it written.
Before each batch part that may update stored elements the writer reads what they hold
(`GraphStore.snapshot`); after each part that committed it records an `Undo` here: the nodes and
edges it created, the prior properties of those it changed, the history it left. On failure
`rollback` applies the records newest first, one transaction each (`GraphStore.restore`), so the
store ends as it was. Records go to a temporary file (pickled: stored values, temporal ones
included, come back exactly), so memory stays flat however large the load.

Limits: a snapshot is read just before its batch, not under the batch's locks, so a concurrent
write to the very same element between the two is undone with it; a reservation taken meanwhile
on an element the load created stops the rollback (HasDependants) rather than lose the hold.
"""

from __future__ import annotations

import pickle
import tempfile
import threading
from datetime import UTC, datetime

from pboss.inventory.store import GraphStore
from pboss.inventory.undo import Undo


class Journal:
    """Undo records of the batch parts a load committed, on disk, newest last."""

    def __init__(self, store: GraphStore, actor: str, reason: str):
        self.store = store
        self.actor = actor
        self.reason = reason
        #: history records at or after this time, by this actor and reason, are the load's
        self.since = datetime.now(UTC)
        self._file = tempfile.TemporaryFile(prefix="pboss-undo-")  # noqa: SIM115 (see close)
        self._offsets: list[int] = []
        self._lock = threading.Lock()

    @property
    def records(self) -> int:
        """How many committed batch parts would be undone."""
        return len(self._offsets)

    def record(self, undo: Undo) -> None:
        """Remember how to undo one committed batch part (workers call this concurrently)."""
        if undo.empty and not undo.history_ids:
            return
        with self._lock:
            self._file.seek(0, 2)
            self._offsets.append(self._file.tell())
            pickle.dump(undo, self._file, protocol=pickle.HIGHEST_PROTOCOL)

    def rollback(self) -> int:
        """Undo every recorded part, newest first; returns how many. A part that cannot be
        undone raises, and the parts older than it stay recorded (calling again resumes)."""
        done = 0
        while self._offsets:
            with self._lock:
                self._file.seek(self._offsets[-1])
                undo: Undo = pickle.load(self._file)  # our own temporary file
            self.store.restore(undo)
            self._offsets.pop()
            done += 1
        return done

    def close(self) -> None:
        """Drop the file (the records are no longer needed)."""
        self._file.close()
