"""Engineers' view types: traces (top-down hops) and riders (bottom-up services, with totals).

Builders turn the store's Trace and Riders into GraphQL objects for one caller: hops and riders
the caller may not see are dropped or blanked (a partner sees its own hops, and riders only as
counts and health, never the services or customers). Riders page by service id; a partner's
cursors carry that id sealed (`connections.CursorSeal`: encrypted and authenticated under the
configured key), so they name no service, and a partner cannot page from an id it made up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from functools import partial

import strawberry
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from pboss.graphql.connections import PageInfo, decode_cursor, encode_cursor
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import StatusEnum, UserInputError
from pboss.graphql.inventory.types import (
    Customer,
    Element,
    Partner,
    Service,
    element_reads,
    graphql_field_name,
    to_type,
)
from pboss.graphql.permissions import CAN_SEE_READS, HIDDEN_FROM_PARTNERS, sees_all
from pboss.inventory import model as m
from pboss.inventory import results as r
from pboss.inventory.lifecycle import Status


@strawberry.enum(description="What a dependant inherits from what it depends on.")
class Health(Enum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


#: Health by its value, without the enum's call (once per rider of a page).
_HEALTH = {h.value: h for h in Health}


def worst(healths: list[Health]) -> Health:
    """The worst of several healths (OK when there are none)."""
    order = [Health.OK, Health.DEGRADED, Health.DOWN]
    return max(healths, key=order.index, default=Health.OK)


@strawberry.type(description="One step of a path, in order, with its owner and capacity use.")
class Hop:
    position: int
    role: str = strawberry.field(
        description="ont, splitter_port, splitter, pon_port, olt, a_end, trunk, z_end, circuit, "
        "partner_access"
    )
    depth: int
    element: Element
    owner: str = strawberry.field(description='who owns it: "self" or the partner id')
    is_partner: bool
    status: StatusEnum
    seq: int | None = strawberry.field(description="position in a circuit's route")
    slots: list[int] | None = strawberry.field(description="VC-12 slots the circuit uses here")
    capacity: int | None = strawberry.field(description="VC-12 slots, splitter outputs, pool size")
    used: int | None

    @strawberry.field(description="capacity - used, when both are known")
    def free(self) -> int | None:
        if self.capacity is None or self.used is None:
            return None
        return self.capacity - self.used

    @strawberry.field(description="The partner owning this hop (null when self-built).")
    async def partner(self, info: Info) -> Partner | None:
        return await self.element.partner(info)  # type: ignore[misc,arg-type]


@strawberry.type(description="Top-down: what a service or circuit depends on, in path order.")
class Trace:
    root: Element
    hops: list[Hop]
    health: Health
    impaired_by: list[strawberry.ID]


@strawberry.type(description="The paths of all of a customer's services.")
class CustomerTrace:
    customer: Customer
    traces: list[Trace]
    health: Health


@strawberry.type(description="A key and how many.")
class Count:
    key: str
    count: int


@strawberry.type(description="Riders counted by product, customer type and SLA tier.")
class RiderTotals:
    services: int
    customers: int
    by_product: list[Count]
    by_customer_type: list[Count]
    by_sla_tier: list[Count]


@strawberry.type(description="A service riding on the resources asked about.")
class Rider:
    service: Service | None = strawberry.field(description="null for a partner key")
    customer: Customer | None = strawberry.field(description="null for a partner key")
    product: str | None
    health: Health
    impaired_by: list[strawberry.ID]


@strawberry.type
class RiderEdge:
    cursor: str
    node: Rider


@strawberry.type(description="Bottom-up: the services depending on some resources, paged.")
class RiderConnection:
    resources: list[strawberry.ID]
    totals: RiderTotals
    total_count: int
    edges: list[RiderEdge]
    page_info: PageInfo


#: One item of strawberry's `info.selected_fields` tree.
Selected = SelectedField | FragmentSpread | InlineFragment

RIDER_CURSOR = "rider"


def _sealed_list(ctx: Context, resources: Sequence[str]) -> str:
    """What a partner's rider cursor is sealed for: this partner's riders of these resources, so
    a cursor replayed by another partner or on other resources opens nothing."""
    return f"{RIDER_CURSOR}:{ctx.principal.partner_id}:{','.join(sorted(set(resources)))}"


def rider_cursors(ctx: Context, resources: Sequence[str]) -> Callable[[str], str]:
    """How this caller's rider cursors of these resources are made from service ids: sealed for
    a partner, who may not learn service ids (`CursorSeal`), plain for everyone else."""
    if ctx.principal.is_partner:
        return partial(ctx.cursor_seal.seal, _sealed_list(ctx, resources))
    return partial(encode_cursor, RIDER_CURSOR)


def rider_after(ctx: Context, resources: Sequence[str], cursor: str | None) -> str | None:
    """The service id a rider cursor of this caller pages after (UserInputError when invalid).

    A partner's cursor must be one it was given: a plain `rider:<id>` cursor is refused, so a
    partner cannot page from (and so probe for) a service id of its own making.
    """
    if cursor is None or not ctx.principal.is_partner:
        return decode_cursor(RIDER_CURSOR, cursor)
    key = ctx.cursor_seal.open(_sealed_list(ctx, resources), cursor)
    if key is None:
        raise UserInputError(f"invalid cursor {cursor[:80]!r} for this list")
    return key


def build_hop(hop: r.Hop, position: int) -> Hop:
    """A visible hop, renumbered in the caller's view."""
    el = hop.element
    return Hop(
        position=position,
        role=hop.role,
        depth=hop.depth,
        element=to_type(el),
        owner=el.owner,
        is_partner=el.is_partner,
        status=Status(el.status),
        seq=hop.seq,
        slots=hop.slots,
        capacity=hop.capacity,
        used=hop.used,
    )


def build_trace(ctx: Context, trace: r.Trace) -> Trace:
    """The caller's view of a trace: hidden hops dropped, impairments only among visible ones."""
    shown = [h for h in trace.hops if ctx.sees(h.element)]
    visible = {h.element.id for h in shown} | {trace.root.id}
    return Trace(
        root=to_type(trace.root),
        hops=[build_hop(h, i) for i, h in enumerate(shown, start=1)],
        health=Health(trace.health),
        impaired_by=[i for i in trace.impaired_by if i in visible],
    )


def _counts(d: dict[str, int]) -> list[Count]:
    return [Count(key=k, count=v) for k, v in d.items()]


# ---- what a riders selection reads of its services and customers ------------------------------

#: The path from a riders field down to a rider's elements, and the element fields at its end.
_TO_NODE = ("edges", "node")
_RIDER_ELEMENTS: dict[str, type[Element]] = {"service": Service, "customer": Customer}


def _fields(
    selections: list[Selected],
) -> list[SelectedField]:
    """The fields of one selection level, through inline fragments and fragment spreads whatever
    their type condition or directives (more fields than the answer shows, never fewer)."""
    out: list[SelectedField] = []
    for sel in selections:
        if isinstance(sel, SelectedField):
            out.append(sel)
        else:
            out += _fields(sel.selections)
    return out


def rider_fields(info: Info) -> r.RiderFields | None:
    """The stored properties a riders selection reads of services and customers, so the store
    sends only those; None (whole elements) when a field there may read any property (attrs).
    For a partner, whose view depends on each element, also what `can_see` reads."""
    fields = _selected_rider_fields(info.selected_fields)
    if fields is None or not info.context.principal.is_partner:
        return fields
    return r.RiderFields(
        _seen_by_partner(m.Service, fields.service), _seen_by_partner(m.Customer, fields.customer)
    )


#: What `can_see` reads of each kind of rider element (its fields among `CAN_SEE_READS`).
_SEE_READS = {
    cls.kind: frozenset(CAN_SEE_READS & cls.model_fields.keys()) for cls in (m.Service, m.Customer)
}


def _seen_by_partner(kind: type[m.Element], asked: frozenset[str]) -> frozenset[str]:
    """What a partner's page needs of a rider element of this kind: no property of a kind it
    never sees (only the identity and kind leave the store: a customer's phone stays there),
    else what the selection reads and what `can_see` reads."""
    if kind.kind in HIDDEN_FROM_PARTNERS:
        return frozenset()
    return asked | _SEE_READS[kind.kind]


def _selected_rider_fields(
    selected: list[Selected],
) -> r.RiderFields | None:
    """`rider_fields` worked out from the riders field's selection (strawberry's public
    `info.selected_fields`)."""
    nodes = _fields(selected)
    for name in _TO_NODE:
        nodes = [f for n in nodes for f in _fields(n.selections) if f.name == name]
    asked: dict[str, set[str]] = {"service": set(), "customer": set()}
    for node in nodes:
        for field in _fields(node.selections):
            kind = field.name
            if kind not in asked:
                continue
            cls = _RIDER_ELEMENTS[kind]
            for sub in _fields(field.selections):
                if sub.name == "__typename":
                    continue
                reads = element_reads(cls, graphql_field_name(cls, sub.name))
                if reads is None:
                    return None
                asked[kind] |= reads
    return r.RiderFields(frozenset(asked["service"]), frozenset(asked["customer"]))


def build_riders(ctx: Context, riders: r.Riders) -> RiderConnection:
    """The caller's view of riders: partners get counts and health, not services or customers."""
    asked = set(riders.resource_ids)
    principal = ctx.principal
    partner, sees, every = principal.is_partner, ctx.sees, sees_all(principal)
    items = riders.items
    services: list[Element | None]
    customers: list[Element | None]
    if every is None:  # a partner: asked per element
        services = [to_type(x.service) if sees(x.service) else None for x in items]
        customers = [to_type(x.customer) if sees(x.customer) else None for x in items]
    elif every:  # the same answer for every element
        services = [to_type(x.service) for x in items]
        customers = [None if x.customer is None else to_type(x.customer) for x in items]
    else:
        services = customers = [None] * len(items)
    cursor = rider_cursors(ctx, riders.resource_ids)
    edges = [
        RiderEdge(
            cursor=cursor(x.service.id),
            node=Rider(
                service=service,
                customer=customer,
                product=getattr(x.service, "product", None),
                health=_HEALTH.get(x.health) or Health(x.health),
                impaired_by=(
                    [i for i in x.impaired_by if i in asked] if partner else list(x.impaired_by)
                ),
            ),
        )
        for x, service, customer in zip(items, services, customers, strict=True)
    ]
    t = riders.totals
    return RiderConnection(
        resources=list(riders.resource_ids),
        totals=RiderTotals(
            services=t.services,
            customers=t.customers,
            by_product=_counts(t.by_product),
            by_customer_type=_counts(t.by_customer_type),
            by_sla_tier=_counts(t.by_sla_tier),
        ),
        total_count=t.services,
        edges=edges,
        page_info=PageInfo(
            has_next_page=riders.next_cursor is not None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
