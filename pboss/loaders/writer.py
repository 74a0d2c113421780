"""Pass 2 of a load: upsert validated rows in batches, in input order.

Optionally (`threaded`) a background thread runs `store.upsert` while the main thread parses the
next batch, one batch in flight, so parsing overlaps the database's work when that runs elsewhere.
The store re-validates each batch; since pass 1 checked the same rules over the whole feed, a
refusal here means the store changed under the load, and the error says how far the load got.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

from pboss.inventory.model import Edge, Element
from pboss.inventory.results import UpsertResult
from pboss.inventory.store import GraphStore
from pboss.loaders.issues import LoadError


@dataclass
class _Batch:
    """Nodes and edges (deduplicated by key) for one upsert, and where they came from."""

    number: int
    nodes: list[Element] = field(default_factory=list)
    edges: dict[tuple[str, str, str], Edge] = field(default_factory=dict)
    first: str = ""
    last: str = ""

    @property
    def size(self) -> int:
        """Elements in the batch."""
        return len(self.nodes) + len(self.edges)


class BatchWriter:
    """Collects nodes and edges into batches of about `size` elements and upserts them in order."""

    def __init__(
        self,
        store: GraphStore,
        size: int = 5000,
        *,
        actor: str = "loader",
        reason: str = "load",
        threaded: bool = False,
    ):
        self.store = store
        self.size = max(1, size)
        self.actor = actor
        self.reason = reason
        self.result = UpsertResult()
        self.written = 0
        self.batches = 0
        self._batch = _Batch(1)
        self._error: BaseException | None = None
        self._failed: _Batch | None = None
        self._queue: queue.Queue[_Batch | None] | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=1)
            self._thread = threading.Thread(target=self._run, name="pboss-load-writer", daemon=True)
            self._thread.start()

    def add(self, nodes: list[Element], edges: list[Edge], where: str) -> None:
        """Append one record's nodes and edges (`where` is its file:line, for error messages)."""
        self._raise_if_failed()
        b = self._batch
        b.first = b.first or where
        b.last = where
        b.nodes += nodes
        for e in edges:  # the same edge twice: the later row wins, as across batches
            b.edges.pop(e.key, None)
            b.edges[e.key] = e
        if b.size >= self.size:
            self.flush()

    def flush(self) -> None:
        """Send the current batch to the store."""
        b = self._batch
        if not b.size:
            return
        self._batch = _Batch(b.number + 1)
        if self._queue is None:
            self._write(b)
            self._raise_if_failed()
        else:
            self._queue.put(b)

    def close(self) -> UpsertResult:
        """Write what is left, wait for the writer, and return the summed counts."""
        try:
            self.flush()
        finally:
            if self._queue is not None and self._thread is not None:
                self._queue.put(None)
                self._thread.join()
        self._raise_if_failed()
        return self.result

    def _run(self) -> None:
        """The writer thread: upsert queued batches until told to stop."""
        assert self._queue is not None
        while True:
            b = self._queue.get()
            if b is None:
                return
            if self._error is None:
                self._write(b)

    def _write(self, b: _Batch) -> None:
        """Upsert one batch, remembering the first failure instead of raising in a thread."""
        try:
            res = self.store.upsert(
                b.nodes, list(b.edges.values()), actor=self.actor, reason=self.reason
            )
        except Exception as exc:  # reported with the batch's place by _raise_if_failed
            self._error, self._failed = exc, b
            return
        self.result = self.result + res
        self.written += b.size
        self.batches += 1

    def _raise_if_failed(self) -> None:
        """Raise a LoadError saying which batch the store refused and how far the load got."""
        if self._error is None or self._failed is None:
            return
        b = self._failed
        raise LoadError(
            f"the store refused batch {b.number} (rows {b.first} .. {b.last}): {self._error}. "
            f"{self.written} element(s) in {self.batches} earlier batch(es) were written; "
            "loads are idempotent, so fix the cause and run the same load again"
        ) from self._error
