"""GraphQL types of the inventory's elements: an `Element` interface and one type per kind.

Each type holds the stored element (`_el`) and a copy of the kind's own fields; references to other
elements (`site`, `partner`, `region`, links) resolve through the request's DataLoader and pass the
caller's visibility check, so no path shows what the caller may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import get_object_definition

from pboss.graphql.connections import PageInfo
from pboss.graphql.context import Info
from pboss.graphql.errors import EdgeTypeEnum, StatusEnum
from pboss.inventory import model as m
from pboss.inventory.catalog import ProductDef
from pboss.inventory.history import ChangeKind
from pboss.inventory.lifecycle import Status, tmf639_state
from pboss.inventory.results import ChangeRecord, SlotUse


@strawberry.type(description="TMF639 resource states derived from the lifecycle status.")
class ResourceState:
    administrative_state: str
    operational_state: str
    usage_state: str
    resource_status: str


@strawberry.type(description="A product CRM sells, from the catalog.")
class ProductInfo:
    id: strawberry.ID
    name: str
    service_type: str
    technology: str
    lead_time_hours: int

    @classmethod
    def of(cls, p: ProductDef) -> ProductInfo:
        """From the catalog's definition."""
        return cls(
            id=p.id,
            name=p.name,
            service_type=p.service_type,
            technology=p.technology,
            lead_time_hours=p.lead_time_hours,
        )


ChangeKindEnum = strawberry.enum(
    ChangeKind, name="ChangeKind", description="What a history entry records."
)


@strawberry.type(description="An edge by its identity.")
class EdgeChange:
    type: EdgeTypeEnum
    src: strawberry.ID
    dst: strawberry.ID


@strawberry.type(
    description="One recorded change to an element or to an edge at it: who, when, why, what "
    "(fromStatus/toStatus: the status before and after, equal when it did not change)."
)
class StatusChange:
    element_id: strawberry.ID
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    at: datetime
    change: ChangeKindEnum = strawberry.field(description="created, updated, status, ...")
    before: JSON | None = strawberry.field(
        description="the changed properties before (all of them for a delete)"
    )
    after: JSON | None = strawberry.field(
        description="the changed properties after (all of them when created)"
    )
    edge: EdgeChange | None = strawberry.field(description="the edge, for an edge's change")

    @classmethod
    def of(cls, r: ChangeRecord) -> StatusChange:
        """From the store's record."""
        edge = None
        if r.edge is not None:
            edge = EdgeChange(type=m.EdgeType(r.edge.type), src=r.edge.src, dst=r.edge.dst)
        return cls(
            element_id=r.element_id,
            from_status=r.from_status,
            to_status=r.to_status,
            actor=r.actor,
            reason=r.reason,
            at=r.at,
            change=ChangeKind(r.change),
            before=r.before,
            after=r.after,
            edge=edge,
        )


@strawberry.type(description="A relationship to a neighbouring element.")
class Link:
    type: EdgeTypeEnum
    seq: int | None
    slots: list[int] | None
    node: Element


@strawberry.interface(description="Every node of the resource graph.")
class Element:
    _el: strawberry.Private[m.Element]
    id: strawberry.ID
    kind: str
    name: str
    owner: str = strawberry.field(description='who owns it: "self" or the partner id')
    spec: str | None

    @strawberry.field(description="Lifecycle status.")
    def status(self) -> StatusEnum:
        return Status(self._el.status)

    @strawberry.field(description="TMF639 states (administrative, operational, usage, status).")
    def state(self) -> ResourceState:
        return ResourceState(**{_snake(k): v for k, v in tmf639_state(self._el.status).items()})

    @strawberry.field(description="True when a partner, not the operator, owns it.")
    def is_partner(self) -> bool:
        return self._el.is_partner

    @strawberry.field(description="Id of the site it is located at.")
    def site_id(self) -> strawberry.ID | None:
        return self._el.site

    @strawberry.field(description="The site it is located at.")
    async def site(self, info: Info) -> Site | None:
        if not self._el.site:
            return None
        return _as(await info.context.element(self._el.site), Site)

    @strawberry.field(description="The partner that owns it (null when self-built).")
    async def partner(self, info: Info) -> Partner | None:
        if not self._el.is_partner:
            return None
        return _as(await info.context.element(self._el.owner), Partner)

    @strawberry.field(description="Free attributes beyond the kind's own fields.")
    def attrs(self) -> JSON:
        return dict(self._el.attrs)

    @strawberry.field(description="What it depends on (outgoing edges), optionally by type.")
    async def dependencies(self, info: Info, types: list[EdgeTypeEnum] | None = None) -> list[Link]:
        return await _links(info, self._el.id, "out", types)

    @strawberry.field(description="What depends on it (incoming edges), optionally by type.")
    async def dependants(self, info: Info, types: list[EdgeTypeEnum] | None = None) -> list[Link]:
        return await _links(info, self._el.id, "in", types)

    @strawberry.field(
        description="Its changes, newest first: created, fields and status changed, edges at "
        "it added, changed or removed, deleted (a partner sees edges to what it may see)."
    )
    async def history(self, info: Info, limit: int = 20) -> list[StatusChange]:
        ctx = info.context
        rows = await ctx.loaders.history.load((self._el.id, max(1, min(limit, 200))))
        if ctx.principal.is_partner:
            others = sorted(
                {r.edge.dst if r.edge.src == r.element_id else r.edge.src for r in rows if r.edge}
            )
            found = await ctx.loaders.elements.load_many(others)
            seen = {i for i, el in zip(others, found, strict=True) if ctx.sees(el)}
            rows = [
                r
                for r in rows
                if r.edge is None or {r.edge.src, r.edge.dst} <= seen | {r.element_id}
            ]
        return [StatusChange.of(r) for r in rows]


@strawberry.type(description="A district or administrative region.")
class Region(Element):
    code: str | None


@strawberry.type(description="An exchange, street cabinet, office tower or housing estate.")
class Site(Element):
    code: str | None
    site_type: str
    region_id: strawberry.ID | None
    address: str
    households: int
    lat: float | None
    lon: float | None

    @strawberry.field(description="The region it belongs to.")
    async def region(self, info: Info) -> Region | None:
        rid = self._el.region  # type: ignore[attr-defined]
        return _as(await info.context.element(rid), Region) if rid else None


@strawberry.type(
    description="A household or enterprise customer (personal data: never shown to partners)."
)
class Customer(Element):
    customer_type: str
    sla_tier: str
    phone: str | None
    address: str | None


@strawberry.type(description="Another operator whose resources pboss glues into the business view.")
class Partner(Element):
    partner_type: str
    contract_id: str | None


@strawberry.type(description="Optical line terminal.")
class OLT(Element):
    vendor: str | None
    model: str | None
    service_slots: int | None


@strawberry.type(description="A PON port of an OLT; maxSplit is its split budget.")
class PonPort(Element):
    slot: int | None
    port: int | None
    max_split: int


@strawberry.type(description="An optical splitter, stage 1 or 2, ratio 1:n.")
class Splitter(Element):
    stage: int
    ratio: int


@strawberry.type(description="One output of a splitter.")
class SplitterPort(Element):
    index: int


@strawberry.type(description="Optical network terminal at the customer's premises.")
class ONT(Element):
    ont_type: str | None
    serial: str | None


@strawberry.type(description="An MSTP/SDH network element.")
class NE(Element):
    ne_type: str | None
    vendor: str | None


@strawberry.type(description="A port of an NE: STM-N, E1, FE or GE.")
class Port(Element):
    rate: str | None
    index: int | None


async def _slot_use(info: Info, el: m.Element) -> SlotUse:
    """A link's VC-12 use through the request's loader (one store call for a whole page)."""
    use = await info.context.loaders.slots.load(el.id)
    return use or SlotUse(capacity=int(getattr(el, "capacity_vc12", 0)))


@strawberry.interface(
    description="A trunk section or partner link: VC-12 capacity between two NEs, and its use."
)
class TransportSegment(Element):
    rate: str | None
    capacity_vc12: int = strawberry.field(description="VC-12 slots in all (the total capacity)")
    cost: float

    @strawberry.field(description="VC-12 slots circuits in service are routed over.")
    async def vc12_used(self, info: Info) -> int:
        return (await _slot_use(info, self._el)).carrying

    @strawberry.field(description="VC-12 slots holds keep for orders not yet in service.")
    async def vc12_held(self, info: Info) -> int:
        return (await _slot_use(info, self._el)).holding

    @strawberry.field(
        description="VC-12 slots neither used nor held: what new leased lines may take."
    )
    async def vc12_free(self, info: Info) -> int:
        return (await _slot_use(info, self._el)).free


@strawberry.type(description="A trunk section between two NEs, capacity in VC-12 slots.")
class TrunkSection(TransportSegment):
    pass


@strawberry.type(description="A segment leased from a partner, capacity in VC-12 slots.")
class PartnerLink(TransportSegment):
    contract_id: str | None
    partner_circuit_code: str | None


@strawberry.type(description="A leased line of n x 2 Mb/s from an A-end to a Z-end.")
class Circuit(Element):
    bandwidth_2m: int


@strawberry.type(description="A partner's coverage at a site, known only as a pool of counts.")
class PartnerAccess(Element):
    technology: str
    total: int
    used: int
    reserved: int


@strawberry.type(description="A service instance a customer pays for.")
class Service(Element):
    product: str
    service_type: str | None

    @strawberry.field(description="The catalog product it instantiates.")
    def catalog_product(self, info: Info) -> ProductInfo | None:
        p = info.context.catalog.products.get(self._el.product)  # type: ignore[attr-defined]
        return ProductInfo.of(p) if p else None


@strawberry.type(description="A product node stored in the graph.")
class Product(Element):
    technology: str | None
    lead_time_hours: int | None


@strawberry.type(description="An element of a kind registered by another module (e.g. Order).")
class GenericElement(Element):
    @strawberry.field(description="The kind's own fields, as stored.")
    def fields(self) -> JSON:
        common = set(m.Element.model_fields) | {"kind"}
        return {k: v for k, v in self._el.model_dump(mode="json").items() if k not in common}


KIND_TYPES: dict[str, type[Element]] = {
    t.__name__: t
    for t in (
        Region, Site, Customer, Partner, OLT, PonPort, Splitter, SplitterPort, ONT, NE, Port,
        TrunkSection, PartnerLink, Circuit, PartnerAccess, Service, Product,
    )
}  # fmt: skip
ELEMENT_TYPES: list[type[Element]] = [*KIND_TYPES.values(), GenericElement]
_ALIASES = {"region_id": "region"}


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


@cache
def _plain_fields(cls: type[Element]) -> tuple[tuple[str, str], ...]:
    """(python name, model attribute) of the plain fields a type copies from its element."""
    out = []
    for f in get_object_definition(cls, strict=True).fields:
        if f.base_resolver is None and f.python_name not in ("kind", "_el"):
            out.append((f.python_name, _ALIASES.get(f.python_name, f.python_name)))
    return tuple(out)


@cache
def _graphql_names(cls: type[Element]) -> dict[str, str]:
    """GraphQL field name -> python name of an element type's fields."""
    return {
        f.graphql_name or _camel(f.python_name): f.python_name
        for f in get_object_definition(cls, strict=True).fields
    }


def graphql_field_name(cls: type[Element], graphql_name: str) -> str:
    """The python name of a field of `cls` asked for by its GraphQL name (itself when unknown)."""
    return _graphql_names(cls).get(graphql_name, graphql_name)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.capitalize() for w in rest)


#: What each resolver field of the element types reads of its own element (other elements it
#: shows are loaded whole): a projected element (`pboss.inventory.results.RiderFields`) must carry
#: these. Fields absent here and not plain (attrs, GenericElement.fields) may read any property.
RESOLVER_READS: dict[str, frozenset[str]] = {
    "status": frozenset({"status"}),
    "state": frozenset({"status"}),
    "is_partner": frozenset({"owner"}),
    "site_id": frozenset({"site"}),
    "site": frozenset({"site"}),
    "partner": frozenset({"owner"}),
    "dependencies": frozenset({"id"}),
    "dependants": frozenset({"id"}),
    "history": frozenset({"id"}),
    "region": frozenset({"region"}),
    "catalog_product": frozenset({"product"}),
    "vc12_used": frozenset({"id", "capacity_vc12"}),
    "vc12_held": frozenset({"id", "capacity_vc12"}),
    "vc12_free": frozenset({"id", "capacity_vc12"}),
}


def element_reads(cls: type[Element], python_name: str) -> frozenset[str] | None:
    """The stored properties one field of an element type reads (None: possibly any), so a
    caller can fetch only what a selection shows."""
    if python_name == "kind":
        return frozenset({"kind"})
    for name, attr in _plain_fields(cls):
        if name == python_name:
            return frozenset({attr})
    return RESOLVER_READS.get(python_name)


def to_type(el: m.Element) -> Element:
    """The GraphQL object of a stored element (no visibility check: callers filter first): its
    kind's type, holding the element and a copy of the plain fields it shows."""
    cls = KIND_TYPES.get(el.kind, GenericElement)
    names, read = _copier(cls)
    return cls(_el=el, kind=el.kind, **dict(zip(names, read(el), strict=True)))


@cache
def _copier(cls: type[Element]) -> tuple[tuple[str, ...], Callable[[m.Element], tuple[Any, ...]]]:
    """The python names of a type's plain fields, and one call reading them all off an element
    (a page of riders builds a hundred objects)."""
    fields = _plain_fields(cls)
    names = tuple(name for name, _ in fields)
    attrs = tuple(attr for _, attr in fields)
    if not attrs:
        return names, lambda el: ()
    getter = attrgetter(*attrs)
    if len(attrs) == 1:
        return names, lambda el: (getter(el),)
    return names, getter


@strawberry.type
class ElementEdge:
    cursor: str
    node: Element


@strawberry.type(description="A page of elements with the total over all pages.")
class ElementConnection:
    edges: list[ElementEdge]
    page_info: PageInfo
    total_count: int


def _as(el: m.Element | None, cls: type[Element]) -> Any:
    """The element as `cls` when it is of that kind (else None: a dangling or odd reference)."""
    if el is None or KIND_TYPES.get(el.kind) is not cls:
        return None
    return to_type(el)


async def _links(
    info: Info, element_id: str, direction: str, types: list[Any] | None
) -> list[Link]:
    ctx = info.context
    key = (element_id, direction, tuple(sorted(str(t.value) for t in types or ())))
    pairs = await ctx.loaders.neighbours.load(key)  # type: ignore[arg-type]
    return [
        Link(type=m.EdgeType(e.type), seq=e.seq, slots=e.slots, node=to_type(other))
        for e, other in pairs
        if ctx.sees(other)
    ]
