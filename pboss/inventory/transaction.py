"""The write-transaction port: what a unit of work (a provisioning step, later a cutover step) may
do inside one store transaction, and what it sees of a resource after locking it.

Every step is written once against `GraphTx`; each store implements it (`memory/transaction.py`,
`neo4j/transaction.py`) and runs it through `GraphStore.transact`. Rules every step follows, so all
stores behave the same:

- lock before reading what you decide on: the order first, then the reservation or work order,
  then resources in sorted-id order (`lock` sorts), so two transactions never wait on each other
  in a cycle;
- read everything, then write: no read after the first write (the memory store enforces it);
- a unit of work may run more than once (the Neo4j driver retries transient errors): it must not
  act on the world outside the transaction; callers act (e.g. notify CRM) after the commit.
  What the outside world must hear of the change is emitted as events (`emit`), which commit
  with the writes (a transactional outbox, `pboss.inventory.events`).

At commit, the writes pass the model's rules (`pboss.inventory.rules.plan_batch`), as `upsert`'s
do: an invalid node or edge refuses the whole transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from pboss.inventory.events import NewEvent
from pboss.inventory.model import Edge, Element

Direction = Literal["out", "in"]

#: Incoming edge types that make an exclusive resource busy (as `site_view` counts them).
BUSY_BY: dict[str, frozenset[str]] = {
    "SplitterPort": frozenset({"FED_BY", "HOLDS"}),
    "Port": frozenset({"A_END", "Z_END", "TERMINATES", "HOLDS"}),
}


class Facts(BaseModel):
    """What a transaction saw of one resource after locking it: the node and its occupancy."""

    element: Element
    incoming: list[str] = Field(default_factory=list)
    used_slots: list[int] = Field(default_factory=list)
    load: int | None = None

    @property
    def id(self) -> str:
        """The resource's id."""
        return self.element.id

    @property
    def kind(self) -> str:
        """The resource's kind."""
        return self.element.kind

    @property
    def status(self) -> str:
        """The resource's lifecycle status."""
        return str(self.element.status)

    @property
    def busy(self) -> bool:
        """True when an exclusive resource is already taken or held."""
        return bool(set(self.incoming) & BUSY_BY.get(self.kind, frozenset()))

    @property
    def budget(self) -> int:
        """A PON port's split budget."""
        return int(getattr(self.element, "max_split", 0))

    @property
    def pool_free(self) -> int:
        """Free units of a partner pool."""
        el = self.element
        return int(getattr(el, "total", 0) - getattr(el, "used", 0) - getattr(el, "reserved", 0))

    @property
    def free_slots(self) -> list[int]:
        """VC-12 slots of a section nobody uses or holds, in order."""
        taken = set(self.used_slots)
        capacity = int(getattr(self.element, "capacity_vc12", 0))
        return [s for s in range(1, capacity + 1) if s not in taken]


class GraphTx(Protocol):
    """One write transaction on the resource graph."""

    def lock(self, ids: Iterable[str]) -> dict[str, Element]:
        """Write-lock these nodes in sorted-id order and return them (missing ids are absent)."""
        ...

    def peek(self, ids: Iterable[str]) -> dict[str, Element]:
        """Read nodes unlocked: only for facts that never change (a reservation's order)."""
        ...

    def claim(
        self, ids: Sequence[str], *, lead: Sequence[str] = ()
    ) -> tuple[dict[str, Element], dict[str, Facts]]:
        """Lock `lead` (in its order: e.g. the order), then resources in sorted-id order, in one
        go; return the lead nodes, and what each resource is and how occupied it is."""
        ...

    def linked(
        self, element_id: str, edge_type: str, direction: Direction
    ) -> list[tuple[Edge, Element]]:
        """The edges of one type at a node, with the node at the other end, sorted by its id."""
        ...

    def linked_many(
        self, element_ids: Sequence[str], edge_type: str, direction: Direction
    ) -> dict[str, list[tuple[Edge, Element]]]:
        """`linked` of several nodes in one read: each id asked for, with its edges (maybe none)."""
        ...

    def put(self, element: Element, *, new: bool = False) -> None:
        """Write a node: with `new`, create it (AlreadyExists if its id is taken); without, replace
        the properties of the node of that id and kind (TxConflict if there is none)."""
        ...

    def link(self, edge: Edge) -> None:
        """Create (or update) an edge between existing nodes."""
        ...

    def unlink(self, edge_type: str, src: str, dst: str) -> None:
        """Delete an edge."""
        ...

    def repoint(self, edge: Edge, *, src: str | None = None, dst: str | None = None) -> Edge:
        """Move an edge this transaction read (`linked`) to a new source and/or target, keeping
        its properties; returns the edge as it will be. At commit the old edge is deleted and
        the new one created in the one validated write, so a single upstream moves without a
        moment with none (or two); history enters it as moved at every end. EdgeNotFound at
        commit when the edge is no longer stored."""
        ...

    def emit(self, event: NewEvent) -> None:
        """Record an event about this transaction's change (`pboss.inventory.events`): it is
        numbered and stored at commit, with the writes, and never if the transaction rolls back."""
        ...


class AlreadyExists(Exception):
    """A unit of work tried to create a node whose id another transaction created meanwhile."""

    def __init__(self, element_id: str):
        self.element_id = element_id
        super().__init__(f"{element_id!r} already exists")
