"""Field queries: crews (a partner sees its own only) and work queues with totals."""

from __future__ import annotations

import threading
from datetime import datetime
from functools import partial

import strawberry

from pboss.field.crews import FieldService, WorkFilter, partner_of, queue_key
from pboss.field.dispatch import reassign_released
from pboss.graphql.connections import decode_cursor, encode_cursor, page_info, page_size
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import NotFound, UserInputError
from pboss.graphql.field.assignment import dispatcher_of
from pboss.graphql.field.types import (
    CrewList,
    CrewResult,
    CrewStateEnum,
    SkillEnum,
    WorkOrderConnection,
    WorkOrderEdge,
    crew_of,
    totals_of,
)
from pboss.graphql.permissions import sees_phones
from pboss.graphql.provisioning.access import service_of
from pboss.graphql.provisioning.types import WorkOrderStateEnum, work_order_of
from pboss.inventory import errors as inv
from pboss.provisioning.model import WorkOrder, WorkPurpose

FIELD_LOCK = threading.Lock()
CURSOR = "work"
#: Separates due time and id in a work-queue cursor.
_SEP = "|"


def field_of(ctx: Context) -> FieldService:
    """The app's field service (made once on first use, on the provisioning service's clock):
    a crew made unavailable has its open work placed again by the dispatcher."""
    svc = ctx.state.get("field")
    if svc is None:
        with FIELD_LOCK:
            svc = ctx.state.get("field")
            if svc is None:
                reassign = partial(reassign_released, dispatcher_of(ctx))
                svc = FieldService(ctx.store, clock=service_of(ctx).clock, reassign=reassign)
                ctx.state["field"] = svc
    return svc


def reads(ctx: Context) -> bool:
    """True when the caller may read field work at all (any known role)."""
    return ctx.principal.role in ("crm", "engineer", "admin", "partner")


def sees_work(ctx: Context, wo: WorkOrder, crew_owner: str | None) -> bool:
    """A partner key sees only the work for it (its assignment, or one of its crews')."""
    if not ctx.principal.is_partner:
        return reads(ctx)
    return partner_of(wo, crew_owner) == ctx.principal.partner_id


@strawberry.type
class FieldQuery:
    """Crews and work queues."""

    @strawberry.field(description="Crews matching every filter given (a partner sees its own).")
    async def crews(
        self,
        info: Info,
        owner: str | None = None,
        skill: SkillEnum | None = None,
        area: str | None = None,
        state: CrewStateEnum | None = None,
    ) -> CrewList:
        ctx = info.context
        if not reads(ctx):
            return CrewList(crews=[], total=0, active=0, unavailable=0)
        found = await ctx.call(
            field_of(ctx).crews,
            owner=owner,
            skill=skill.value if skill else None,
            area=area or None,
            state=state.value if state else None,
        )
        shown = [c for c in found if ctx.sees(c)]
        phones = sees_phones(ctx.principal)
        active = sum(c.state == "active" for c in shown)
        return CrewList(
            crews=[crew_of(c, phones=phones) for c in shown],
            total=len(shown),
            active=active,
            unavailable=len(shown) - active,
        )

    @strawberry.field(description="One crew by id (a partner sees only its own).")
    async def crew(self, info: Info, id: strawberry.ID) -> CrewResult:
        ctx = info.context
        try:
            c = await ctx.call(field_of(ctx).crew, id)
        except inv.NotFound:
            return NotFound.of(id, "Crew")
        if not reads(ctx) or not ctx.sees(c):
            return NotFound.of(id, "Crew")
        return crew_of(c, phones=sees_phones(ctx.principal))

    @strawberry.field(
        description="A work queue: work orders by due time then id, filtered by crew, partner, "
        "state, site, purpose, due time, jeopardy, breach or lack of a crew, with totals over "
        "the whole queue. A partner key sees only its own work."
    )
    async def work_orders(
        self,
        info: Info,
        crew: strawberry.ID | None = None,
        partner: str | None = None,
        state: WorkOrderStateEnum | None = None,
        site: strawberry.ID | None = None,
        purpose: str | None = None,
        due_before: datetime | None = None,
        in_jeopardy: bool | None = None,
        breached: bool | None = None,
        unassigned: bool | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> WorkOrderConnection:
        ctx = info.context
        if purpose is not None and purpose not in {p.value for p in WorkPurpose}:
            raise UserInputError(f"purpose must be construction or repair, not {purpose!r}")
        key = decode_cursor(CURSOR, after)
        after_key: tuple[str, str] | None = None
        if key is not None:
            due, _, wid = key.partition(_SEP)
            after_key = (due, wid)
        flt = WorkFilter(
            crew=crew,
            partner=partner,
            state=state.value if state else None,
            site=site,
            purpose=purpose,
            due_before=due_before,
            jeopardy=in_jeopardy,
            breached=breached,
            unassigned=unassigned,
        )
        page = await ctx.call(
            field_of(ctx).work_queue,
            flt,
            first=page_size(first),
            after=after_key,
            visible=lambda wo, owner: sees_work(ctx, wo, owner),
        )
        edges = [
            WorkOrderEdge(
                cursor=encode_cursor(CURSOR, _SEP.join(queue_key(w))), node=work_order_of(w)
            )
            for w in page.items
        ]
        return WorkOrderConnection(
            edges=edges,
            page_info=page_info(edges, page.has_next),
            totals=totals_of(page.totals),
        )
