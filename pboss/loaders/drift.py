"""Drift: what the store holds, within what a feed covers, that the feed no longer mentions.

The scope is the (kind, owner) pairs of the feed's nodes, so a partner's circuit list only speaks
for that partner's links, and a self-built export only for the kinds it contains. Edges drift when
they leave a node the feed defines, with a type the feed carries, and the feed lacks them. Nothing
is deleted unless pruning is asked for; edges cannot be pruned (the store port has no edge delete).

Every drifted node is checked for riders (the services, and their customers, that depend on it:
the store's riders query, asked of chunks and split only where riders are, so a drift without
riders costs one query per chunk). The report names them, and pruning never removes a node with
riders unless told to (`--prune-with-riders`); even then only what the store can delete without
cascading: riders that are themselves drifted go first, others keep the node.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pboss.inventory.errors import HasDependants, NotFound
from pboss.inventory.results import RiderFields, Riders
from pboss.inventory.store import GraphStore
from pboss.loaders.chunks import batched
from pboss.loaders.index import edge_digest
from pboss.loaders.native import node_kinds_in_order
from pboss.loaders.validate import Validation

_EXAMPLES = 20
_DELETE_CHUNK = 1000
_CHUNK = 5000
#: drifted ids asked about at once when looking for riders; chunks with riders are halved down to
#: this size, then asked one id at a time
_RIDER_CHUNK = 500
_RIDER_SPLIT_BELOW = 8
_RIDER_LINES = 50
#: riders listed per drifted element (the totals count them all)
RIDERS_SHOWN = 20
_RIDER_FIELDS = RiderFields(
    service=frozenset({"id", "product"}),
    customer=frozenset({"id", "name", "sla_tier"}),
)


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
    #: drifted node id -> the services and customers riding it (only nodes that have riders)
    riders: dict[str, Riders] = field(default_factory=dict)

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
        if self.riders:
            lines.append(f"  carrying live services (--prune keeps them): {len(self.riders)}")
            shown = sorted(self.riders.items())[:_RIDER_LINES]
            lines += [f"    {rider_line(i, r)}" for i, r in shown]
            if len(self.riders) > _RIDER_LINES:
                lines.append(f"    ... and {len(self.riders) - _RIDER_LINES} more (all in --json)")
        if self.statuses:
            lines.append(f"  status set by people, not what the feed says: {len(self.statuses)}")
            lines += [f"    {s}" for s in self.statuses[:_EXAMPLES]]
        return "drift (in the store, in the feed's scope, not in the feed):\n" + "\n".join(lines)


def rider_line(element_id: str, riders: Riders) -> str:
    """`PL-1 carries 1 service(s) of 1 customer(s) (platinum 1): SVC-E1-LL MSTP-LL for E-1 ...`."""
    t = riders.totals
    tiers = ", ".join(f"{k} {v}" for k, v in sorted(t.by_sla_tier.items()))
    shown = "; ".join(
        f"{r.service.id} {getattr(r.service, 'product', '')}"
        + (
            f" for {r.customer.id} {r.customer.name} ({getattr(r.customer, 'sla_tier', '')})"
            if r.customer
            else ""
        )
        for r in riders.items
    )
    more = ", ..." if t.services > len(riders.items) else ""
    return (
        f"{element_id} carries {t.services} service(s) of {t.customers} customer(s)"
        f"{f' ({tiers})' if tiers else ''}: {shown}{more}"
    )


def riders_dict(riders: Riders) -> dict[str, Any]:
    """One element's riders as JSON-ready data (totals and the listed services)."""
    t = riders.totals
    return {
        "services": t.services,
        "customers": t.customers,
        "by_sla_tier": t.by_sla_tier,
        "listed": [
            {
                "service": r.service.id,
                "product": getattr(r.service, "product", None),
                "customer": r.customer.id if r.customer else None,
                "sla_tier": getattr(r.customer, "sla_tier", None) if r.customer else None,
            }
            for r in riders.items
        ],
    }


def find_riders(store: GraphStore, ids: list[str]) -> dict[str, Riders]:
    """The riders of each of `ids` that has any, by the store's riders query: chunks first, a
    chunk with riders halved until small, then one id at a time (see the module doc)."""
    found: dict[str, Riders] = {}
    pending = [list(c) for c in batched(ids, _RIDER_CHUNK)]
    while pending:
        chunk = pending.pop()
        if len(chunk) == 1:
            one = store.riders(chunk, first=RIDERS_SHOWN, fields=_RIDER_FIELDS)
            if one.totals.services:
                found[chunk[0]] = one
            continue
        if not store.riders(chunk, first=1, fields=_RIDER_FIELDS).totals.services:
            continue
        if len(chunk) <= _RIDER_SPLIT_BELOW:
            pending += [[i] for i in chunk]
        else:
            half = len(chunk) // 2
            pending += [chunk[:half], chunk[half:]]
    return dict(sorted(found.items()))


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
    drift.riders = find_riders(store, [i for ids in drift.node_ids.values() for i in ids])
    return drift


def prune(
    store: GraphStore, drift: Drift, actor: str, *, with_riders: bool = False
) -> tuple[list[str], list[str]]:
    """Delete drifted nodes, dependants first; returns (deleted, kept). Kept: nodes others need,
    and, unless `with_riders`, every node with riders (services depend on it)."""
    order = node_kinds_in_order()
    kinds = sorted(drift.node_ids, key=lambda k: -order.index(k) if k in order else 0)
    deleted: list[str] = []
    kept: list[str] = []
    for kind in kinds:
        ids = drift.node_ids[kind]
        if not with_riders:
            kept += [i for i in ids if i in drift.riders]
            ids = [i for i in ids if i not in drift.riders]
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
