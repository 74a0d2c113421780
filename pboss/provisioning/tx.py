"""The port between provisioning steps and a store: a small transaction interface.

Every step (hold, confirm, release, ...) is written once against `ProvisioningTx`, and each store
provides an adapter: `memory_backend.py` (networkx, under the store's lock) and `neo4j_backend.py`
(Cypher in one managed write transaction). Rules every step follows, so both behave the same:

- lock before reading what you decide on: the order first, then the reservation or work order,
  then resources in sorted-id order (`lock` sorts), so two transactions never wait on each other
  in a cycle;
- read everything, then write: no read after the first write (the memory adapter enforces it);
- a step may run more than once (the Neo4j driver retries transient errors): it must not act on
  the world outside the transaction; the service emits CRM events after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from pboss.inventory.model import Edge, Element
from pboss.provisioning.allocate import Facts

T = TypeVar("T")
Direction = Literal["out", "in"]


class ProvisioningTx(Protocol):
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

    def put(self, element: Element, *, new: bool = False) -> None:
        """Write a node (create it, or replace its properties); `new` insists it does not exist."""
        ...

    def link(self, edge: Edge) -> None:
        """Create (or update) an edge between existing nodes."""
        ...

    def unlink(self, edge_type: str, src: str, dst: str) -> None:
        """Delete an edge."""
        ...


class ProvisioningBackend(Protocol):
    """A store's provisioning adapter: runs steps atomically and answers the sweeper's queries."""

    def run(self, work: Callable[[ProvisioningTx], T]) -> T:
        """Run `work` in one write transaction; all of it commits or none (it may run again)."""
        ...

    def due_reservations(self, now: datetime, limit: int) -> list[str]:
        """Ids of holds still `held` whose validity ended at or before `now`, oldest first."""
        ...

    def open_work_orders(self, limit: int) -> list[str]:
        """Ids of work orders not yet done, failed or cancelled, oldest due first."""
        ...


class AlreadyExists(Exception):
    """A step tried to create a node whose id another transaction created meanwhile."""

    def __init__(self, element_id: str):
        self.element_id = element_id
        super().__init__(f"{element_id!r} already exists")
