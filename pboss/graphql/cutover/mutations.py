"""Cutover mutations: plan a re-home or a re-route (validated, holding the targets, with the
impact), approve (CRM and partners hear of it), schedule, execute (re-checked under lock,
verified), roll back and cancel; each answers with the plan or a typed error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from pboss.cutover.service import CutoverService
from pboss.graphql.context import Info
from pboss.graphql.cutover.access import service_of, write
from pboss.graphql.cutover.inputs import RehomePlanInput, ReroutePlanInput
from pboss.graphql.cutover.types import CutoverPayload
from pboss.graphql.errors import ValidationError

NOTE_MAX = 500


async def _step(
    info: Info, action: str, step: Callable[..., Any], plan_id: strawberry.ID, note: str
) -> Any:
    """One step of a plan's life (a CutoverService method: approve, schedule, cancel, roll
    back) taken by the caller, with its note."""
    ctx = info.context
    return await write(
        ctx, action, step, service_of(ctx), str(plan_id), actor=ctx.principal.actor,
        note=note[:NOTE_MAX],
    )  # fmt: skip


@strawberry.type
class CutoverMutation:
    """Plan, announce, execute and reverse cutovers."""

    @strawberry.mutation(
        description="Plan re-homing riders of one splitter onto another (all of them, or as "
        "mapped); the target outputs are held for the window."
    )
    async def plan_rehome(self, info: Info, input: RehomePlanInput) -> CutoverPayload:
        ctx = info.context
        mapping = None
        if input.mappings is not None:
            mapping = {}
            for m in input.mappings:
                if str(m.rider) in mapping:
                    return ValidationError.single("mappings", f"{m.rider} is mapped twice", "rider")
                mapping[str(m.rider)] = str(m.target_port)
        return await write(
            ctx, "plan cutovers", service_of(ctx).plan_rehome,
            source=str(input.source), target=str(input.target),
            window_start=input.window_start, window_end=input.window_end,
            reason=input.reason[:2000], actor=ctx.principal.actor, mapping=mapping,
            plan_id=str(input.id) if input.id else None,
        )  # fmt: skip

    @strawberry.mutation(
        description="Plan moving circuits off a trunk section or partner link onto alternative "
        "routes with fresh VC-12 slots, held for the window."
    )
    async def plan_reroute(self, info: Info, input: ReroutePlanInput) -> CutoverPayload:
        ctx = info.context
        return await write(
            ctx, "plan cutovers", service_of(ctx).plan_reroute,
            link=str(input.link), window_start=input.window_start, window_end=input.window_end,
            reason=input.reason[:2000], actor=ctx.principal.actor,
            circuits=[str(c) for c in input.circuits] if input.circuits is not None else None,
            self_built_only=input.self_built_only, plan_id=str(input.id) if input.id else None,
        )  # fmt: skip

    @strawberry.mutation(description="Approve a draft plan: CRM and partners hear of it.")
    async def approve_cutover(
        self, info: Info, id: strawberry.ID, note: str = ""
    ) -> CutoverPayload:
        return await _step(info, "approve cutovers", CutoverService.approve, id, note)

    @strawberry.mutation(description="Schedule an approved plan for its window.")
    async def schedule_cutover(
        self, info: Info, id: strawberry.ID, note: str = ""
    ) -> CutoverPayload:
        return await _step(info, "schedule cutovers", CutoverService.schedule, id, note)

    @strawberry.mutation(description="Cancel a plan not yet executed; its holds are released.")
    async def cancel_cutover(self, info: Info, id: strawberry.ID, note: str = "") -> CutoverPayload:
        return await _step(info, "cancel cutovers", CutoverService.cancel, id, note)

    @strawberry.mutation(
        description="Execute a scheduled plan in its window: every assumption re-checked under "
        "lock (CutoverAssumptionBroken, nothing written, when one broke), then verified. With "
        "batchSize, that many riders per transaction, each batch leaving the graph consistent."
    )
    async def execute_cutover(
        self, info: Info, id: strawberry.ID, batch_size: int | None = None
    ) -> CutoverPayload:
        ctx = info.context
        svc = service_of(ctx)
        return await write(
            ctx, "execute cutovers", svc.execute, str(id),
            actor=ctx.principal.actor, batch_size=batch_size,
        )  # fmt: skip

    @strawberry.mutation(description="Roll a completed plan back to the pre-cutover graph.")
    async def rollback_cutover(
        self, info: Info, id: strawberry.ID, note: str = ""
    ) -> CutoverPayload:
        return await _step(info, "roll back cutovers", CutoverService.rollback, id, note)
