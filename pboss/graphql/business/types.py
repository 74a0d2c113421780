"""GraphQL types of the business view: availability (TMF645), packaged business resources and a
customer's network in business terms, with the builders from `pboss.inventory.business`'s
answers.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Forbidden, NotFound, ValidationError
from pboss.graphql.inventory.types import (
    Customer,
    Element,
    Partner,
    ProductInfo,
    Service,
    Site,
    to_type,
)
from pboss.graphql.network.types import Health, Hop, build_trace
from pboss.inventory import business as biz
from pboss.inventory.model import SELF
from pboss.inventory.model import Element as ElementModel
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
        return await partner_of(info, self.network)


@strawberry.type(description="Can this site be served, with what, from which network, how soon.")
class Availability:
    site: Site | None = strawberry.field(
        description="The site asked about (null when no site matches the address given)."
    )
    address: str | None = strawberry.field(description="The address asked about, if one was.")
    requested_product: ProductInfo | None
    qualification_result: QualificationResult
    options: list[AvailabilityOption]
    reasons: list[str] = strawberry.field(description="Why not qualified (empty when qualified).")
    other_families: list[AvailabilityOption] = strawberry.field(
        description="When unqualified: products of other families (service types) sellable "
        "here instead, e.g. a leased line at an office tower without FTTH."
    )


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
        return await partner_of(info, self.owner)


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


async def partner_of(info: Info, owner: str) -> Partner | None:
    if owner == SELF:
        return None
    el = await info.context.element(owner)
    return to_type(el) if el is not None and el.kind == "Partner" else None  # type: ignore[return-value]


def option_of(o: biz.Option) -> AvailabilityOption:
    return AvailabilityOption(
        product=ProductInfo.of(o.product),
        network=o.network,
        self_built=o.self_built,
        free_capacity=o.free,
        lead_time_hours=o.lead_time_hours,
        package_id=o.package_id,
    )


def component_of(c: biz.Component) -> PackageComponent:
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


def package_of(p: biz.Package) -> BusinessResource:
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
        components=[component_of(c) for c in p.components],
    )


def access_of(trace: TraceModel) -> str:
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


def service_path_of(ctx: Context, service: ElementModel, trace: TraceModel) -> ServicePath:
    product = ctx.catalog.products.get(getattr(service, "product", ""))
    coarse = [h.element.id for h in trace.hops if h.element.kind in COARSE_KINDS]
    networks = sorted({h.element.owner for h in trace.hops} or {SELF}, key=lambda o: (o != SELF, o))
    name = product.name if product else getattr(service, "product", service.kind)
    built = build_trace(ctx, trace)
    return ServicePath(
        service=to_type(service),  # type: ignore[arg-type]
        product=ProductInfo.of(product) if product else None,
        access=access_of(trace),
        networks=networks,
        summary=f"{name} via {' → '.join(coarse)}" if coarse else name,
        health=built.health,
        impaired_by=built.impaired_by,
        hops=built.hops,
    )
