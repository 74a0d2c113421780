"""Provisioning mutations: submitOrder, reserve, confirm, release, cancelOrder and
recordMilestone, each answering with its result or a typed error (NoCapacity, InvalidState,
Expired, Conflict, NotFound, Forbidden, ValidationError).
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from pydantic import ValidationError as PydanticError

from pboss.field.clock import HeldFor
from pboss.graphql.business.addresses import NoSuchAddress, site_by_address
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import ValidationError
from pboss.graphql.field.types import HeldForEnum
from pboss.graphql.provisioning.access import hidden_from_partner, refused, service_of, write
from pboss.graphql.provisioning.inputs import SITE_ADDRESSES, SubmitOrderInput
from pboss.graphql.provisioning.types import (
    EXPECTED,
    CancelPayload,
    ConfirmPayload,
    MilestoneEnum,
    MilestoneOutcome,
    MilestonePayload,
    ReleasePayload,
    ReservePayload,
    SubmitOrderPayload,
    error_of,
    graphql_name,
    input_error,
    order_of,
    reservation_of,
    work_order_of,
)
from pboss.provisioning.service import OrderRequest


def _field_of(loc: tuple[int | str, ...]) -> str | None:
    """The GraphQL input field a pydantic error location names."""
    return graphql_name(str(loc[0])) if loc else None


async def _site_of(
    ctx: Context, site: str | None, address: str | None, field: str
) -> str | tuple[str, str] | ValidationError | None:
    """The site id an order names, given as an id or found by address (GraphQL field `field`)
    the way `availability` finds it; (field, reason) when the address matches no site or both
    are given; a ValidationError when it matches several."""
    if address is None:
        return site
    if site is not None:
        return field, "give a site id or an address, not both"
    found = await site_by_address(ctx, address, field, item="input")
    if isinstance(found, NoSuchAddress):
        return field, found.reason
    return found


@strawberry.type
class ProvisioningMutation:
    """Submit, reserve, confirm, release and cancel orders; report construction milestones."""

    @strawberry.mutation(
        description="Record a CRM order (acknowledged); the same order again returns it."
    )
    async def submit_order(self, info: Info, input: SubmitOrderInput) -> SubmitOrderPayload:
        ctx = info.context
        refusal = refused(ctx, "submit orders")
        if refusal is not None:
            return refusal
        given = {f: getattr(input, f) for f in OrderRequest.model_fields}
        for site_field, address_field in SITE_ADDRESSES:
            address = getattr(input, address_field)
            found = await _site_of(ctx, given[site_field], address, graphql_name(address_field))
            if isinstance(found, tuple):
                return input_error("the order's sites are not clear", [found])
            if not isinstance(found, str | None):
                return found
            given[site_field] = found
        try:
            request = OrderRequest(**given)
        except PydanticError as exc:
            problems = [(_field_of(e["loc"]), e["msg"]) for e in exc.errors()]
            return input_error("the order is malformed", problems)
        return await write(ctx, "submit orders", order_of, service_of(ctx).submit_order, request)

    @strawberry.mutation(
        description="Hold the best path for an order (ttlSeconds: default 30 min, or the SLA for "
        "construction orders); NoCapacity with reasons when nothing can serve it."
    )
    async def reserve(
        self, info: Info, order_id: strawberry.ID, ttl_seconds: int | None = None
    ) -> ReservePayload:
        ctx = info.context
        svc = service_of(ctx)
        return await write(
            ctx, "reserve", reservation_of, svc.reserve, order_id, ttl_seconds=ttl_seconds
        )

    @strawberry.mutation(description="Put a held reservation into service (creates the service).")
    async def confirm(self, info: Info, reservation_id: strawberry.ID) -> ConfirmPayload:
        ctx = info.context
        return await write(ctx, "confirm", reservation_of, service_of(ctx).confirm, reservation_id)

    @strawberry.mutation(description="Free everything a hold holds; the order waits for a new one.")
    async def release(
        self, info: Info, reservation_id: strawberry.ID, reason: str = "released by CRM"
    ) -> ReleasePayload:
        ctx = info.context
        svc = service_of(ctx)
        return await write(
            ctx, "release", reservation_of, svc.release, reservation_id, reason[:500]
        )

    @strawberry.mutation(description="Cancel an order and free whatever it holds.")
    async def cancel_order(
        self, info: Info, order_id: strawberry.ID, reason: str = "cancelled by CRM"
    ) -> CancelPayload:
        ctx = info.context
        return await write(
            ctx, "cancel orders", order_of, service_of(ctx).cancel, order_id, reason[:500]
        )

    @strawberry.mutation(
        description="Report a construction milestone; acceptance puts the service in place. A "
        "partner key may report only on its own construction orders."
    )
    async def record_milestone(
        self,
        info: Info,
        work_order_id: strawberry.ID,
        milestone: MilestoneEnum,
        outcome: MilestoneOutcome = MilestoneOutcome.DONE,
        note: str = "",
        held_for: Annotated[
            HeldForEnum,
            strawberry.argument(
                description="for a hold: whose side it is on (only CUSTOMER pauses the SLA clock)"
            ),
        ] = HeldFor.US,
    ) -> MilestonePayload:
        ctx = info.context
        svc = service_of(ctx)
        args = (work_order_id, milestone, outcome.value, note[:500])
        kwargs = {"actor": ctx.principal.actor, "held_for": held_for.value}
        if ctx.principal.is_partner:
            hidden = await hidden_from_partner(ctx, svc, work_order_id)
            if hidden is not None:
                return hidden
            try:
                return work_order_of(await ctx.call(svc.record_milestone, *args, **kwargs))
            except EXPECTED as exc:
                return error_of(exc)
            finally:
                ctx.loaders.forget()
        return await write(
            ctx,
            "report milestones",
            work_order_of,
            svc.record_milestone,
            *args,
            **kwargs,
        )
