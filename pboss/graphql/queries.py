"""Inventory and network queries: lookups, filtered lists, site search, trace, riders, impact.

Each top-level field is one store call (trace of a customer: one per service); results pass the
caller's visibility check; expected failures are members of the result union.
"""

from __future__ import annotations

import asyncio
import operator
from functools import reduce
from typing import Annotated

import strawberry

from pboss.graphql.connections import ElementConnection, ElementEdge, PageInfo
from pboss.graphql.context import Info
from pboss.graphql.cursors import decode_cursor, encode_cursor, page_size
from pboss.graphql.errors import NotFound, StatusEnum, UserInputError, ValidationError
from pboss.graphql.network import (
    CustomerTrace,
    RiderConnection,
    Trace,
    build_riders,
    build_trace,
    rider_after,
    rider_fields,
    worst,
)
from pboss.graphql.permissions import owner_scope
from pboss.graphql.sites import SiteIndex
from pboss.graphql.types import ELEMENT_TYPES, Customer, Site, to_type
from pboss.inventory import errors as inv
from pboss.inventory.model import KINDS
from pboss.inventory.results import FindQuery

ELEMENT_CURSOR = "element"
MAX_IMPACT = 1000

ElementResult = Annotated[
    reduce(operator.or_, (*ELEMENT_TYPES, NotFound)), strawberry.union("ElementResult")
]
TraceResult = Annotated[Trace | CustomerTrace | NotFound, strawberry.union("TraceResult")]
RidersResult = Annotated[
    RiderConnection | NotFound | ValidationError, strawberry.union("RidersResult")
]


@strawberry.type
class InventoryQuery:
    """Lookups by id, filtered lists and site search."""

    @strawberry.field(description="One element by id; NotFound when missing or not yours to see.")
    async def element(self, info: Info, id: strawberry.ID) -> ElementResult:
        el = await info.context.element(id)
        return to_type(el) if el is not None else NotFound.of(id)

    @strawberry.field(description="Elements filtered by kind, site, owner, status and text.")
    async def elements(
        self,
        info: Info,
        kind: str | None = None,
        site: strawberry.ID | None = None,
        owner: str | None = None,
        status: StatusEnum | None = None,
        text: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ElementConnection:
        ctx = info.context
        if kind is not None and kind not in KINDS:
            raise UserInputError(f"unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}")
        scope = owner_scope(ctx.principal)
        if scope is not None and owner not in (None, scope):
            return ElementConnection(
                edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None), total_count=0
            )
        query = FindQuery(
            kind=kind,
            site=site,
            owner=scope or owner,
            status=status.value if status else None,
            text=text or None,
            after=decode_cursor(ELEMENT_CURSOR, after),
            limit=page_size(first),
        )
        page = await ctx.call(ctx.store.find, query)
        edges = [
            ElementEdge(cursor=encode_cursor(ELEMENT_CURSOR, el.id), node=to_type(el))
            for el in page.items
            if ctx.sees(el)
        ]
        return ElementConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.next_cursor is not None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total,
        )

    @strawberry.field(
        description="Sites by id, code, name or address, compared normalised (NFKC, no spaces)."
    )
    async def sites(self, info: Info, query: str, first: int = 20) -> list[Site]:
        ctx = info.context
        index: SiteIndex = ctx.state["site_index"]
        hits = await ctx.call(index.search, ctx.store, query[:200], page_size(first, 100))
        return [to_type(s) for _, s in hits if ctx.sees(s)]  # type: ignore[misc]


async def _customer_trace(info: Info, customer: Customer) -> CustomerTrace:
    ctx = info.context
    links = await ctx.call(ctx.store.neighbours, customer.id, "in", ["FOR"])
    services = sorted(other.id for _, other in links if other.kind == "Service")
    traces = await asyncio.gather(*(ctx.call(ctx.store.trace, s) for s in services))
    built = [build_trace(ctx, t) for t in traces]
    return CustomerTrace(customer=customer, traces=built, health=worst([t.health for t in built]))


@strawberry.type
class NetworkQuery:
    """Engineers' questions: what does this depend on, and who rides on it."""

    @strawberry.field(
        description="Ordered hops of a circuit or service (A-end, trunk, Z-end or ONT up to the "
        "OLT), or of all a customer's services."
    )
    async def trace(self, info: Info, id: strawberry.ID) -> TraceResult:
        ctx = info.context
        try:
            trace = await ctx.call(ctx.store.trace, id)
            if not ctx.sees(trace.root):
                return NotFound.of(id)
            if trace.root.kind == "Customer":
                return await _customer_trace(info, to_type(trace.root))  # type: ignore[arg-type]
        except inv.NotFound as exc:
            return NotFound.of(exc.element_id, exc.kind)
        return build_trace(ctx, trace)

    @strawberry.field(
        description="Bottom-up: the services and customers riding on a resource, paged, with "
        "totals by product, customer type and SLA tier."
    )
    async def riders(
        self, info: Info, resource: strawberry.ID, first: int = 50, after: str | None = None
    ) -> RidersResult:
        return await _riders(info, [resource], first, after)

    @strawberry.field(
        description="Riders of a set of resources (e.g. the sections a fibre cut hits), each "
        "service once."
    )
    async def impact(
        self,
        info: Info,
        resources: list[strawberry.ID],
        first: int = 50,
        after: str | None = None,
    ) -> RidersResult:
        ids = list(dict.fromkeys(resources))
        if not ids or len(ids) > MAX_IMPACT:
            reason = f"give between 1 and {MAX_IMPACT} resources, got {len(ids)}"
            return ValidationError.single("resources", reason, "resources")
        return await _riders(info, ids, first, after)


async def _riders(info: Info, ids: list[str], first: int, after: str | None) -> RidersResult:
    """Riders of some resources for this caller, fetching only what the selection shows."""
    ctx = info.context
    if ctx.principal.is_partner:  # others see everything: the store reports unknown ids itself
        found = await ctx.loaders.elements.load_many(ids)
        for rid, el in zip(ids, found, strict=True):
            if not ctx.sees(el):
                return NotFound.of(rid)
    size, cursor = page_size(first), rider_after(ctx, after)
    try:
        fields = rider_fields(info)
        riders = await ctx.call(ctx.store.riders, ids, first=size, after=cursor, fields=fields)
    except inv.NotFound as exc:
        return NotFound.of(exc.element_id, exc.kind)
    return build_riders(ctx, riders)
