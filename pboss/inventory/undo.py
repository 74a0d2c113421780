"""Undoing a write: what a store held before it (a snapshot) and what putting it back takes.

A long load writes in many transactions; if one fails, the loader puts the store back as it was
(`pboss.loaders.journal`). Before each batch it asks the store for a `Snapshot` of the nodes and
edges that batch may update; after the batch it records an `Undo`: the nodes and edges the batch
created (to delete), the prior properties of those it changed (to restore exactly, internal `_`
keys included) and which history records it left (to remove). `GraphStore.restore` applies one
`Undo` in one transaction, without validation or lifecycle checks: it returns to a state the
store held before, not to a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EdgeKey = tuple[str, str, str]


@dataclass
class Snapshot:
    """The stored properties of the given nodes and edges that exist (absent ones are not)."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[EdgeKey, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Undo:
    """What puts the store back as it was before one write (see the module docstring)."""

    created_nodes: list[str] = field(default_factory=list)
    created_edges: list[EdgeKey] = field(default_factory=list)
    prior_nodes: list[dict[str, Any]] = field(default_factory=list)
    prior_edges: list[tuple[EdgeKey, dict[str, Any]]] = field(default_factory=list)
    #: history records the write left: of these elements, by this actor and reason, since then
    history_ids: list[str] = field(default_factory=list)
    actor: str = ""
    reason: str = ""
    since: datetime | None = None

    @property
    def empty(self) -> bool:
        """True when there is nothing to put back."""
        return not (
            self.created_nodes or self.created_edges or self.prior_nodes or self.prior_edges
        )
