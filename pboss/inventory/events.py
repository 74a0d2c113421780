"""Durable events: the transactional outbox every store keeps beside the resource graph.

A unit of work emits events (`GraphTx.emit`) inside the transaction that makes the change they
report; the store numbers them at commit (`seq`, gap-free and in commit order per store) and keeps
them with the change, so an event exists exactly when its change committed: a rollback writes
none, and a process dying after the commit loses none. Readers page the log by sequence
(`GraphStore.events_after`), which is how CRM resumes after an outage and how a later delivery
worker will know where it stands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from pboss.inventory.timestamps import utc

#: The most events one `events_after` call returns.
MAX_EVENTS_PAGE = 1000


class EventScope(BaseModel):
    """What an event is about beyond its subject, so listeners and partners can filter on it:
    the sites, products and partners (owners of partner resources on the path) it concerns."""

    sites: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)


class NewEvent(EventScope):
    """An event as a unit of work emits it: not yet numbered (the store numbers it at commit)."""

    id: str
    type: str
    at: datetime
    subject: str
    body: dict[str, Any] = Field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The stored form: flat, the time as ISO-8601 UTC, the body as compact JSON and the
        scope as sorted lists of strings."""
        return {
            "id": self.id,
            "type": self.type,
            "at": utc(self.at).isoformat(),
            "subject": self.subject,
            "body": json.dumps(self.body, separators=(",", ":"), sort_keys=True),
            "sites": sorted(set(self.sites)),
            "products": sorted(set(self.products)),
            "partners": sorted(set(self.partners)),
        }


class StoredEvent(EventScope):
    """One committed event: its place in the store's log, what it is, and its TMF-style body."""

    seq: int
    id: str
    type: str
    at: datetime
    subject: str
    body: dict[str, Any]

    @classmethod
    def from_row(cls, seq: int, row: dict[str, Any]) -> StoredEvent:
        """Rebuild an event from its stored form (`NewEvent.row`) and sequence number."""
        return cls(
            seq=seq,
            id=row["id"],
            type=row["type"],
            at=datetime.fromisoformat(row["at"]),
            subject=row["subject"],
            body=json.loads(row["body"]),
            sites=list(row.get("sites") or ()),
            products=list(row.get("products") or ()),
            partners=list(row.get("partners") or ()),
        )


class Scoped(Protocol):
    """What a filter reads of an event (a NewEvent, a StoredEvent, a store's packed row)."""

    @property
    def type(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def sites(self) -> Sequence[str]: ...
    @property
    def products(self) -> Sequence[str]: ...
    @property
    def partners(self) -> Sequence[str]: ...


class EventFilter(BaseModel):
    """Which events a reader or a listener wants; every given criterion must match (None: any).

    `types`, `subjects`: the event's own; `sites`, `products`: the event names one of them in
    its scope; `partner`: the event concerns this partner (how a partner's view is bounded)."""

    types: list[str] | None = None
    subjects: list[str] | None = None
    sites: list[str] | None = None
    products: list[str] | None = None
    partner: str | None = None

    def matches(self, event: Scoped) -> bool:
        """True when the event passes every criterion (what the stores' queries compute)."""
        return (
            (self.types is None or event.type in self.types)
            and (self.subjects is None or event.subject in self.subjects)
            and (self.sites is None or not set(self.sites).isdisjoint(event.sites))
            and (self.products is None or not set(self.products).isdisjoint(event.products))
            and (self.partner is None or self.partner in event.partners)
        )

    def params(self) -> dict[str, Any]:
        """The filter as query parameters: each criterion a sorted list, or None for any."""
        lists = {
            "types": self.types,
            "subjects": self.subjects,
            "sites": self.sites,
            "products": self.products,
        }
        out: dict[str, Any] = {k: None if v is None else sorted(set(v)) for k, v in lists.items()}
        out["partner"] = self.partner
        return out


def check_page(
    after: int, first: int, types: Sequence[str] | None, where: EventFilter | None = None
) -> EventFilter:
    """Validate `events_after`'s arguments (ValueError with the reason) and return the one
    filter they make (`types` narrows `where.types`)."""
    if after < 0:
        raise ValueError(f"after must be 0 or more, got {after}")
    if not 1 <= first <= MAX_EVENTS_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_EVENTS_PAGE}, got {first}")
    where = where or EventFilter()
    if types is not None:
        wanted = set(types) if where.types is None else set(types) & set(where.types)
        where = where.model_copy(update={"types": sorted(wanted)})
    return where
