"""Network queries: site search, trace (top-down), riders and impact (bottom-up).

Each top-level field is one store call (trace of a customer: one per service; riders: one per
page, fetching only the properties the selection shows); results pass the caller's visibility
check; expected failures are members of the result union.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry

from pboss.graphql.connections import PageInfo, decode_cursor, encode_cursor, page_size
from pboss.graphql.context import Info
from pboss.graphql.errors import NotFound, UserInputError, ValidationError
from pboss.graphql.inventory.types import (
    Customer,
    Site,
    to_type,
)
from pboss.graphql.network.sites import SiteIndex
from pboss.graphql.network.types import (
    CustomerTrace,
    RiderConnection,
    Trace,
    build_riders,
    build_trace,
    rider_after,
    rider_fields,
    worst,
)
from pboss.inventory import errors as inv

MAX_IMPACT = 1000
TraceResult = Annotated[Trace | CustomerTrace | NotFound, strawberry.union("TraceResult")]
RidersResult = Annotated[
    RiderConnection | NotFound | ValidationError, strawberry.union("RidersResult")
]


SITE_CURSOR = "site"
#: Largest page of sites.
MAX_SITES_PAGE = 100


@strawberry.type
class SiteEdge:
    cursor: str
    node: Site


@strawberry.type(description="A page of sites matching a search, with the number of matches.")
class SiteConnection:
    edges: list[SiteEdge]
    page_info: PageInfo
    total_count: int


def _site_after(after: str | None) -> tuple[int, str] | None:
    """(score, site id) of the last site a cursor of the sites list saw."""
    key = decode_cursor(SITE_CURSOR, after)
    if key is None:
        return None
    score, sep, site_id = key.partition(":")
    if not (sep and score.isdigit() and site_id):
        raise UserInputError(f"invalid cursor {str(after)[:80]!r} for this list")
    return int(score), site_id


async def customer_trace(info: Info, customer: Customer) -> CustomerTrace:
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
        description="Sites by id, code, name or address, compared normalised (NFKC, no spaces), "
        "best matches first (exact id or code, exact name or address, prefix, substring; ties "
        "by id), paged; totalCount counts the matches this caller may see."
    )
    async def sites(
        self, info: Info, query: str, first: int = 20, after: str | None = None
    ) -> SiteConnection:
        ctx = info.context
        size, start = page_size(first, MAX_SITES_PAGE), _site_after(after)
        index: SiteIndex = ctx.state["site_index"]
        hits = await ctx.call(index.search, ctx.store, query[:200], None)
        visible = [(score, s) for score, s in hits if ctx.sees(s)]
        rest = [h for h in visible if start is None or (h[0], h[1].id) > start]
        edges = [
            SiteEdge(cursor=encode_cursor(SITE_CURSOR, f"{score}:{s.id}"), node=to_type(s))  # type: ignore[arg-type]
            for score, s in rest[:size]
        ]
        return SiteConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rest) > size, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=len(visible),
        )

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
                return await customer_trace(info, to_type(trace.root))  # type: ignore[arg-type]
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
    size, cursor = page_size(first), rider_after(ctx, ids, after)
    try:
        fields = rider_fields(info)
        riders = await ctx.call(ctx.store.riders, ids, first=size, after=cursor, fields=fields)
    except inv.NotFound as exc:
        return NotFound.of(exc.element_id, exc.kind)
    return build_riders(ctx, riders)
