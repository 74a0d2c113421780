"""Cutover queries: one plan, or the plans (in some states) this caller may see."""

from __future__ import annotations

import strawberry

from pboss.cutover.errors import PlanNotFound
from pboss.graphql.context import Info
from pboss.graphql.cutover.access import READ_ROLES, service_of, shown, visible
from pboss.graphql.cutover.types import CutoverPlan, CutoverPlanResult, PlanStateEnum
from pboss.graphql.errors import Forbidden, NotFound, UserInputError

#: Most plans one `cutoverPlans` answer lists.
MAX_PLANS = 500


@strawberry.type
class CutoverQuery:
    """Cutover plans with their impact, steps and record."""

    @strawberry.field(description="One cutover plan (a partner: only one touching its resources).")
    async def cutover_plan(self, info: Info, id: strawberry.ID) -> CutoverPlanResult:
        ctx = info.context
        if ctx.principal.role not in READ_ROLES:
            return Forbidden.of("read cutover plans", ctx.principal.role)
        try:
            plan = await ctx.call(service_of(ctx).get, str(id))
        except PlanNotFound:
            return NotFound.of(str(id), "CutoverPlan")
        if not visible(ctx, plan):
            return NotFound.of(str(id), "CutoverPlan")
        return shown(ctx)(plan)

    @strawberry.field(description="Cutover plans by id, optionally in these states (at most 500).")
    async def cutover_plans(
        self,
        info: Info,
        states: list[PlanStateEnum] | None = None,  # type: ignore[valid-type]
        first: int = 100,
    ) -> list[CutoverPlan]:
        ctx = info.context
        if ctx.principal.role not in READ_ROLES:
            raise UserInputError("reading cutover plans is not allowed for this role", "FORBIDDEN")
        if not 1 <= first <= MAX_PLANS:
            raise UserInputError(f"first must be 1..{MAX_PLANS}")
        wanted = [str(s.value) for s in states] if states else None
        plans = await ctx.call(service_of(ctx).plans, wanted)
        show = shown(ctx)
        return [show(p) for p in plans if visible(ctx, p)][:first]
