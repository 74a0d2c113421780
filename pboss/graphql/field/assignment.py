"""Assignment mutations: place open work orders on crews together (each placement explained like
path choice), assign one by hand (typed refusals, nothing written), move a sick crew's work.

Engineers and admins dispatch. The dispatcher comes from `info.context.state["dispatcher"]`, or
is made on first use with the provisioning service's clock when the app has one (one clock).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any

import strawberry

from pboss.field.assignment import AssignmentError, CrewVerdict, Placement
from pboss.field.dispatch import Dispatch, Dispatcher
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Error, Forbidden, NotFound, ValidationError
from pboss.inventory import errors as inv
from pboss.provisioning.errors import InvalidState

WRITE_ROLES = frozenset({"engineer", "admin"})
#: Work orders one batch may name (a whole dispatch names none: every open unassigned one).
MAX_BATCH = 5000
NOTE_MAX = 500
_LOCK = threading.Lock()


@strawberry.type(description="One crew considered for a work order and how it fared.")
class AssignmentCandidate:
    crew: strawberry.ID
    outcome: str = strawberry.field(description="chosen, lost (costed) or excluded (unable).")
    reason: str
    travel_km: float | None
    on_time: bool | None = strawberry.field(
        description="Whether the crew had a shift ending by the deadline (lost ones)."
    )


@strawberry.type(description="Where one work order went (or why nowhere), and why.")
class WorkOrderPlacement:
    work_order: strawberry.ID
    crew: strawberry.ID | None
    planned_start: datetime | None
    planned_end: datetime | None
    predicted_breach: bool
    travel_km: float | None
    explanation: str
    refusal: str | None = strawberry.field(
        description="no_crew (no crew has the skill, area and owner) or no_room (all full)."
    )
    written: bool = strawberry.field(description="False when re-checks under lock left it out.")
    skipped_reason: str | None
    candidates: list[AssignmentCandidate] = strawberry.field(
        description="The chosen crew, the able crews that lost, and the near misses (crews with "
        "the skill or covering the site that cannot take it)."
    )
    other_crews: int = strawberry.field(
        description="Crews not listed: they have neither the skill nor the site's area."
    )


@strawberry.type(description="One dispatch run: every placement, its totals, released holds.")
class WorkOrderAssignment:
    placements: list[WorkOrderPlacement]
    predicted_breaches: int
    unplaced: int
    travel_km: float
    released: list[strawberry.ID] = strawberry.field(
        description="Held work orders taken off their crews (their slots went to others)."
    )


@strawberry.type(description="The crew cannot take the work order (skill, area, owner, shift).")
class AssignmentRefused(Error):
    reasons: list[str]


AssignWorkOrdersPayload = Annotated[
    WorkOrderAssignment | AssignmentRefused | ValidationError | NotFound | Forbidden,
    strawberry.union("AssignWorkOrdersPayload"),
]
AssignWorkOrderPayload = Annotated[
    WorkOrderPlacement | AssignmentRefused | ValidationError | NotFound | Forbidden,
    strawberry.union("AssignWorkOrderPayload"),
]


def dispatcher_of(ctx: Context) -> Dispatcher:
    """The app's dispatcher (made once on first use, on the provisioning service's clock)."""
    d = ctx.state.get("dispatcher")
    if d is None:
        with _LOCK:
            d = ctx.state.get("dispatcher")
            if d is None:
                clock = getattr(ctx.state.get("provisioning"), "clock", None)
                d = Dispatcher(ctx.store, clock)
                ctx.state["dispatcher"] = d
    return d


def _candidate(v: CrewVerdict) -> AssignmentCandidate:
    """A verdict as the API shows it."""
    return AssignmentCandidate(
        crew=strawberry.ID(v.crew),
        outcome=v.outcome,
        reason=v.reason,
        travel_km=None if v.travel_km is None else round(v.travel_km, 3),
        on_time=v.on_time,
    )


def placement_of(
    p: Placement, written: bool = True, skipped: str | None = None
) -> WorkOrderPlacement:
    """A placement as the API shows it."""
    first = p.shifts_used[0] if p.shifts_used else p.shift
    return WorkOrderPlacement(
        work_order=strawberry.ID(p.order),
        crew=strawberry.ID(p.crew) if p.crew else None,
        planned_start=first.start if first else None,
        planned_end=p.shift.end if p.shift else None,
        predicted_breach=p.breach,
        travel_km=None if p.travel_km is None else round(p.travel_km, 3),
        explanation=p.why,
        refusal=p.refusal,
        written=written,
        skipped_reason=skipped,
        candidates=[_candidate(v) for v in p.considered],
        other_crews=p.others,
    )


def dispatch_of(d: Dispatch) -> WorkOrderAssignment:
    """A dispatch run as the API shows it."""
    done = set(d.written)
    skipped = {s.order: s.reason for s in d.skipped}
    return WorkOrderAssignment(
        placements=[
            placement_of(p, p.order in done, skipped.get(p.order)) for p in d.result.placements
        ],
        predicted_breaches=d.result.breaches,
        unplaced=d.result.unplaced,
        travel_km=d.result.travel_km,
        released=[strawberry.ID(i) for i in d.released],
    )


def _refused(exc: Exception) -> Any:
    """The typed answer of an expected failure."""
    if isinstance(exc, AssignmentError):
        return AssignmentRefused(message=str(exc), code=exc.code.upper(), reasons=exc.reasons)
    if isinstance(exc, InvalidState):
        return AssignmentRefused(message=str(exc), code="INVALID_STATE", reasons=exc.reasons)
    if isinstance(exc, inv.ValidationFailed):
        return ValidationError.of_exc(exc)
    if isinstance(exc, inv.NotFound):
        return NotFound.of(exc.element_id, exc.kind)
    raise exc


_EXPECTED = (AssignmentError, InvalidState, inv.NotFound, inv.ValidationFailed)


@strawberry.type
class AssignmentMutation:
    """Dispatch work orders to crews."""

    @strawberry.mutation(
        description="Assign open work orders to crews together: every open one without a crew "
        "(or the listed ones), fewest predicted SLA breaches first, then least travel, no shift "
        "over its crew's capacity; each placement explained. Held jobs give their slots back."
    )
    async def assign_work_orders(
        self, info: Info, work_orders: list[strawberry.ID] | None = None
    ) -> AssignWorkOrdersPayload:
        ctx = info.context
        if ctx.principal.role not in WRITE_ROLES:
            return Forbidden.of("dispatch work orders", ctx.principal.role)
        only = None if work_orders is None else [str(w) for w in work_orders]
        if only is not None and len(only) > MAX_BATCH:
            return ValidationError.single("workOrders", f"at most {MAX_BATCH} at once")
        if only is not None and len(set(only)) != len(only):
            return ValidationError.single("workOrders", "a work order is listed twice")
        d = dispatcher_of(ctx)
        try:
            got = await ctx.call(d.assign_open, actor=ctx.principal.actor, only=only)
        except _EXPECTED as exc:
            return _refused(exc)
        return dispatch_of(got)

    @strawberry.mutation(
        description="Assign one open work order to a crew of a person's choosing: refused "
        "(AssignmentRefused, nothing written) when the crew lacks the skill, does not cover the "
        "site, belongs to another owner, is unavailable or has no room in a shift."
    )
    async def assign_work_order(
        self, info: Info, work_order: strawberry.ID, crew: strawberry.ID, note: str = ""
    ) -> AssignWorkOrderPayload:
        ctx = info.context
        if ctx.principal.role not in WRITE_ROLES:
            return Forbidden.of("dispatch work orders", ctx.principal.role)
        d = dispatcher_of(ctx)
        try:
            got = await ctx.call(
                d.assign_one, str(work_order), str(crew), actor=ctx.principal.actor,
                reason=note[:NOTE_MAX],
            )  # fmt: skip
        except _EXPECTED as exc:
            return _refused(exc)
        return placement_of(got)

    @strawberry.mutation(
        description="Move an unavailable (sick) crew's open work to the other crews, optimised "
        "together; work no crew can take is left without a crew and reported."
    )
    async def reassign_crew_work(self, info: Info, crew: strawberry.ID) -> AssignWorkOrdersPayload:
        ctx = info.context
        if ctx.principal.role not in WRITE_ROLES:
            return Forbidden.of("dispatch work orders", ctx.principal.role)
        d = dispatcher_of(ctx)
        try:
            got = await ctx.call(d.reassign_crew, str(crew), actor=ctx.principal.actor)
        except _EXPECTED as exc:
            return _refused(exc)
        return dispatch_of(got)
