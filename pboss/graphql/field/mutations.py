"""Field mutations: crews (create or replace, sickness, removal) and the field engineer's app's
step report (`recordFieldStep`: small payload, typed errors)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from pydantic import ValidationError as PydanticError

from pboss.field import model as fm
from pboss.field.clock import HeldFor
from pboss.field.crews import CrewHasOpenWork as CrewHasOpenWorkExc
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Forbidden, NotFound, ValidationError
from pboss.graphql.field.queries import field_of
from pboss.graphql.field.types import (
    CrewHasOpenWork,
    CrewInput,
    CrewRemoved,
    CrewStateChange,
    CrewStateEnum,
    FieldStepEnum,
    FieldStepPayload,
    HeldForEnum,
    NotYourWork,
    RemoveCrewPayload,
    SetCrewStatePayload,
    UpsertCrewPayload,
    crew_of,
    members_json,
)
from pboss.graphql.permissions import can_write, sees_phones
from pboss.graphql.provisioning.access import service_of
from pboss.graphql.provisioning.types import EXPECTED, error_of, work_order_of
from pboss.inventory import errors as inv
from pboss.provisioning.construction import NotYourWork as NotYourWorkExc

#: Roles that report field steps (a partner key only on its own work).
FIELD_ROLES = frozenset({"engineer", "admin", "partner"})


def _crew(ctx: Context, inp: CrewInput) -> fm.Crew | ValidationError:
    """The model crew from the input, or the refusal naming each bad field."""
    try:
        return fm.Crew(
            id=inp.id,
            name=inp.name,
            owner=inp.owner,
            site=inp.site,
            skills=[fm.Skill(s) for s in inp.skills],
            areas=list(dict.fromkeys(inp.areas)),
            capacity_per_shift=inp.capacity_per_shift,
            shift_start=inp.shift_start,
            shift_end=inp.shift_end,
            work_days=inp.work_days,
            days_off=inp.days_off,
            timezone=inp.timezone,
            supervisor=inp.supervisor,
            members=members_json(inp.members),
        )
    except PydanticError as exc:
        issues = [
            inv.Issue(
                item=str(inp.id),
                field=".".join(str(p) for p in e["loc"]) or None,
                reason=e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        ]
        return ValidationError.of(issues)


async def _writable(ctx: Context, crew_id: str, action: str) -> fm.Crew | NotFound | Forbidden:
    """The stored crew if this caller may change it (a partner only its own crews)."""
    try:
        crew = await ctx.call(field_of(ctx).crew, crew_id)
    except inv.NotFound:
        return NotFound.of(crew_id, "Crew")
    if not ctx.sees(crew):
        return NotFound.of(crew_id, "Crew")
    if not can_write(ctx.principal, crew):
        return Forbidden.of(action, ctx.principal.role)
    return crew


@strawberry.type
class FieldMutation:
    """Crews and field step reports."""

    @strawberry.mutation(
        description="Create or replace a crew (by id) with its COVERS edges; a partner key "
        "manages only its own crews. Refused as a whole (ValidationError) when an area is not "
        "a Region or Site, a skill, time or day is malformed, or the owner would change."
    )
    async def upsert_crew(self, info: Info, input: CrewInput) -> UpsertCrewPayload:
        ctx = info.context
        crew = _crew(ctx, input)
        if isinstance(crew, ValidationError):
            return crew
        if not can_write(ctx.principal, crew):
            return Forbidden.of("manage crews", ctx.principal.role, f"crew owner {crew.owner!r}")
        try:
            saved = await ctx.call(field_of(ctx).upsert_crew, crew, actor=ctx.principal.actor)
        except inv.ValidationFailed as exc:
            return ValidationError.of_exc(exc)
        finally:
            ctx.loaders.forget()
        return crew_of(saved, phones=sees_phones(ctx.principal))

    @strawberry.mutation(
        description="Make a crew active or unavailable (sick, on leave). An unavailable crew's "
        "open work is taken off it, recorded in each work order's history, and reassigned when "
        "the assignment optimiser is wired in (otherwise it waits in the unassigned queue)."
    )
    async def set_crew_state(
        self, info: Info, crew_id: strawberry.ID, state: CrewStateEnum, reason: str
    ) -> SetCrewStatePayload:
        ctx = info.context
        found = await _writable(ctx, crew_id, "set crew state")
        if not isinstance(found, fm.Crew):
            return found
        try:
            crew, moved = await ctx.call(
                field_of(ctx).set_crew_state,
                crew_id,
                state.value,
                reason=reason[:500],
                actor=ctx.principal.actor,
            )
        except inv.NotFound:
            return NotFound.of(crew_id, "Crew")
        finally:
            ctx.loaders.forget()
        return CrewStateChange(
            crew=crew_of(crew, phones=sees_phones(ctx.principal)),
            unassigned=moved,
            at=field_of(ctx).clock(),
        )

    @strawberry.mutation(
        description="Remove a crew; refused (CrewHasOpenWork, naming the work orders) while "
        "work assigned to it is open."
    )
    async def remove_crew(self, info: Info, crew_id: strawberry.ID) -> RemoveCrewPayload:
        ctx = info.context
        found = await _writable(ctx, crew_id, "remove crews")
        if not isinstance(found, fm.Crew):
            return found
        try:
            await ctx.call(field_of(ctx).remove_crew, crew_id, actor=ctx.principal.actor)
        except CrewHasOpenWorkExc as exc:
            return CrewHasOpenWork.of(exc)
        except inv.NotFound:
            return NotFound.of(crew_id, "Crew")
        finally:
            ctx.loaders.forget()
        return CrewRemoved(id=crew_id)

    @strawberry.mutation(
        description="What a field engineer's app reports: accepted, onTheWay, survey, "
        "installation, remoteTest, acceptance, held (with a reason and whose side: only a "
        "customer hold pauses the SLA clock), resumed, failed (with a reason); `at` is when it "
        "happened in the field (default now). Typed errors: InvalidState (out of order, or the "
        "job is closed), NotFound, NotYourWork (a partner key and another party's work)."
    )
    async def record_field_step(
        self,
        info: Info,
        work_order: strawberry.ID,
        step: FieldStepEnum,
        reason: str = "",
        at: datetime | None = None,
        held_for: HeldForEnum = HeldFor.US,
    ) -> FieldStepPayload:
        ctx = info.context
        if ctx.principal.role not in FIELD_ROLES:
            return Forbidden.of("report field steps", ctx.principal.role)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        try:
            wo = await ctx.call(
                service_of(ctx).record_field_step,
                work_order,
                step.value,
                reason[:500],
                at=at,
                actor=ctx.principal.actor,
                held_for=held_for.value,
                partner=ctx.principal.partner_id if ctx.principal.is_partner else None,
            )
        except NotYourWorkExc as exc:
            return NotYourWork(
                message=exc.reasons[0], code="NOT_YOUR_WORK", work_order_id=work_order
            )
        except EXPECTED as exc:
            return error_of(exc)
        finally:
            ctx.loaders.forget()
        return work_order_of(wo)
