"""Pass 1's map of who uses each port, so a feed that gives an exclusive port (a splitter output,
an NE port: `transaction.BUSY_BY`) a second user, or takes one the store gives a user or a
reservation holds, is refused at its file:line before anything is written.

The stores check the same rule on every write (`rules.port_clashes`), and pass 2 sends the edges
that take such a port through `upsert`, which re-checks under the port's lock, so a port taken
between the passes (say by a reservation) refuses that batch instead of being used twice.

Memory: one entry per edge of a port-taking type in the feed and, when the store is not empty,
in the store (read once, on the first edge that takes an exclusive port), in a `SpillMap`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pboss.inventory.rules import PORT_EDGE_TYPES
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import BUSY_BY
from pboss.loaders.records import EdgeFacts
from pboss.loaders.spill import SpillMap

_SEP = "\t"


def takes_port(edge_type: str, dst_kind: str) -> bool:
    """True when an edge of this type makes a node of this kind busy (it may have one such)."""
    return edge_type in BUSY_BY.get(dst_kind, ())


class PortUsers:
    """Port id -> the (edge type, source) using it, from the store and the rows accepted so far."""

    def __init__(self, store: GraphStore, *, store_empty: bool, spill_at: int | None = None):
        self.store = store
        self.users: SpillMap[str, str] = SpillMap("TEXT", "TEXT", spill_at=spill_at)
        self._store_read = store_empty  # an empty store has no users to read

    def prefetch(self, edges: Iterable[EdgeFacts]) -> None:
        """Start reading from disk the entries of the targets of these edges that may take a
        port (nothing until the map spills); the validator waits for and settles the map with
        its other indexes."""
        if self.users.spilled:
            self.users.prefetch(e.dst for e in edges if e.type in PORT_EDGE_TYPES)

    def clash(self, edge: EdgeFacts, dst_kind: str) -> str | None:
        """Why this edge may not take its target (used or held by another), or None."""
        if not takes_port(edge.type, dst_kind):
            return None
        self._read_store()
        user = self.users.get(edge.dst)
        if user is None:
            return None
        user_type, user_src = user.split(_SEP, 1)
        if (user_type, user_src) == (edge.type, edge.src):
            return None  # the same edge again
        how = "held" if user_type == "HOLDS" else "used"
        return (
            f"{dst_kind} {edge.dst!r} already {how} by {user_src!r} ({user_type}) in the feed or "
            f"the store, not free for {edge.src!r} ({edge.type})"
        )

    def take(self, edge: EdgeFacts) -> None:
        """Record an accepted edge's use of its target (a kind that is not exclusive is never
        asked about, so it is recorded whatever the target is)."""
        if edge.type in PORT_EDGE_TYPES:
            self.users.recent[edge.dst] = f"{edge.type}{_SEP}{edge.src}"

    def _read_store(self) -> None:
        """Add the store's port-taking edges, once (the feed's accepted rows keep theirs)."""
        if self._store_read:
            return
        self._store_read = True
        for edge_type in sorted(PORT_EDGE_TYPES):
            for src, dst, _ in self.store.scan_edges(edge_type, ordered=False, props=False):
                self.users.recent.setdefault(dst, f"{edge_type}{_SEP}{src}")
                self.users.settle()
