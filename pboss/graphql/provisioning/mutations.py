"""Provisioning mutations: submitOrder, reserve, confirm, release, cancelOrder and
recordMilestone, each answering with its result or a typed error (NoCapacity, InvalidState,
Expired, Conflict, NotFound, Forbidden, ValidationError).
"""

from __future__ import annotations

import strawberry

from pboss.graphql.context import Info
from pboss.graphql.errors import ValidationError
from pboss.graphql.provisioning.access import hidden_from_partner, service_of, write
from pboss.graphql.provisioning.inputs import SubmitOrderInput
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
    order_of,
    reservation_of,
    work_order_of,
)
from pboss.provisioning.service import OrderRequest


@strawberry.type
class ProvisioningMutation:
    """Submit, reserve, confirm, release and cancel orders; report construction milestones."""

    @strawberry.mutation(
        description="Record a CRM order (acknowledged); the same order again returns it."
    )
    async def submit_order(self, info: Info, input: SubmitOrderInput) -> SubmitOrderPayload:
        ctx = info.context
        try:
            request = OrderRequest(**{f: getattr(input, f) for f in OrderRequest.model_fields})
        except ValueError as exc:
            return ValidationError.single("input", str(exc).splitlines()[0])
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
    ) -> MilestonePayload:
        ctx = info.context
        svc = service_of(ctx)
        args = (work_order_id, milestone, outcome.value, note[:500])
        if ctx.principal.is_partner:
            hidden = await hidden_from_partner(ctx, svc, work_order_id)
            if hidden is not None:
                return hidden
            try:
                return work_order_of(await ctx.call(svc.record_milestone, *args))
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
        )
