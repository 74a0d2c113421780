"""Pass 2 of a load: write the rows pass 1 accepted, in batches.

Each batch is written in two calls: what the store did not hold at validation goes to
`store.insert_new` (no read before writing; the store checks only what may have changed since),
then the rest to `store.upsert`, which re-validates against what the store holds. Since pass 1
checked every rule over the whole feed, a refusal here means the store changed under the load, and
the error says which batch. Each part of a batch that commits is recorded in the load's undo
journal (`journal.py`; the upsert part after reading what it will change), so that the loader can
put the store back as it was if a later batch fails.

Up to `workers` batches are in flight at once (Neo4j then uses more than one core), under one
ordering rule: a batch that writes edges or updates stored elements waits for every earlier batch
that writes nodes (its edges and references need them), for every earlier batch holding one of
its edges (the later row wins) and for every earlier batch holding VC-12 slots of a section it
holds slots of (an earlier row may free the slots a later one takes). Batches that only create
nodes depend on nothing.
"""

from __future__ import annotations

from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from pboss.inventory.impact import Acknowledgement, ImpactNotAcknowledged
from pboss.inventory.model import Edge, Element, printable
from pboss.inventory.results import UpsertResult
from pboss.inventory.rows import EdgeRow, NodeRow
from pboss.inventory.store import GraphStore
from pboss.inventory.undo import Snapshot, Undo
from pboss.loaders.issues import LoadError
from pboss.loaders.journal import Journal
from pboss.loaders.spool import SpooledRow

EdgeKey = tuple[str, str, str]
Outcome = UpsertResult | BaseException


@dataclass
class _Batch:
    """What one batch writes by each path (edges deduplicated by key), and where it came from."""

    number: int
    new_nodes: list[NodeRow] = field(default_factory=list)
    new_edges: dict[EdgeKey, EdgeRow] = field(default_factory=dict)
    nodes: list[Element] = field(default_factory=list)
    edges: dict[EdgeKey, Edge] = field(default_factory=dict)
    first: str = ""
    last: str = ""

    @property
    def size(self) -> int:
        """Elements in the batch."""
        return len(self.new_nodes) + len(self.new_edges) + len(self.nodes) + len(self.edges)

    @property
    def writes_nodes(self) -> bool:
        """True when the batch creates or updates nodes."""
        return bool(self.new_nodes or self.nodes)

    @property
    def independent(self) -> bool:
        """True when the batch only creates nodes, so it needs no earlier batch written first."""
        return not (self.new_edges or self.nodes or self.edges)

    def edge_keys(self) -> set[EdgeKey]:
        """The keys of every edge the batch writes."""
        return self.new_edges.keys() | self.edges.keys()

    def sections(self) -> set[str]:
        """The sections whose VC-12 slots the batch's edges hold (those go through upsert)."""
        return {e.dst for e in self.edges.values() if e.slots}

    def write(
        self,
        store: GraphStore,
        actor: str,
        reason: str,
        journal: Journal | None = None,
        ack: Acknowledgement | None = None,
    ) -> UpsertResult:
        """Write the batch: the bulk part, then the part `upsert` re-validates (with `ack`: a
        status change that takes riders down is refused unless acknowledged); each part that
        commits is recorded in the `journal`, with what the upsert part changed read first."""
        result = UpsertResult()
        if self.new_nodes or self.new_edges:
            result = store.insert_new(self.new_nodes, list(self.new_edges.values()))
            if journal is not None:  # its edges leave new nodes: they go with them
                journal.record(Undo(created_nodes=[n["id"] for n in self.new_nodes]))
        if self.nodes or self.edges:
            edges = list(self.edges.values())
            if journal is None:
                return result + store.upsert(self.nodes, edges, actor=actor, reason=reason, ack=ack)
            before = store.snapshot([n.id for n in self.nodes], list(self.edges))
            result = result + store.upsert(self.nodes, edges, actor=actor, reason=reason, ack=ack)
            journal.record(self._undo(before, journal))
        return result

    def _undo(self, before: Snapshot, journal: Journal) -> Undo:
        """How to undo the upsert part, given what its elements held before it."""
        return Undo(
            created_nodes=[n.id for n in self.nodes if n.id not in before.nodes],
            created_edges=[k for k in self.edges if k not in before.edges],
            prior_nodes=list(before.nodes.values()),
            prior_edges=list(before.edges.items()),
            history_ids=sorted({n.id for n in self.nodes} | {i for k in self.edges for i in k[1:]}),
            actor=journal.actor,
            reason=journal.reason,
            since=journal.since,
        )


class BatchRefused(LoadError):
    """The store refused a batch of pass 2: which one, why, and how much was written before."""

    def __init__(
        self, number: int, first: str, last: str, error: BaseException, written: int, batches: int
    ):
        self.number, self.first, self.last, self.error = number, first, last, error
        self.written, self.batches = written, batches
        why = printable(str(error))
        if isinstance(error, ImpactNotAcknowledged):  # say how a load acknowledges it
            why = f"{why.split('; acknowledge')[0]}; load with --accept-impact to go ahead"
        super().__init__(f"the store refused batch {number} (rows {first} .. {last}): {why}")


class BatchWriter:
    """Collects accepted rows into batches of about `size` elements and writes them."""

    def __init__(
        self,
        store: GraphStore,
        size: int = 5000,
        *,
        actor: str = "loader",
        reason: str = "load",
        workers: int = 1,
        journal: Journal | None = None,
        ack: Acknowledgement | None = None,
    ):
        self.store = store
        self.journal = journal
        #: what the load acknowledges of the riders its status changes take down (None: no check)
        self.ack = ack
        self.size = max(1, size)
        self.actor = actor
        self.reason = reason
        self.result = UpsertResult()
        self.written = 0
        self.batches = 0
        self._batch = _Batch(1)
        self._failed: tuple[_Batch, BaseException] | None = None
        self._workers = max(1, workers)
        self._pool = ThreadPoolExecutor(self._workers, "pboss-load") if self._workers > 1 else None
        self._in_flight: dict[Future[Outcome], _Batch] = {}

    def add(self, row: SpooledRow) -> None:
        """Append one accepted row (its `where`, file:line, names the batch in errors)."""
        self._raise_if_failed()
        b = self._batch
        b.first = b.first or row.where
        b.last = row.where
        b.new_nodes += row.new_nodes
        b.nodes += row.nodes
        for r in row.new_edges:  # the same edge twice: the later row wins
            key = (r.type, r.src, r.dst)
            b.new_edges.pop(key, None)
            b.new_edges[key] = r
        for e in row.edges:
            b.edges.pop(e.key, None)
            b.edges[e.key] = e
        if b.size >= self.size:
            self.flush()

    def flush(self) -> None:
        """Send the current batch to the store (or to a worker, once what it needs is written)."""
        b = self._batch
        if not b.size:
            return
        self._batch = _Batch(b.number + 1)
        if self._pool is None:
            self._done(b, self._write(b))
        else:
            self._wait_for(self._needed_by(b))
            while len(self._in_flight) >= self._workers:
                self._wait_for(set(self._in_flight), first=True)
            if self._failed is None:
                self._in_flight[self._pool.submit(self._write, b)] = b
        self._raise_if_failed()

    def close(self) -> UpsertResult:
        """Write what is left, wait for every batch, and return the summed counts."""
        try:
            if self._failed is None:
                self.flush()
        finally:
            self._wait_for(set(self._in_flight))
            if self._pool is not None:
                self._pool.shutdown()
        self._raise_if_failed()
        return self.result

    def abort(self) -> None:
        """Stop: drop the batch being filled, wait for those in flight, release the threads."""
        self._batch = _Batch(self._batch.number)
        try:
            self._wait_for(set(self._in_flight))
        finally:
            if self._pool is not None:
                self._pool.shutdown()

    def _needed_by(self, b: _Batch) -> set[Future[Outcome]]:
        """The in-flight batches `b` must wait for (see the module docstring)."""
        if b.independent:
            return set()
        keys, sections = b.edge_keys(), b.sections()
        return {
            f
            for f, other in self._in_flight.items()
            if other.writes_nodes
            or not keys.isdisjoint(other.edge_keys())
            or not sections.isdisjoint(other.sections())
        }

    def _wait_for(self, futures: set[Future[Outcome]], first: bool = False) -> None:
        """Wait for all (or, with `first`, one) of the futures and account for them."""
        if not futures:
            return
        done, _ = wait(futures, return_when=FIRST_COMPLETED if first else ALL_COMPLETED)
        for f in done:
            self._done(self._in_flight.pop(f), f.result())

    def _write(self, b: _Batch) -> Outcome:
        """Write one batch; a failure is returned, not raised, to be reported with its place."""
        try:
            return b.write(self.store, self.actor, self.reason, self.journal, self.ack)
        except Exception as exc:
            return exc

    def _done(self, b: _Batch, outcome: Outcome) -> None:
        """Count a written batch, or remember the earliest failed one."""
        if isinstance(outcome, BaseException):
            if self._failed is None or b.number < self._failed[0].number:
                self._failed = (b, outcome)
            return
        self.result = self.result + outcome
        self.written += b.size
        self.batches += 1

    def _raise_if_failed(self) -> None:
        """Raise a LoadError saying which batch the store refused and how much was written."""
        if self._failed is None:
            return
        self._wait_for(set(self._in_flight))
        b, error = self._failed
        raise BatchRefused(b.number, b.first, b.last, error, self.written, self.batches) from error
