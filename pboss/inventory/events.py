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
from typing import Any

from pydantic import BaseModel, Field

from pboss.inventory.timestamps import utc

#: The most events one `events_after` call returns.
MAX_EVENTS_PAGE = 1000


class NewEvent(BaseModel):
    """An event as a unit of work emits it: not yet numbered (the store numbers it at commit)."""

    id: str
    type: str
    at: datetime
    subject: str
    body: dict[str, Any] = Field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The stored form: flat, the time as ISO-8601 UTC and the body as compact JSON."""
        return {
            "id": self.id,
            "type": self.type,
            "at": utc(self.at).isoformat(),
            "subject": self.subject,
            "body": json.dumps(self.body, separators=(",", ":"), sort_keys=True),
        }


class StoredEvent(BaseModel):
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
        )


def check_page(after: int, first: int, types: Sequence[str] | None) -> list[str] | None:
    """Validate `events_after`'s arguments (ValueError with the reason) and return the type
    filter as a list, or None for every type."""
    if after < 0:
        raise ValueError(f"after must be 0 or more, got {after}")
    if not 1 <= first <= MAX_EVENTS_PAGE:
        raise ValueError(f"first must be between 1 and {MAX_EVENTS_PAGE}, got {first}")
    return None if types is None else sorted(set(types))
