"""The GraphStore port: the small, domain-shaped protocol every store implements.

One method per use case, so that on Neo4j each is one round trip. `MemoryStore` (networkx) and
`Neo4jStore` implement it and pass the same contract tests (tests/contract/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from pboss.inventory.dependants import Dependant
from pboss.inventory.edges import EdgeChanges, EdgeMove
from pboss.inventory.events import EventFilter, StoredEvent
from pboss.inventory.impact import Acknowledgement
from pboss.inventory.listeners import DeadLetter, DeadLetterState, DeliveryReport, Listener
from pboss.inventory.model import EDGE_RULES, KINDS, Edge, Element
from pboss.inventory.reports import TakeUpRow, UtilisationRow
from pboss.inventory.results import (
    ChangeRecord,
    FindQuery,
    Page,
    RiderFields,
    Riders,
    SiteView,
    SlotUse,
    Trace,
    TransportLink,
    UpsertResult,
)
from pboss.inventory.rows import EdgeRow, NodeRow
from pboss.inventory.transaction import Direction, GraphTx
from pboss.inventory.undo import EdgeKey, Snapshot, Undo

T = TypeVar("T")


def known_kind(kind: str) -> str:
    """A kind name, only if the model defines it (so it may become a Cypher label)."""
    if kind not in KINDS or not kind.isidentifier():
        raise ValueError(f"unknown kind {kind!r}")
    return kind


def known_edge_type(edge_type: str) -> str:
    """An edge type name, only if the model defines it (so it may become a Cypher type)."""
    if edge_type not in EDGE_RULES or not edge_type.isidentifier():
        raise ValueError(f"unknown edge type {edge_type!r}")
    return edge_type


@runtime_checkable
class GraphStore(Protocol):
    """The system of record for the resource graph."""

    name: str

    def upsert(
        self,
        nodes: Sequence[Element],
        edges: Sequence[Edge] = (),
        *,
        actor: str = "system",
        reason: str = "upsert",
        ack: Acknowledgement | None = None,
    ) -> UpsertResult:
        """Create or update nodes and edges, idempotent by id; the whole batch or nothing.

        With `ack`, a status change to a state that needs it (`impact.NEEDS_ACK`) is refused
        (ImpactNotAcknowledged) unless `ack` covers the riders it affects, counted in the same
        write transaction."""
        ...

    def insert_new(self, nodes: Sequence[NodeRow], edges: Sequence[EdgeRow] = ()) -> UpsertResult:
        """The bulk path of a validated load: create `nodes`, none of which may exist yet, and
        `edges` leaving new nodes (no VC-12 slot edges: those go through `upsert`).

        The rows are trusted to be valid (model, catalog, feed-wide checks: see
        `pboss.inventory.rows`); the store checks only what may have changed since: an id taken,
        an edge end gone, a single upstream taken. Any of these refuses the whole call
        (ValidationFailed, nothing written). An edge given again updates it, as in `upsert`.
        """
        ...

    def get(self, element_id: str) -> Element | None:
        """One element by id, or None."""
        ...

    def get_many(self, element_ids: Sequence[str]) -> dict[str, Element]:
        """Elements by id in one call (missing ids are absent from the result)."""
        ...

    def find(self, query: FindQuery) -> Page[Element]:
        """Elements filtered by kind, site, owner, status and text, paged by id, with a total."""
        ...

    def neighbours(
        self, element_id: str, direction: Direction = "out", types: Sequence[str] | None = None
    ) -> list[tuple[Edge, Element]]:
        """The edges of one element in one direction, with the element at the other end."""
        ...

    def neighbours_many(
        self,
        element_ids: Sequence[str],
        direction: Direction = "out",
        types: Sequence[str] | None = None,
    ) -> dict[str, list[tuple[Edge, Element]]]:
        """`neighbours` of many elements in one call (a page's `dependants`): each id's answer
        as `neighbours` gives it; ids of no element are absent."""
        ...

    def dependants(self, element_ids: Sequence[str]) -> list[Dependant]:
        """The tree of what depends on these resources over the failure edges, as light rows:
        each dependant once, under the smallest id among its nearest parents (`dependants.py`);
        unknown ids have none."""
        ...

    def trace(self, element_id: str) -> Trace:
        """Top-down: the ordered dependency chain of a service, circuit or any resource."""
        ...

    def riders(
        self,
        element_ids: Sequence[str],
        *,
        first: int = 50,
        after: str | None = None,
        fields: RiderFields | None = None,
    ) -> Riders:
        """Bottom-up: the services (and customers) that depend on any of these, de-duplicated.

        With `fields`, the page's elements need carry only those properties (see `RiderFields`);
        a store may still return whole elements."""
        ...

    def set_status(
        self,
        element_id: str,
        status: str,
        *,
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
    ) -> ChangeRecord | None:
        """Change one status through the lifecycle table, recorded; None when unchanged. With
        `ack`, as `upsert`: a change to a state in `impact.NEEDS_ACK` must cover its riders."""
        ...

    def history(
        self, element_id: str | None = None, *, actor: str | None = None, limit: int = 100
    ) -> list[ChangeRecord]:
        """Status changes, newest first, for one element or all, optionally by one actor."""
        ...

    def history_many(
        self, element_ids: Sequence[str], *, limit: int = 100
    ) -> dict[str, list[ChangeRecord]]:
        """`history` of many elements in one call (a page's `history`): each id's newest `limit`
        records as `history(id, limit=limit)` gives them (an empty list when it has none)."""
        ...

    def delete(
        self,
        element_ids: Sequence[str],
        *,
        cascade: bool = False,
        actor: str = "system",
        ack: Acknowledgement | None = None,
    ) -> list[str]:
        """Delete elements; refuse (HasDependants) if others depend on them unless cascading, and
        always while a reservation holds any of them. With `ack`, refuse
        (ImpactNotAcknowledged) unless it covers the riders of the elements deleted."""
        ...

    def change_edges(
        self,
        removals: Sequence[EdgeKey] = (),
        moves: Sequence[EdgeMove] = (),
        *,
        actor: str,
        reason: str,
        ack: Acknowledgement | None = None,
    ) -> EdgeChanges:
        """Delete edges (type, src, dst) and re-point others (`EdgeMove`), all in one write
        transaction or nothing (see `pboss.inventory.edges`): the nodes whose edges change are
        write-locked in sorted-id order first, then the change must pass the model's rules as it
        leaves the graph (one upstream each, an exclusive port one user: PortInUse names it);
        NotFound (EdgeNotFound for an edge) when something named is missing. A re-point is one
        atomic change: no reader sees the edge's source without it. History is entered at every
        end (edge removed; edge moved with before/after). With `ack`, the riders of the sources
        of failure edges removed or moved must be acknowledged (ImpactNotAcknowledged)."""
        ...

    def site_view(self, site_id: str) -> SiteView:
        """Splitters, partner pools, NEs and ports at a site with chain health and load."""
        ...

    def transport_links(self) -> list[TransportLink]:
        """Every trunk section and partner link with its end NEs and the VC-12 slots in use."""
        ...

    def slot_use(self, element_ids: Sequence[str]) -> dict[str, SlotUse]:
        """The VC-12 slots circuits carry and holds keep on each of these trunk sections and
        partner links, in one call (ids of other kinds or missing are absent)."""
        ...

    def counts(self) -> dict[str, int]:
        """Number of nodes of each kind, and of edges of each type (prefixed `edge:`)."""
        ...

    def transact(self, work: Callable[[GraphTx], T], *, actor: str, reason: str) -> T:
        """Run `work` in one write transaction: all its writes commit or none; it may run more
        than once (transient errors are retried), so it must not act outside the transaction. At
        commit, the writes pass the same model rules as `upsert` (`rules.plan_batch`): an invalid
        node or edge refuses the whole transaction with ValidationFailed, on every store. Status
        changes are recorded in history with `actor` and `reason` as upsert records them. A write
        that contradicts what is stored (an id taken by another kind) raises TxConflict."""
        ...

    def events_after(
        self,
        after: int,
        *,
        types: Sequence[str] | None = None,
        first: int = 50,
        where: EventFilter | None = None,
    ) -> list[StoredEvent]:
        """The committed events (`GraphTx.emit`) numbered after `after`, oldest first, of these
        types (every type when None) that pass `where`, at most `first`
        (1..`events.MAX_EVENTS_PAGE`; ValueError otherwise). Sequence numbers grow in commit
        order, so resuming from the last one seen returns exactly the events committed since."""
        ...

    def latest_events(self, event_type: str, subjects: Sequence[str]) -> dict[str, StoredEvent]:
        """The newest event of this type about each of these subjects that has one (what was
        last published about a business resource package)."""
        ...

    def last_event_seq(self) -> int:
        """The newest event's sequence number (0 when the log is empty): one cheap read that
        deliverers in other processes poll."""
        ...

    def watch_events(self, watcher: Callable[[int], None]) -> Callable[[], None]:
        """Call `watcher(last_seq)` in this process after each commit that added events (0 when
        the store does not know the number); returns a function that stops the calls. Watchers
        must be quick and must not raise (a failure is logged, never the writer's)."""
        ...

    # ---- the event hub's records (`pboss.inventory.listeners`) ---------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Register a listener (AlreadyExists when its id is taken)."""
        ...

    def get_listener(self, listener_id: str) -> Listener | None:
        """One listener, or None."""
        ...

    def list_listeners(self) -> list[Listener]:
        """Every listener, by id."""
        ...

    def remove_listener(self, listener_id: str) -> bool:
        """Unregister a listener and drop its dead letters; False when there was none."""
        ...

    def claim_listeners(
        self, owner: str, *, now: datetime, until: datetime, limit: int
    ) -> list[Listener]:
        """Take or renew the lease, until `until`, of up to `limit` active listeners whose lease
        is free, expired (at or before `now`) or already `owner`'s; returns those now held, by
        id. Atomic per listener: two claimers never both hold one."""
        ...

    def record_delivery(self, listener_id: str, owner: str, report: DeliveryReport) -> bool:
        """While `owner` still holds the listener's lease: move its cursor forward to
        `report.cursor` (never back), renew the lease, add the counts and keep the dead letters,
        all at once. False, writing nothing, when the lease was lost (another owner claimed it,
        or it was released) or the listener is gone. The owner is checked, not the clock: a
        lease that expired with nobody taking it over is still the holder's to record on."""
        ...

    def release_listener(self, listener_id: str, owner: str) -> None:
        """Give up `owner`'s lease on a listener (nothing when it holds none)."""
        ...

    def dead_letters(
        self,
        *,
        listener: str | None = None,
        states: Sequence[DeadLetterState] | None = None,
        first: int = 100,
    ) -> list[DeadLetter]:
        """Dead letters, of one listener or all, in these states (any when None), by
        (listener, seq), at most `first` (1..`listeners.MAX_DEAD_LETTERS_PAGE`; ValueError
        otherwise)."""
        ...

    def set_dead_letters(
        self, ids: Sequence[str], state: DeadLetterState, *, reason: str | None = None
    ) -> list[DeadLetter]:
        """Move these dead letters to `state` (counting a replay when it is `replay`, and
        replacing the reason when one is given), all or none: returns those that exist, in the
        order named (an id named twice counts once), as they now are; when one is missing,
        none changed and fewer come back."""
        ...

    def due_ids(
        self,
        kind: str,
        *,
        states: Sequence[str],
        time_field: str,
        until: datetime | None,
        limit: int,
    ) -> list[str]:
        """Ids of nodes of `kind` whose `state` property is in `states` and, when `until` is
        given, whose `time_field` is at or before it; ordered by (`time_field`, id); at most
        `limit`. (The sweeper's queries: lapsed holds, open work orders.)"""
        ...

    def utilisation(self, kind: str, site: str | None = None) -> list[UtilisationRow]:
        """Every OLT, PON port, splitter, trunk section, partner link or partner pool (`kind`),
        at one site or all, with capacity, used and held by the occupancy rules, by id; one
        aggregate read (`pboss.inventory.reports`). A kind it does not report on: ValueError."""
        ...

    def take_up(self) -> list[TakeUpRow]:
        """Every building and estate with households passed or connected: households against
        ONTs in service there, by site id; one aggregate read."""
        ...

    def records(
        self, kind: str, *, time_field: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        """Stored properties of the records of `kind` whose `time_field` is in [since, until),
        ordered by that time then id (work orders and tickets for KPIs); one read."""
        ...

    def scan_nodes(self, kind: str) -> Iterator[dict[str, Any]]:
        """Flat stored properties of every node of a kind (no `_`-prefixed keys, Python values),
        ordered by id, streamed."""
        ...

    def scan_ids(self, kind: str, owner: str) -> Iterator[str]:
        """Ids of every node of a kind with this owner, ordered."""
        ...

    def scan_edges(
        self, edge_type: str, *, ordered: bool = True, props: bool = True
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(src, dst, properties) of every edge of a type, by src then dst when `ordered`,
        without properties (an empty dict) unless `props`."""
        ...

    def snapshot(self, node_ids: Sequence[str], edge_keys: Sequence[EdgeKey]) -> Snapshot:
        """The stored properties (`_` keys included) of those of these nodes and edges that
        exist, read before a load's batch so that it can be undone (`restore`)."""
        ...

    def restore(self, undo: Undo) -> None:
        """Put back what one write changed (see `pboss.inventory.undo`), in one transaction and
        without validation: created edges and nodes deleted, prior properties set again, the
        write's history records removed. HasDependants (nothing changed) when a reservation
        made since holds a node to delete."""
        ...

    def clear(self) -> None:
        """Remove everything (tests and demos)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
