"""Drift: what the store holds, within what a feed covers, that the feed no longer mentions.

The scope is the (kind, owner) pairs of the feed's nodes, so a partner's circuit list only speaks
for that partner's links, and a self-built export only for the kinds it contains. Edges drift when
they leave a node the feed defines, with a type the feed carries, and the feed lacks them. Nothing
is deleted unless pruning is asked for; edges cannot be pruned (the store port has no edge delete).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from pboss.inventory.errors import HasDependants, NotFound
from pboss.inventory.store import GraphStore
from pboss.loaders.chunks import batched
from pboss.loaders.index import edge_digest
from pboss.loaders.native import node_kinds_in_order
from pboss.loaders.validate import Validation

_EXAMPLES = 20
_DELETE_CHUNK = 1000
_CHUNK = 5000


@dataclass(frozen=True)
class StatusDisagreement:
    """A feed row whose status differs from one a person set: kept, and reported as drift."""

    element_id: str
    stored: str
    feed: str
    set_by: str
    set_at: datetime
    where: str

    def __str__(self) -> str:
        """One line: what the store keeps, who set it, and what the feed says where."""
        return (
            f"{self.element_id}: keeps {self.stored} (set by {self.set_by} at "
            f"{self.set_at:%Y-%m-%d %H:%M}Z); the feed says {self.feed} ({self.where})"
        )


@dataclass
class Drift:
    """Store elements in the feed's scope that the feed does not mention, and statuses people
    set that the feed disagrees with."""

    node_ids: dict[str, list[str]] = field(default_factory=dict)
    edges_by_type: Counter[str] = field(default_factory=Counter)
    edge_examples: list[str] = field(default_factory=list)
    statuses: list[StatusDisagreement] = field(default_factory=list)

    @property
    def nodes(self) -> int:
        """How many nodes drifted."""
        return sum(len(v) for v in self.node_ids.values())

    @property
    def edges(self) -> int:
        """How many edges drifted."""
        return sum(self.edges_by_type.values())

    def summary(self) -> str:
        """One line per kind and type, with a few example ids."""
        if not self.nodes and not self.edges and not self.statuses:
            return "no drift: the store holds nothing in the feed's scope that the feed lacks"
        lines = []
        for kind, ids in sorted(self.node_ids.items()):
            shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            lines.append(f"  {kind}: {len(ids)} not in the feed ({shown})")
        for etype, n in sorted(self.edges_by_type.items()):
            lines.append(f"  edge {etype}: {n} not in the feed")
        lines += [f"    e.g. {e}" for e in self.edge_examples[:5]]
        if self.statuses:
            lines.append(f"  status set by people, not what the feed says: {len(self.statuses)}")
            lines += [f"    {s}" for s in self.statuses[:_EXAMPLES]]
        return "drift (in the store, in the feed's scope, not in the feed):\n" + "\n".join(lines)


def compute_drift(store: GraphStore, validation: Validation) -> Drift:
    """Scan the store within the feed's scope for nodes and edges the feed does not mention."""
    drift = Drift()
    mentioned, rejected = validation.feed, validation.rejected
    for kind, owner in sorted(validation.scope):
        ids: list[str] = []
        for chunk in batched(store.scan_ids(kind, owner), _CHUNK):
            known = mentioned.present(chunk)  # one query a chunk when the index is on disk
            ids += (i for i in chunk if i not in known and i not in rejected)
        if ids:
            drift.node_ids.setdefault(kind, []).extend(sorted(ids))
    for etype in sorted(validation.edge_types):
        edges = store.scan_edges(etype, ordered=False, props=False)
        for chunk in batched(edges, _CHUNK):
            known = mentioned.present({src for src, _, _ in chunk})
            ours = [(src, dst, edge_digest(etype, src, dst)) for src, dst, _ in chunk]
            in_feed = validation.edge_digests.present([d for src, _, d in ours if src in known])
            for src, dst, digest in ours:
                if src in known and digest not in in_feed:
                    drift.edges_by_type[etype] += 1
                    if len(drift.edge_examples) < _EXAMPLES:
                        drift.edge_examples.append(f"{etype}({src!r} -> {dst!r})")
    return drift


def prune(store: GraphStore, drift: Drift, actor: str) -> tuple[list[str], list[str]]:
    """Delete drifted nodes, dependants first; returns (deleted, kept because others need them)."""
    order = node_kinds_in_order()
    kinds = sorted(drift.node_ids, key=lambda k: -order.index(k) if k in order else 0)
    deleted: list[str] = []
    kept: list[str] = []
    for kind in kinds:
        ids = drift.node_ids[kind]
        for start in range(0, len(ids), _DELETE_CHUNK):
            chunk = ids[start : start + _DELETE_CHUNK]
            try:
                deleted += store.delete(chunk, actor=actor)
            except HasDependants:
                for one in chunk:
                    try:
                        deleted += store.delete([one], actor=actor)
                    except (HasDependants, NotFound):
                        kept.append(one)
    return deleted, kept
