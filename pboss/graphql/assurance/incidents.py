"""Incidents in GraphQL: the list (filters, a connection with totals), one incident with its
impact, explanation and evidence, and the repair steps: dispatch, resolve, close.

Engineers and admins act; CRM reads. A partner key sees only incidents on its own resources or
whose repair went to it, and acts only on those (resolve); it never sees tickets, customers,
household names or phones: its impact is totals only. The repair service comes from
`info.context.state["repair"]`, or is made on first use with the provisioning service's clock
(one injectable clock for the app).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any

import strawberry

from pboss.assurance.correlation import Correlation
from pboss.assurance.model import Incident as IncidentRecord
from pboss.assurance.model import IncidentState, Priority
from pboss.assurance.repair import IncidentFilter, IncidentRow, RepairService, tier_rank
from pboss.assurance.repair_errors import NotYours, RepairRefused
from pboss.graphql.connections import PageInfo, decode_cursor, encode_cursor, page_info
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Error, Forbidden, NotFound, UserInputError
from pboss.graphql.network.types import Count
from pboss.inventory import errors as inv
from pboss.inventory.timestamps import stamp

READ_ROLES = frozenset({"crm", "engineer", "admin", "partner"})
WRITE_ROLES = frozenset({"engineer", "admin"})
#: Most incidents one page lists, and most riders an impact lists.
MAX_PAGE = 200
MAX_LISTED_RIDERS = 200
NOTE_MAX = 2000
SERVICE_LOCK = threading.Lock()

IncidentStateEnum = strawberry.enum(
    IncidentState, name="IncidentState", description="Where an incident stands."
)
IncidentPriorityEnum = strawberry.enum(
    Priority, name="IncidentPriority", description="An incident's priority (its tickets' highest)."
)


def service_of(ctx: Context) -> RepairService:
    """The app's repair service (made once on first use)."""
    svc = ctx.state.get("repair")
    if svc is None:
        with SERVICE_LOCK:
            svc = ctx.state.get("repair")
            if svc is None:
                clock = getattr(ctx.state.get("provisioning"), "clock", None)
                svc = RepairService(ctx.store, ctx.catalog, clock)
                ctx.state["repair"] = svc
    return svc


# ---- types --------------------------------------------------------------------------------------


@strawberry.type(description="The repair work order an incident was dispatched as.")
class IncidentRepair:
    id: strawberry.ID
    state: str
    assignee: str = strawberry.field(description="`crew:<site>` area queue, or the partner id")
    assignee_type: str
    crew: str | None = strawberry.field(description="null until field assignment picks a crew")
    skill: str | None
    site: str | None
    sla_hours: int
    created_at: datetime
    due_at: datetime
    jeopardy: bool
    breached: bool
    escalation: int
    completed_at: datetime | None


@strawberry.type(description="A common cause candidate correlation considered.")
class CauseCandidate:
    resource: strawberry.ID
    kind: str
    riders: int
    complaints: int
    alarms: int
    share: float = strawberry.field(description="share of the resource's riders complaining")
    plausible: bool
    explains: int
    summary: str
    why_lost: str | None = strawberry.field(description="null for the chosen cause")


@strawberry.type(
    description="Why the incident suspects what it does: candidates and why each lost."
)
class IncidentExplanation:
    chosen: strawberry.ID | None
    summary: str
    criteria: str
    considered: int
    candidates: list[CauseCandidate]


@strawberry.type(
    description="What the incident groups: tickets and alarms, and the share affected."
)
class IncidentEvidence:
    ticket_count: int
    alarm_count: int
    tickets: list[strawberry.ID] = strawberry.field(description="empty for a partner key")
    alarms: list[strawberry.ID]
    share_affected: float | None = strawberry.field(
        description="share of the suspect's riders that complained (the chosen candidate's)"
    )


@strawberry.type(description="A service the incident affects, with its customer's SLA tier.")
class ImpactRider:
    service: strawberry.ID
    product: str | None
    customer: strawberry.ID | None
    customer_name: str | None
    sla_tier: str | None


@strawberry.type(description="The riders of the suspected resource: totals, premium tiers first.")
class IncidentImpact:
    services: int
    customers: int
    by_product: list[Count]
    by_sla_tier: list[Count] = strawberry.field(description="platinum, gold, standard, others")
    riders: list[ImpactRider] = strawberry.field(
        description="premium tiers first, then by service id; empty for a partner key"
    )
    complete: bool = strawberry.field(description="false when more riders exist than were ranked")


@strawberry.type(description="Tickets and alarms grouped on their likely common cause.")
class Incident:
    id: strawberry.ID
    state: IncidentStateEnum  # type: ignore[valid-type]
    priority: IncidentPriorityEnum  # type: ignore[valid-type]
    suspected: strawberry.ID
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    estimated_restoration: datetime | None
    due_at: datetime | None
    jeopardy: bool
    breached: bool
    escalation: int
    sites: list[str]
    products: list[str]
    partners: list[str]
    evidence: IncidentEvidence
    explanation: IncidentExplanation | None
    repair: IncidentRepair | None
    record: strawberry.Private[IncidentRecord]
    partner_view: strawberry.Private[bool]

    @strawberry.field(description="Who the incident affects (a partner key: totals only).")
    async def impact(self, info: Info, first: int = 20) -> IncidentImpact:
        if not 0 <= first <= MAX_LISTED_RIDERS:
            raise UserInputError(f"first must be 0..{MAX_LISTED_RIDERS}")
        ctx = info.context
        imp = await ctx.call(service_of(ctx).impact, self.record, first)
        t = imp.totals
        tiers = sorted(t.by_sla_tier.items(), key=lambda kv: (tier_rank(kv[0]), kv[0]))
        riders = [] if self.partner_view else [_rider(r) for r in imp.riders]
        return IncidentImpact(
            services=t.services,
            customers=t.customers,
            by_product=[Count(key=k, count=v) for k, v in sorted(t.by_product.items())],
            by_sla_tier=[Count(key=k, count=v) for k, v in tiers],
            riders=riders,
            complete=imp.complete,
        )


def _rider(r: Any) -> ImpactRider:
    c = r.customer
    return ImpactRider(
        service=r.service.id,
        product=getattr(r.service, "product", None),
        customer=c.id if c is not None else None,
        customer_name=(c.name or None) if c is not None else None,
        sla_tier=getattr(c, "sla_tier", None),
    )


def _explanation(raw: str) -> IncidentExplanation | None:
    corr = Correlation.loads(raw) if raw and raw != "[]" else None
    if corr is None:
        return None
    lost = {a.resource: a.why_lost for a in corr.alternatives}
    return IncidentExplanation(
        chosen=corr.chosen,
        summary=corr.chosen_summary,
        criteria=corr.criteria,
        considered=corr.considered,
        candidates=[
            CauseCandidate(
                resource=c.resource,
                kind=c.kind,
                riders=c.riders,
                complaints=c.complaints,
                alarms=c.alarms,
                share=c.share,
                plausible=c.plausible,
                explains=c.explains,
                summary=c.summary,
                why_lost=None if c.resource == corr.chosen else lost.get(c.resource),
            )
            for c in corr.candidates
        ],
    )


def incident_of(row: IncidentRow, partner: str | None) -> Incident:
    """The caller's view of an incident (a partner: no tickets, no other partners)."""
    inc, wo = row.incident, row.work_order
    explanation = _explanation(inc.candidates)
    share = None
    if explanation is not None:
        share = next((c.share for c in explanation.candidates if c.resource == inc.suspected), None)
    return Incident(
        id=inc.id,
        state=IncidentState(inc.state),
        priority=Priority(inc.priority),
        suspected=inc.suspected,
        created_at=inc.created_at,
        updated_at=inc.updated_at,
        resolved_at=inc.resolved_at,
        estimated_restoration=inc.estimated_restoration,
        due_at=inc.due_at,
        jeopardy=inc.jeopardy,
        breached=inc.breached,
        escalation=inc.escalation,
        sites=list(inc.sites),
        products=list(inc.products),
        partners=[partner] if partner is not None else list(inc.partners),
        evidence=IncidentEvidence(
            ticket_count=len(inc.tickets),
            alarm_count=len(inc.alarms),
            tickets=[] if partner is not None else list(inc.tickets),
            alarms=list(inc.alarms),
            share_affected=share,
        ),
        explanation=explanation,
        repair=_repair(wo) if wo is not None else None,
        record=inc,
        partner_view=partner is not None,
    )


def _repair(wo: Any) -> IncidentRepair:
    return IncidentRepair(
        id=wo.id,
        state=str(wo.state),
        assignee=wo.assignee,
        assignee_type=wo.assignee_type,
        crew=wo.crew,
        skill=wo.skill,
        site=wo.site,
        sla_hours=wo.sla_hours,
        created_at=wo.created_at,
        due_at=wo.due_at,
        jeopardy=wo.jeopardy,
        breached=wo.breached,
        escalation=wo.escalation,
        completed_at=wo.completed_at,
    )


@strawberry.type(
    description="The step does not apply to the incident as it stands; nothing written."
)
class IncidentStateRefused(Error):
    reasons: list[str]


@strawberry.type
class IncidentEdge:
    cursor: str
    node: Incident


@strawberry.type(description="Incidents, newest first, with the total matching the filters.")
class IncidentConnection:
    total_count: int
    edges: list[IncidentEdge]
    page_info: PageInfo


IncidentResult = Annotated[Incident | NotFound | Forbidden, strawberry.union("IncidentResult")]
IncidentPayload = Annotated[
    Incident | IncidentStateRefused | NotFound | Forbidden, strawberry.union("IncidentPayload")
]


# ---- access -------------------------------------------------------------------------------------


def _partner(ctx: Context) -> str | None:
    return ctx.principal.partner_id if ctx.principal.is_partner else None


async def _row(ctx: Context, incident_id: str) -> IncidentRow | None:
    """The incident with its repair, or None when missing or hidden from this caller."""
    svc = service_of(ctx)
    try:
        inc = await ctx.call(svc.incident, incident_id)
    except inv.NotFound:
        return None
    row = (await ctx.call(svc.rows, [inc]))[0]
    partner = _partner(ctx)
    if partner is not None and not row.concerns_partner(partner):
        return None
    return row


def _cursor_key(inc: IncidentRecord) -> str:
    return f"{stamp(inc.created_at)}|{inc.id}"


@strawberry.type
class IncidentQuery:
    """Incidents with their impact, explanation, evidence and repair."""

    @strawberry.field(description="One incident (a partner key: only one on its resources).")
    async def incident(self, info: Info, id: strawberry.ID) -> IncidentResult:
        ctx = info.context
        if ctx.principal.role not in READ_ROLES:
            return Forbidden.of("read incidents", ctx.principal.role)
        row = await _row(ctx, str(id))
        if row is None:
            return NotFound.of(str(id), "Incident")
        return incident_of(row, _partner(ctx))

    @strawberry.field(
        description="Incidents matching every filter given, newest first (a partner key: only "
        "those on its resources or dispatched to it)."
    )
    async def incidents(
        self,
        info: Info,
        states: list[IncidentStateEnum] | None = None,  # type: ignore[valid-type]
        site: str | None = None,
        resource: strawberry.ID | None = None,
        partner: str | None = None,
        priority: IncidentPriorityEnum | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> IncidentConnection:
        ctx = info.context
        if ctx.principal.role not in READ_ROLES:
            raise UserInputError("reading incidents is not allowed for this role", "FORBIDDEN")
        if not 1 <= first <= MAX_PAGE:
            raise UserInputError(f"first must be 1..{MAX_PAGE}")
        own = _partner(ctx)
        if own is not None and partner not in (None, own):
            raise UserInputError("a partner key lists only its own incidents", "FORBIDDEN")
        start = decode_cursor("incident", after)
        where = IncidentFilter(
            states=tuple(str(s.value) for s in states or ()),
            site=site,
            resource=str(resource) if resource else None,
            partner=partner,
            priority=str(priority.value) if priority else None,
        )
        rows = await ctx.call(service_of(ctx).incidents, where)
        if own is not None:
            rows = [r for r in rows if r.concerns_partner(own)]
        total = len(rows)  # every match, not only those after the cursor
        if start is not None:
            rows = [r for r in rows if _cursor_key(r.incident) < start]
        page = rows[:first]
        edges = [
            IncidentEdge(
                cursor=encode_cursor("incident", _cursor_key(r.incident)),
                node=incident_of(r, own),
            )
            for r in page
        ]
        return IncidentConnection(
            total_count=total,
            edges=edges,
            page_info=page_info(edges, len(rows) > first),
        )


async def _act(ctx: Context, incident_id: str, fn: Any, **kw: Any) -> Any:
    """Run one repair step for this caller and answer with the incident or a typed error."""
    try:
        await ctx.call(fn, incident_id, **kw)
    except inv.NotFound:
        return NotFound.of(incident_id, "Incident")
    except NotYours:
        return NotFound.of(incident_id, "Incident")  # a partner learns nothing of others' work
    except RepairRefused as exc:
        return IncidentStateRefused(message=str(exc), code=exc.code.upper(), reasons=exc.reasons)
    finally:
        ctx.loaders.forget()
    row = await _row(ctx, incident_id)
    if row is None:
        return NotFound.of(incident_id, "Incident")
    return incident_of(row, _partner(ctx))


@strawberry.type
class IncidentMutation:
    """Dispatch, resolve and close incidents."""

    @strawberry.mutation(
        description="Dispatch the incident's repair to the owner of its suspected resource (again "
        "after a re-point: the old owner's order is cancelled)."
    )
    async def dispatch_incident(self, info: Info, id: strawberry.ID) -> IncidentPayload:
        ctx = info.context
        if ctx.principal.role not in WRITE_ROLES:
            return Forbidden.of("dispatch incidents", ctx.principal.role)
        svc = service_of(ctx)
        return await _act(ctx, str(id), svc.dispatch_incident, actor=ctx.principal.actor)

    @strawberry.mutation(
        description="Resolve the incident: its repair completes, its open tickets resolve and CRM "
        "hears of each (a partner key: only a repair dispatched to it)."
    )
    async def resolve_incident(
        self, info: Info, id: strawberry.ID, note: str = ""
    ) -> IncidentPayload:
        ctx = info.context
        if ctx.principal.role not in WRITE_ROLES and not ctx.principal.is_partner:
            return Forbidden.of("resolve incidents", ctx.principal.role)
        svc = service_of(ctx)
        return await _act(
            ctx,
            str(id),
            svc.resolve_incident,
            actor=ctx.principal.actor,
            note=note[:NOTE_MAX],
            partner=_partner(ctx),
        )

    @strawberry.mutation(description="Close a resolved incident and its resolved tickets.")
    async def close_incident(
        self, info: Info, id: strawberry.ID, note: str = ""
    ) -> IncidentPayload:
        ctx = info.context
        if ctx.principal.role not in WRITE_ROLES:
            return Forbidden.of("close incidents", ctx.principal.role)
        svc = service_of(ctx)
        return await _act(
            ctx, str(id), svc.close_incident, actor=ctx.principal.actor, note=note[:NOTE_MAX]
        )
