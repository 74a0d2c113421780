"""The impact picture's data: what depends on some resources, as a tree down to the services and
their customers, with counts at every level, totals by product and SLA tier, premium customers
first, in the caller's view.

Why not through `ask`: an OLT carries thousands of riders, and the API pages them by at most 500
(`connections.MAX_PAGE`), each page one riders query that walks the whole closure again (≈ 90 ms
each on the medium network in Neo4j), and the path from the resource to each service is only
reachable through `dependants`, nested once per level (an OLT's tree is 7 levels deep: over
`max_depth`'s 12 selection levels with its fields, and over `max_cost` and `max_response_bytes`
(2 MB) for thousands of elements). So the page makes three store calls, at once: `get_many` and
`riders` (what the `riders`/`impact` resolvers call, here for every rider in one call) and
`dependants` (the tree as light rows in one round trip; `neighbours_many`, what `dependants`
resolves with, took ≈ 10 times as long level by level). It applies the resolvers' masking: an id
the caller may not see is "not found" (as `_riders` answers a partner), every element passes
`permissions.can_see` (as `Context.sees`), a hidden service or customer is shown only as its
product and health (as `build_riders` blanks them), and a partner's customers leave the store
with no property but id and kind (as `rider_fields` asks for a partner).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from pboss.graphql.context import Context
from pboss.graphql.permissions import CAN_SEE_READS, HIDDEN_FROM_PARTNERS, can_see, sees_all
from pboss.inventory import results as r
from pboss.inventory.dependants import Dependant
from pboss.inventory.model import KINDS, Element

#: SLA tiers in the order customers are listed (premium first); "premium" means the first two.
TIER_ORDER = ("platinum", "gold", "standard")
PREMIUM = frozenset(TIER_ORDER[:2])
#: Riders read for one page (the totals always count all of them; beyond this the page says so).
MAX_RIDERS = 50_000
#: Resources one picture may be asked about (as the `impact` query allows).
MAX_RESOURCES = 1000

_SERVICE_FIELDS = frozenset({"product", "status", "owner", "name"})
_CUSTOMER_FIELDS = frozenset({"name", "customer_type", "sla_tier", "owner"})


class UnknownResources(Exception):
    """Some ids name no resource this caller may see (a partner is told the same of what it
    may not see as of what does not exist)."""

    def __init__(self, ids: list[str]):
        super().__init__(", ".join(ids))
        self.ids = ids


@dataclass(frozen=True, slots=True)
class RiderView:
    """One service riding the resources, as the caller may see it: ids, names and the customer
    only when visible (a partner gets the product and the health)."""

    service_id: str | None
    product: str | None
    health: str
    customer_id: str | None
    customer_name: str | None
    customer_type: str | None
    sla_tier: str | None
    #: the visible elements between the tree node it hangs from and the service, top first
    via: tuple[str, ...] = ()

    @property
    def premium(self) -> bool:
        """True for a platinum or gold customer's service."""
        return self.sla_tier in PREMIUM

    def order(self) -> tuple[int, str, str, str]:
        """Premium tiers first, then by customer, then by service."""
        return (
            _tier_rank(self.sla_tier),
            self.customer_name or self.customer_id or "~",
            self.product or "",
            self.service_id or "",
        )


@dataclass(slots=True)
class ImpactNode:
    """A resource with two or more services below it (or one of the resources asked about),
    with what hangs from it: nodes with several services, and riders (a branch carrying a
    single service is folded into that rider's `via`)."""

    id: str
    kind: str
    name: str
    status: str
    owner: str
    depth: int
    services: int = 0
    customers: int = 0
    premium: int = 0
    children: list[ImpactNode] = field(default_factory=list)
    riders: list[RiderView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PremiumCustomer:
    """A platinum or gold customer riding the resources, with its services and their paths."""

    id: str
    name: str
    tier: str
    customer_type: str | None
    services: tuple[RiderView, ...]
    paths: tuple[tuple[str, ...], ...]


@dataclass(slots=True)
class ImpactView:
    """Everything the page and the picture show."""

    resource_ids: list[str]
    roots: list[ImpactNode]
    totals: r.RiderTotals
    premium: list[PremiumCustomer]
    listed: int
    partial: bool
    partner: bool


def _tier_rank(tier: str | None) -> int:
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER)


def _rider_fields(ctx: Context) -> r.RiderFields:
    """What the page reads of riders' services and customers: for a partner only what
    `can_see` needs, and nothing of a customer (as `graphql.network.types.rider_fields`)."""
    if not ctx.principal.is_partner:
        return r.RiderFields(_SERVICE_FIELDS, _CUSTOMER_FIELDS)
    hidden = "Customer" in HIDDEN_FROM_PARTNERS
    customer = frozenset() if hidden else _CUSTOMER_FIELDS | CAN_SEE_READS
    return r.RiderFields(_SERVICE_FIELDS | CAN_SEE_READS, customer)


def _view(ctx: Context, rider: r.Rider) -> RiderView:
    """A rider as the caller may see it."""
    svc, cust = rider.service, rider.customer
    shown = ctx.sees(svc)
    customer = cust if cust is not None and ctx.sees(cust) else None
    return RiderView(
        service_id=svc.id if shown else None,
        product=getattr(svc, "product", None),
        health=rider.health,
        customer_id=customer.id if customer else None,
        customer_name=(getattr(customer, "name", "") or customer.id) if customer else None,
        customer_type=getattr(customer, "customer_type", None) if customer else None,
        sla_tier=getattr(customer, "sla_tier", None) if customer else None,
    )


@dataclass(frozen=True, slots=True)
class _Shown:
    """What the tree shows of a resource (a `Dependant`'s fields, or an asked resource's)."""

    id: str
    kind: str
    name: str
    status: str
    owner: str
    depth: int

    @classmethod
    def of(cls, el: Element) -> _Shown:
        """An element asked about (depth 0)."""
        return cls(el.id, el.kind, el.name, str(el.status), el.owner, 0)


def _sees(ctx: Context, row: _Shown | None) -> bool:
    """`Context.sees` of a tree row: asked once for a role that sees everything or nothing,
    else `can_see` of the element the row stands for (its id, kind and owner, what `can_see`
    reads of a resource)."""
    if row is None:
        return False
    every = sees_all(ctx.principal)
    if every is not None:
        return every
    kind = KINDS.get(row.kind)
    if kind is None:
        return False
    return can_see(ctx.principal, kind.model_construct(id=row.id, owner=row.owner))


async def impact_view(ctx: Context, resource_ids: Sequence[str]) -> ImpactView:
    """The impact of some resources for the context's caller (UnknownResources when an id names
    nothing the caller may see): the resources, their riders and their dependants' tree, read
    at once (three store calls in parallel)."""
    ids = list(dict.fromkeys(resource_ids))
    found = await ctx.call(ctx.store.get_many, ids)
    missing = [i for i in ids if not ctx.sees(found.get(i))]
    if missing:
        raise UnknownResources(missing)
    riders, tree = await asyncio.gather(
        ctx.call(ctx.store.riders, ids, first=MAX_RIDERS, fields=_rider_fields(ctx)),
        ctx.call(ctx.store.dependants, ids),
    )
    return build_view(ctx, ids, riders, tree, found)


def build_view(
    ctx: Context,
    ids: list[str],
    riders: r.Riders,
    tree: list[Dependant],
    found: dict[str, Element],
) -> ImpactView:
    """The view from the riders and the dependants' tree (pure: no store call)."""
    roots = sorted(ids)
    rows: dict[str, _Shown] = {i: _Shown.of(el) for i, el in found.items()}
    parent: dict[str, str] = {}
    for d in tree:
        rows[d.id] = _Shown(d.id, d.kind, d.name, d.status, d.owner, d.depth)
        parent[d.id] = d.parent
    views = {x.service.id: _view(ctx, x) for x in riders.items}
    below: dict[str, list[str]] = defaultdict(list)  # node -> services in its subtree
    kids: dict[str, set[str]] = defaultdict(set)  # node -> children carrying a service
    for sid in views:
        if sid in found:  # a service asked about rides itself
            below[sid].append(sid)
            continue
        node = sid
        while node in parent:
            up = parent[node]
            kids[up].add(node)
            below[up].append(sid)
            node = up
        if node not in found:  # not in the tree (changed between the reads): under the first
            kids[roots[0]].add(node)
            below[roots[0]].append(sid)
            rows.setdefault(node, _Shown(node, "Service", "", "", "self", 1))
    built = [_node(ctx, rid, views, below, kids, rows) for rid in roots]
    return ImpactView(
        resource_ids=roots,
        roots=built,
        totals=riders.totals,
        premium=_premium(ctx, views, parent, rows),
        listed=len(views),
        partial=riders.next_cursor is not None,
        partner=ctx.principal.is_partner,
    )


def _counts(node: ImpactNode, services: list[str], views: dict[str, RiderView]) -> None:
    node.services = len(services)
    customers = {views[s].customer_id for s in services if views[s].customer_id}
    node.customers = len(customers)
    node.premium = len({views[s].customer_id for s in services if views[s].premium})


def _node(
    ctx: Context,
    nid: str,
    views: dict[str, RiderView],
    below: dict[str, list[str]],
    kids: dict[str, set[str]],
    rows: dict[str, _Shown],
) -> ImpactNode:
    """One visible node and what hangs from it, in the caller's view: a child the caller may
    not see is dissolved into this node (its nodes and riders hang from here)."""
    row = rows[nid]
    node = ImpactNode(
        id=nid, kind=row.kind, name=row.name, status=row.status, owner=row.owner, depth=row.depth
    )
    _counts(node, below.get(nid, []), views)
    if nid in views:
        node.riders.append(views[nid])
    pending = sorted(kids.get(nid, ()))
    while pending:
        cid = pending.pop(0)
        if cid in views:
            node.riders.append(views[cid])
        elif len(below.get(cid, ())) == 1:
            node.riders.append(_folded(ctx, cid, views, kids, rows))
        elif _sees(ctx, rows.get(cid)):
            node.children.append(_node(ctx, cid, views, below, kids, rows))
        else:
            pending = sorted(kids.get(cid, ())) + pending
    node.children.sort(key=lambda c: (-c.premium, -c.services, c.id))
    node.riders.sort(key=RiderView.order)
    return node


def _folded(
    ctx: Context,
    cid: str,
    views: dict[str, RiderView],
    kids: dict[str, set[str]],
    rows: dict[str, _Shown],
) -> RiderView:
    """The one service below `cid`, with the visible elements on the way to it as its `via`."""
    via: list[str] = []
    node = cid
    while node not in views:
        if _sees(ctx, rows.get(node)):
            via.append(node)
        node = next(iter(kids[node]))
    rider = views[node]
    return RiderView(
        service_id=rider.service_id,
        product=rider.product,
        health=rider.health,
        customer_id=rider.customer_id,
        customer_name=rider.customer_name,
        customer_type=rider.customer_type,
        sla_tier=rider.sla_tier,
        via=tuple(via),
    )


def _premium(
    ctx: Context,
    views: dict[str, RiderView],
    parent: dict[str, str],
    rows: dict[str, _Shown],
) -> list[PremiumCustomer]:
    """Platinum then gold customers, each with its services and the visible path from the
    resource asked about down to each service."""
    by_customer: dict[str, list[str]] = defaultdict(list)
    for sid, v in views.items():
        if v.premium and v.customer_id:
            by_customer[v.customer_id].append(sid)
    out = []
    for cid, sids in by_customer.items():
        sids.sort()
        first = views[sids[0]]
        paths = []
        for sid in sids:
            path, node = [], sid
            while node in parent:
                node = parent[node]
                if _sees(ctx, rows.get(node)):
                    path.append(node)
            paths.append(tuple(reversed(path)))
        out.append(
            PremiumCustomer(
                id=cid,
                name=first.customer_name or cid,
                tier=first.sla_tier or "",
                customer_type=first.customer_type,
                services=tuple(views[s] for s in sids),
                paths=tuple(paths),
            )
        )
    out.sort(key=lambda c: (_tier_rank(c.tier), c.name, c.id))
    return out
