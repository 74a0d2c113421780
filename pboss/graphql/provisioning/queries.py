"""Provisioning queries: orders, reservations, construction orders and path previews."""

from __future__ import annotations

import strawberry

from pboss.graphql.connections import PageInfo, decode_cursor, encode_cursor, page_size
from pboss.graphql.context import Info
from pboss.graphql.provisioning.access import attempt, hidden_from_partner, refused, service_of
from pboss.graphql.provisioning.types import (
    OrderConnection,
    OrderEdge,
    OrderResult,
    PlanResult,
    ReservationResult,
    WorkOrderResult,
    order_of,
    plan_explanation,
    reservation_of,
    work_order_of,
)
from pboss.provisioning.plan import Plan


@strawberry.type
class ProvisioningQuery:
    """Orders, reservations, construction orders and path previews."""

    @strawberry.field(description="One order by its id or by CRM's order id.")
    async def order(
        self, info: Info, id: strawberry.ID | None = None, crm_order_id: str | None = None
    ) -> OrderResult:
        ctx = info.context
        svc = service_of(ctx)
        if id is not None:
            return await attempt(ctx, "read orders", order_of, svc.order, id)
        return await attempt(ctx, "read orders", order_of, svc.order_by_crm_id, crm_order_id or "")

    @strawberry.field(description="Orders paged by id, optionally matching a text.")
    async def orders(
        self, info: Info, first: int = 50, after: str | None = None, text: str | None = None
    ) -> OrderConnection:
        ctx = info.context
        if refused(ctx, "read orders") is not None:
            nothing = PageInfo(has_next_page=False, end_cursor=None)
            return OrderConnection(edges=[], page_info=nothing, total_count=0)
        page = await ctx.call(
            service_of(ctx).orders,
            after=decode_cursor("order", after),
            limit=page_size(first),
            text=text,
        )
        edges = [
            OrderEdge(cursor=encode_cursor("order", o.id), node=order_of(o))  # type: ignore[arg-type]
            for o in page.items
        ]
        return OrderConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.next_cursor is not None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total,
        )

    @strawberry.field(description="One reservation by id.")
    async def reservation(self, info: Info, id: strawberry.ID) -> ReservationResult:
        ctx = info.context
        return await attempt(
            ctx, "read reservations", reservation_of, service_of(ctx).reservation, id
        )

    @strawberry.field(description="One construction order by id (a partner sees only its own).")
    async def work_order(self, info: Info, id: strawberry.ID) -> WorkOrderResult:
        ctx = info.context
        svc = service_of(ctx)
        if ctx.principal.is_partner:
            hidden = await hidden_from_partner(ctx, svc, id)
            if hidden is not None:
                return hidden
            return work_order_of(await ctx.call(svc.work_order, id))
        return await attempt(ctx, "read work orders", work_order_of, svc.work_order, id)

    @strawberry.field(
        description="Preview: the path an order would get now and why, without holding anything."
    )
    async def order_plan(self, info: Info, order_id: strawberry.ID) -> PlanResult:
        ctx = info.context
        svc = service_of(ctx)

        def preview() -> Plan:
            return svc.plan(svc.order(order_id), fresh=True)

        return await attempt(ctx, "read orders", plan_explanation, preview)
