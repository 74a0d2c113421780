"""The business view for CRM: availability (TMF645), packaged business resources, a customer's
network in business terms, and the catalog's products.

The decisions live in `pboss.inventory.business` (pure functions over a SiteView and the
catalog); this module resolves the site, fetches the view in one store call and shapes the answer.
Partner keys are refused: this view is about the operator's sales and its customers.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Annotated

import strawberry

from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Forbidden, NotFound, ValidationError
from pboss.graphql.network import Health, Hop, build_trace, worst
from pboss.graphql.partners import PartnerNames
from pboss.graphql.permissions import Action
from pboss.graphql.sites import SiteIndex
from pboss.graphql.types import Customer, Element, Partner, ProductInfo, Service, Site, to_type
from pboss.inventory import business as biz
from pboss.inventory import errors as inv
from pboss.inventory.model import SELF
from pboss.inventory.model import Element as ElementModel
from pboss.inventory.results import SiteView
from pboss.inventory.results import Trace as TraceModel

#: Kinds a business summary names: the coarse resources a customer's service runs over.
COARSE_KINDS = ("Splitter", "OLT", "NE", "TrunkSection", "PartnerLink", "PartnerAccess")


@strawberry.enum(description="TMF645 qualification result.")
class QualificationResult(Enum):
    qualified = "qualified"
    alternate = "alternate"
    unqualified = "unqualified"


@strawberry.type(description="One way to deliver a product at a site.")
class AvailabilityOption:
    product: ProductInfo
    network: str = strawberry.field(description='who delivers it: "self" or the partner id')
    self_built: bool
    free_capacity: int
    lead_time_hours: int
    package_id: strawberry.ID

    @strawberry.field(description="The partner that delivers it (null when self-built).")
    async def partner(self, info: Info) -> Partner | None:
        return await _partner(info, self.network)


@strawberry.type(description="Can this site be served, with what, from which network, how soon.")
class Availability:
    site: Site
    requested_product: ProductInfo | None
    qualification_result: QualificationResult
    options: list[AvailabilityOption]
    reasons: list[str] = strawberry.field(description="Why not qualified (empty when qualified).")


@strawberry.type(description="One network resource inside a business resource, with its health.")
class PackageComponent:
    anchor: Element
    total: int
    used: int
    free: int
    sellable: int = strawberry.field(description="free units that can take a service now")
    free_units: list[strawberry.ID]
    health: Health
    impaired_by: list[strawberry.ID]
    blockers: list[str]
    chain: list[Element] = strawberry.field(description="what it hangs off, up to the OLT")
    pon_port: strawberry.ID | None
    olt: strawberry.ID | None
    pon_load: int | None
    pon_budget: int | None


@strawberry.type(description="Network resources packaged into what sales understands.")
class BusinessResource:
    id: strawberry.ID
    rule: str
    name: str
    owner: str
    is_partner: bool
    sells: list[ProductInfo]
    capacity: int
    used: int
    free: int
    health: Health
    reasons: list[str]
    components: list[PackageComponent]

    @strawberry.field(description="The partner that owns it (null when self-built).")
    async def partner(self, info: Info) -> Partner | None:
        return await _partner(info, self.owner)


@strawberry.type(description="The business resources at one site.")
class BusinessResources:
    site: Site
    packages: list[BusinessResource]


@strawberry.type(description="One of a customer's services and the path it runs over.")
class ServicePath:
    service: Service
    product: ProductInfo | None
    access: str = strawberry.field(description="self-built FTTH, partner access, leased line")
    networks: list[str] = strawberry.field(
        description='the networks it uses: "self" and/or partner ids'
    )
    summary: str
    health: Health
    impaired_by: list[strawberry.ID]
    hops: list[Hop]


@strawberry.type(description="All of a customer's services with their paths, in business terms.")
class CustomerNetwork:
    customer: Customer
    services: list[ServicePath]
    health: Health


AvailabilityResult = Annotated[
    Availability | NotFound | Forbidden | ValidationError, strawberry.union("AvailabilityResult")
]
BusinessResourcesResult = Annotated[
    BusinessResources | NotFound | Forbidden, strawberry.union("BusinessResourcesResult")
]
CustomerNetworkResult = Annotated[
    CustomerNetwork | NotFound | Forbidden, strawberry.union("CustomerNetworkResult")
]


async def _partner(info: Info, owner: str) -> Partner | None:
    if owner == SELF:
        return None
    el = await info.context.element(owner)
    return to_type(el) if el is not None and el.kind == "Partner" else None  # type: ignore[return-value]


async def _partner_names(ctx: Context) -> dict[str, str]:
    names: PartnerNames = ctx.state["partner_names"]
    return names.cached() if names.fresh else await ctx.call(names.refresh, ctx.store)


async def _site_view(ctx: Context, site_id: str) -> SiteView | NotFound:
    try:
        view = await ctx.call(ctx.store.site_view, site_id)
    except inv.NotFound:
        return NotFound.of(site_id, "Site")
    return view if ctx.sees(view.site) else NotFound.of(site_id, "Site")


async def _site_by_address(ctx: Context, address: str) -> str | NotFound | ValidationError:
    index: SiteIndex = ctx.state["site_index"]
    hits = await ctx.call(index.search, ctx.store, address[:200], 50)
    hits = [(score, s) for score, s in hits if ctx.sees(s)]
    if not hits:
        return NotFound.of(address, "Site")
    best = [s for score, s in hits if score == hits[0][0]]
    if len(best) > 1:
        shown = ", ".join(f"{s.id} ({s.name})" for s in best[:10])
        reason = f"matches {len(best)} sites: {shown}; give the site id"
        return ValidationError.single("address", reason, "address")
    return best[0].id


def _option(o: biz.Option) -> AvailabilityOption:
    return AvailabilityOption(
        product=ProductInfo.of(o.product),
        network=o.network,
        self_built=o.self_built,
        free_capacity=o.free,
        lead_time_hours=o.lead_time_hours,
        package_id=o.package_id,
    )


def _component(c: biz.Component) -> PackageComponent:
    return PackageComponent(
        anchor=to_type(c.anchor),
        total=c.total,
        used=c.used,
        free=c.free,
        sellable=c.sellable,
        free_units=list(c.free_units),
        health=Health(c.health),
        impaired_by=list(c.impaired_by),
        blockers=list(c.blockers),
        chain=[to_type(e) for e in c.chain],
        pon_port=c.pon_port,
        olt=c.olt,
        pon_load=c.pon_load,
        pon_budget=c.pon_budget,
    )


def _package(p: biz.Package) -> BusinessResource:
    return BusinessResource(
        id=p.id,
        rule=p.rule.id,
        name=p.name,
        owner=p.owner,
        is_partner=p.owner != SELF,
        sells=[ProductInfo.of(x) for x in p.sells],
        capacity=p.capacity,
        used=p.used,
        free=p.free,
        health=Health(p.health),
        reasons=list(p.reasons),
        components=[_component(c) for c in p.components],
    )


def _access(trace: TraceModel) -> str:
    kinds = {h.element.kind for h in trace.hops}
    partner = any(h.partner for h in trace.hops)
    if "PartnerAccess" in kinds:
        tech = next(
            getattr(h.element, "technology", "access")
            for h in trace.hops
            if h.element.kind == "PartnerAccess"
        )
        return f"partner {tech} access"
    if "ONT" in kinds:
        return "self-built FTTH" + (" over partner fibre" if partner else "")
    if trace.root.kind == "Circuit" or "TrunkSection" in kinds or "PartnerLink" in kinds:
        return "leased line" + (" over a partner segment" if partner else " on our own MSTP")
    return "other"


def _service_path(ctx: Context, service: ElementModel, trace: TraceModel) -> ServicePath:
    product = ctx.catalog.products.get(getattr(service, "product", ""))
    coarse = [h.element.id for h in trace.hops if h.element.kind in COARSE_KINDS]
    networks = sorted({h.element.owner for h in trace.hops} or {SELF}, key=lambda o: (o != SELF, o))
    name = product.name if product else getattr(service, "product", service.kind)
    built = build_trace(ctx, trace)
    return ServicePath(
        service=to_type(service),  # type: ignore[arg-type]
        product=ProductInfo.of(product) if product else None,
        access=_access(trace),
        networks=networks,
        summary=f"{name} via {' → '.join(coarse)}" if coarse else name,
        health=built.health,
        impaired_by=built.impaired_by,
        hops=built.hops,
    )


@strawberry.type
class BusinessQuery:
    """What CRM asks: can I sell here, what is packaged here, what does this customer have."""

    @strawberry.field(
        description="TMF645-style qualification of a site (by id or address) for a product (or "
        "any): qualified on our own network, alternate via a partner or another product, or "
        "unqualified with the reasons."
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
        site_id = site if site is not None else await _site_by_address(ctx, address or "")
        if not isinstance(site_id, str):
            return site_id
        view = await _site_view(ctx, site_id)
        if isinstance(view, NotFound):
            return view
        names = await _partner_names(ctx)
        try:
            q = biz.qualify(view, ctx.catalog, product, names)
        except biz.UnknownProduct as exc:
            return ValidationError.single("product", str(exc), "product")
        return Availability(
            site=to_type(q.site),  # type: ignore[arg-type]
            requested_product=ProductInfo.of(q.product) if q.product else None,
            qualification_result=QualificationResult(q.result),
            options=[_option(o) for o in q.options],
            reasons=list(q.reasons),
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
            packages=[_package(p) for p in packages],
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
        paths = [_service_path(ctx, s, t) for s, t in zip(services, traces, strict=True)]
        return CustomerNetwork(
            customer=to_type(cust),  # type: ignore[arg-type]
            services=paths,
            health=worst([p.health for p in paths]),
        )

    @strawberry.field(description="The products CRM sells, from the catalog.")
    def products(self, info: Info) -> list[ProductInfo]:
        return [ProductInfo.of(p) for p in info.context.catalog.products.values()]
