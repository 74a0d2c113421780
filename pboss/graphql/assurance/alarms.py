"""GraphQL for alarms (TMF642): the type, one alarm, a filtered connection with the total, and
`raiseAlarm` / `clearAlarm` (the same code path as `POST /alarms`), typed errors in the unions.

The network's sources, engineers and admins raise and clear; every operator role reads; a
partner reads only alarms on its own resources (scope `partners`), without actors or notes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import strawberry

from pboss.assurance import model as am
from pboss.assurance.alarms import AlarmOp, AlarmResult
from pboss.assurance.service import AlarmFilter
from pboss.assurance.utilisation import UtilisationSweep
from pboss.graphql.assurance.access import ALARM_WRITE_ROLES, READ_ROLES, assurance_of
from pboss.graphql.assurance.tickets import AssuranceEntry, entries_of
from pboss.graphql.connections import MAX_PAGE, PageInfo, decode_cursor, encode_cursor, page_info
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Forbidden, NotFound, UserInputError, ValidationError
from pboss.inventory import errors as inv

SeverityEnum = strawberry.enum(am.Severity, name="AlarmSeverity", description="TMF642 severity.")
AlarmTypeEnum = strawberry.enum(am.AlarmType, name="AlarmType", description="X.733 alarm type.")
AlarmStateEnum = strawberry.enum(am.AlarmState, name="AlarmState", description="Raised/cleared.")
CURSOR = "alarm"
TEXT_MAX = 2000


@strawberry.type(description="A network alarm (TMF642) on one resource, raised until cleared.")
class Alarm:
    id: strawberry.ID
    source_alarm_id: str | None
    resource: strawberry.ID
    alarm_type: AlarmTypeEnum  # type: ignore[valid-type]
    probable_cause: str
    specific_problem: str
    severity: SeverityEnum  # type: ignore[valid-type]
    state: AlarmStateEnum  # type: ignore[valid-type]
    raised_at: datetime
    cleared_at: datetime | None
    origin: str = strawberry.field(description="network, or utilisation (pboss's thresholds).")
    previous_status: str | None = strawberry.field(
        description="The resource's status before this alarm set it faulty (restored on clear)."
    )
    incident: strawberry.ID | None
    sites: list[strawberry.ID]
    partners: list[strawberry.ID]
    history: list[AssuranceEntry]


def alarm_of(a: am.Alarm, partner: str | None = None) -> Alarm:
    """The alarm as this reader sees it."""
    return Alarm(
        id=strawberry.ID(a.id),
        source_alarm_id=a.source_alarm_id,
        resource=strawberry.ID(a.resource),
        alarm_type=am.AlarmType(a.alarm_type),
        probable_cause=a.probable_cause,
        specific_problem=a.specific_problem,
        severity=am.Severity(a.severity),
        state=am.AlarmState(a.state),
        raised_at=a.raised_at,
        cleared_at=a.cleared_at,
        origin=a.origin,
        previous_status=a.previous_status,
        incident=a.incident,
        sites=[strawberry.ID(s) for s in a.sites],
        partners=[strawberry.ID(p) for p in a.partners],
        history=entries_of(a.history, partner),
    )


@strawberry.type(description="What a raise or clear did, and the alarm as it now is.")
class AlarmApplied:
    outcome: str = strawberry.field(
        description="raised, updated (severity), unchanged (a repeat), cleared, ignored (a clear "
        "with no raise, recorded), stale (older than the alarm's last change, recorded)."
    )
    alarm: Alarm


AlarmPayload = Annotated[
    AlarmApplied | NotFound | ValidationError | Forbidden, strawberry.union("AlarmPayload")
]
AlarmResult_ = Annotated[Alarm | NotFound | Forbidden, strawberry.union("AlarmResult")]


@strawberry.type(description="An alarm in a page.")
class AlarmEdge:
    cursor: str
    node: Alarm


@strawberry.type(description="A page of alarms with the total passing the filter.")
class AlarmConnection:
    edges: list[AlarmEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="What a utilisation sweep read, raised, updated and cleared.")
class UtilisationSwept:
    readings: int
    raised: list[strawberry.ID]
    updated: list[strawberry.ID]
    cleared: list[strawberry.ID]
    failed: list[str]


UtilisationSweepPayload = Annotated[
    UtilisationSwept | Forbidden, strawberry.union("UtilisationSweepPayload")
]
#: Who may run a utilisation sweep by hand.
UTILISATION_ROLES = frozenset({"engineer", "admin"})

AlarmsResult = Annotated[AlarmConnection | Forbidden, strawberry.union("AlarmsResult")]


@strawberry.input(description="An alarm raised on a resource.")
class RaiseAlarmInput:
    resource: strawberry.ID
    alarm_type: AlarmTypeEnum  # type: ignore[valid-type]
    probable_cause: str
    severity: SeverityEnum  # type: ignore[valid-type]
    time: datetime | None = strawberry.field(default=None, description="Default: now.")
    source_alarm_id: str | None = strawberry.field(
        default=None, description="The source's own id (dedup key); else resource+type+cause."
    )
    specific_problem: str = ""


@strawberry.input(description="An alarm cleared on a resource.")
class ClearAlarmInput:
    resource: strawberry.ID
    alarm_type: AlarmTypeEnum  # type: ignore[valid-type]
    probable_cause: str
    time: datetime | None = None
    source_alarm_id: str | None = None


def _text_issue(values: dict[str, str | None]) -> ValidationError | None:
    for name, value in values.items():
        if value is not None and not (value.strip() and len(value) <= TEXT_MAX):
            return ValidationError.single("input", f"must be 1..{TEXT_MAX} characters", name)
    return None


def _applied(result: AlarmResult) -> AlarmApplied:
    return AlarmApplied(outcome=result.outcome, alarm=alarm_of(result.alarm))


async def _apply(ctx: Context, op: AlarmOp) -> Any:
    try:
        result = await ctx.call(assurance_of(ctx.state).apply_alarm, op, actor=ctx.principal.actor)
    except inv.NotFound as exc:
        return NotFound.of(exc.element_id, exc.kind)
    except inv.ValidationFailed as exc:
        return ValidationError.of_exc(exc)
    finally:
        ctx.loaders.forget()
    return _applied(result)


def _partner(ctx: Context) -> str | None:
    return ctx.principal.partner_id if ctx.principal.is_partner else None


@strawberry.type
class AlarmQuery:
    """Alarms."""

    @strawberry.field(description="One alarm (a partner: only one on its resources).")
    async def alarm(self, info: Info, id: strawberry.ID) -> AlarmResult_:
        ctx = info.context
        if ctx.principal.role not in READ_ROLES:
            return Forbidden.of("read alarms", ctx.principal.role)
        try:
            a = await ctx.call(assurance_of(ctx.state).alarm, str(id))
        except inv.NotFound:
            return NotFound.of(str(id), "Alarm")
        partner = _partner(ctx)
        if partner is not None and partner not in a.partners:
            return NotFound.of(str(id), "Alarm")
        return alarm_of(a, partner)

    @strawberry.field(description="Alarms by id, filtered (state; site; resource; partner; at "
                      "least this severe; origin), with the total.")  # fmt: skip
    async def alarms(
        self,
        info: Info,
        state: AlarmStateEnum | None = None,  # type: ignore[valid-type]
        site: strawberry.ID | None = None,
        resource: strawberry.ID | None = None,
        partner: strawberry.ID | None = None,
        severity: SeverityEnum | None = None,  # type: ignore[valid-type]
        origin: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AlarmsResult:
        ctx = info.context
        if ctx.principal.role not in READ_ROLES:
            return Forbidden.of("read alarms", ctx.principal.role)
        if not 1 <= first <= MAX_PAGE:
            raise UserInputError(f"first must be 1..{MAX_PAGE}")
        if origin is not None and origin not in ("network", "utilisation"):
            raise UserInputError("origin must be network or utilisation")
        own = _partner(ctx)
        if own is not None:
            if partner is not None and str(partner) != own:
                return Forbidden.of("filter on other partners", "partner")
            partner = strawberry.ID(own)
        where = AlarmFilter(
            state=str(state.value) if state else None,
            site=str(site) if site else None,
            resource=str(resource) if resource else None,
            partner=str(partner) if partner else None,
            min_severity=str(severity.value) if severity else None,
            origin=origin,
        )
        page = await ctx.call(
            assurance_of(ctx.state).alarms, where, after=decode_cursor(CURSOR, after), first=first
        )
        edges = [
            AlarmEdge(cursor=encode_cursor(CURSOR, a.id), node=alarm_of(a, own)) for a in page.items
        ]
        return AlarmConnection(
            edges=edges,
            page_info=page_info(edges, page.has_next),
            total_count=page.total,
        )


@strawberry.type
class AlarmMutation:
    """Raise and clear alarms."""

    @strawberry.mutation(
        description="Raise an alarm on a resource: deduplicated (a repeat changes nothing, "
        "another severity is recorded); by the configured rules a critical one sets the "
        "resource faulty (its status before kept for the clear)."
    )
    async def raise_alarm(self, info: Info, input: RaiseAlarmInput) -> AlarmPayload:
        extra = {
            "severity": am.Severity(input.severity),
            "specific_problem": input.specific_problem[:TEXT_MAX],
        }
        return await _alarm_op(info.context, "raise", input, **extra)

    @strawberry.mutation(
        description="Read the utilisation measures (PON split budget, splitter fill, trunk VC-12 "
        "use, partner pools) against the configured thresholds and raise or clear their alarms."
    )
    async def sweep_utilisation(self, info: Info) -> UtilisationSweepPayload:
        ctx = info.context
        if ctx.principal.role not in UTILISATION_ROLES:
            return Forbidden.of("sweep utilisation", ctx.principal.role)
        sweep = UtilisationSweep(assurance_of(ctx.state))
        try:
            report = await ctx.call(sweep.sweep, actor=ctx.principal.actor)
        finally:
            ctx.loaders.forget()
        return UtilisationSwept(
            readings=report.readings,
            raised=[strawberry.ID(r) for r in report.raised],
            updated=[strawberry.ID(r) for r in report.updated],
            cleared=[strawberry.ID(r) for r in report.cleared],
            failed=report.failed,
        )

    @strawberry.mutation(
        description="Clear an alarm: the resource's status before it is restored if it is "
        "still faulty and no other alarm holds it; a clear with no raise is recorded, ignored."
    )
    async def clear_alarm(self, info: Info, input: ClearAlarmInput) -> AlarmPayload:
        return await _alarm_op(info.context, "clear", input)


async def _alarm_op(
    ctx: Context, action: Literal["raise", "clear"], input: Any, **extra: Any
) -> AlarmPayload:
    """One raise or clear from its input: the role, the texts' limits, then the service."""
    if ctx.principal.role not in ALARM_WRITE_ROLES:
        return Forbidden.of(f"{action} alarms", ctx.principal.role)
    texts = {"probableCause": input.probable_cause, "sourceAlarmId": input.source_alarm_id}
    bad = _text_issue(texts)
    if bad is not None:
        return bad
    op = AlarmOp(
        action=action,
        resource=str(input.resource),
        alarm_type=am.AlarmType(input.alarm_type),
        probable_cause=input.probable_cause,
        at=input.time or assurance_of(ctx.state).clock(),
        source_alarm_id=input.source_alarm_id,
        **extra,
    )
    return await _apply(ctx, op)
