"""The business view for CRM: availability (TMF645), packaged business resources, a customer's
network in business terms, and the catalog's products.

The decisions live in `pboss.inventory.business` (pure functions over a SiteView and the
catalog); this module resolves the site, fetches the view in one store call and shapes the answer.
Partner keys are refused: this view is about the operator's sales and its customers.
"""

from __future__ import annotations

import asyncio

import strawberry

from pboss.graphql.business.addresses import NoSuchAddress, site_by_address
from pboss.graphql.business.partners import PartnerNames
from pboss.graphql.business.types import (
    Availability,
    AvailabilityResult,
    BusinessResources,
    BusinessResourcesResult,
    CustomerNetwork,
    CustomerNetworkResult,
    QualificationResult,
    option_of,
    package_of,
    service_path_of,
)
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Forbidden, NotFound, ValidationError
from pboss.graphql.inventory.types import ProductInfo, to_type
from pboss.graphql.network.types import worst
from pboss.graphql.permissions import Action
from pboss.inventory import business as biz
from pboss.inventory import errors as inv
from pboss.inventory.results import SiteView


async def _partner_names(ctx: Context) -> dict[str, str]:
    names: PartnerNames = ctx.state["partner_names"]
    return names.cached() if names.fresh else await ctx.call(names.refresh, ctx.store)


async def _site_view(ctx: Context, site_id: str) -> SiteView | NotFound:
    try:
        view = await ctx.call(ctx.store.site_view, site_id)
    except inv.NotFound:
        return NotFound.of(site_id, "Site")
    return view if ctx.sees(view.site) else NotFound.of(site_id, "Site")


@strawberry.type
class BusinessQuery:
    """What CRM asks: can I sell here, what is packaged here, what does this customer have."""

    @strawberry.field(
        description="TMF645-style qualification of a site (by id or address) for a product (or "
        "any): qualified on our own network, alternate via a partner or another product, or "
        "unqualified with the reasons (also for an address no site matches) and the products "
        "of other families sellable there."
    )
    async def availability(
        self,
        info: Info,
        site: strawberry.ID | None = None,
        address: str | None = None,
        product: str | None = None,
    ) -> AvailabilityResult:
        ctx = info.context
        if not ctx.allows(Action.BUSINESS_VIEW):
            return Forbidden.of(str(Action.BUSINESS_VIEW), ctx.principal.role)
        if (site is None) == (address is None):
            return ValidationError.single("site", "give exactly one of site and address")
        wanted = ctx.catalog.products.get(product) if product is not None else None
        if product is not None and wanted is None:
            unknown = biz.UnknownProduct(product, list(ctx.catalog.products))
            return ValidationError.single("product", str(unknown), "product")
        site_id = site if site is not None else await site_by_address(ctx, address or "")
        if isinstance(site_id, NoSuchAddress):  # an answer CRM can show, not an error
            return Availability(
                site=None,
                address=address,
                requested_product=ProductInfo.of(wanted) if wanted else None,
                qualification_result=QualificationResult.unqualified,
                options=[],
                reasons=[site_id.reason],
                other_families=[],
            )
        if not isinstance(site_id, str):
            return site_id
        view = await _site_view(ctx, site_id)
        if isinstance(view, NotFound):
            return view
        names = await _partner_names(ctx)
        q = biz.qualify(view, ctx.catalog, product, names)
        return Availability(
            site=to_type(q.site),  # type: ignore[arg-type]
            address=address,
            requested_product=ProductInfo.of(q.product) if q.product else None,
            qualification_result=QualificationResult(q.result),
            options=[option_of(o) for o in q.options],
            reasons=list(q.reasons),
            other_families=[option_of(o) for o in q.other_families],
        )

    @strawberry.field(
        description="The site's network resources packaged by the catalog's rules: e.g. FTTH "
        "access with its splitters, free and used ports, and the health of the PON port and OLT."
    )
    async def business_resources(self, info: Info, site: strawberry.ID) -> BusinessResourcesResult:
        ctx = info.context
        if not ctx.allows(Action.BUSINESS_VIEW):
            return Forbidden.of(str(Action.BUSINESS_VIEW), ctx.principal.role)
        view = await _site_view(ctx, site)
        if isinstance(view, NotFound):
            return view
        packages = biz.package_site(view, ctx.catalog, await _partner_names(ctx))
        return BusinessResources(
            site=to_type(view.site),  # type: ignore[arg-type]
            packages=[package_of(p) for p in packages],
        )

    @strawberry.field(description="All of a customer's services with their paths.")
    async def customer_network(self, info: Info, customer: strawberry.ID) -> CustomerNetworkResult:
        ctx = info.context
        if not ctx.allows(Action.BUSINESS_VIEW):
            return Forbidden.of(str(Action.BUSINESS_VIEW), ctx.principal.role)
        cust = await ctx.element(customer)
        if cust is None or cust.kind != "Customer":
            return NotFound.of(customer, "Customer")
        links = await ctx.call(ctx.store.neighbours, customer, "in", ["FOR"])
        services = sorted((s for _, s in links if s.kind == "Service"), key=lambda s: s.id)
        traces = await asyncio.gather(*(ctx.call(ctx.store.trace, s.id) for s in services))
        paths = [service_path_of(ctx, s, t) for s, t in zip(services, traces, strict=True)]
        return CustomerNetwork(
            customer=to_type(cust),  # type: ignore[arg-type]
            services=paths,
            health=worst([p.health for p in paths]),
        )

    @strawberry.field(description="The products CRM sells, from the catalog.")
    def products(self, info: Info) -> list[ProductInfo]:
        return [ProductInfo.of(p) for p in info.context.catalog.products.values()]
