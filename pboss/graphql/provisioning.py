"""GraphQL for provisioning: CRM orders, reservations and construction orders.

Mutations (submitOrder, reserve, confirm, release, cancel, recordMilestone) return a union of the
result and typed errors: NoCapacity, InvalidState, Expired, Conflict (each with `reasons`),
NotFound, Forbidden and ValidationError. CRM, engineers and admins provision; a partner key sees
and updates only the construction orders assigned to it. The service comes from
`info.context.state["provisioning"]` (set by the app, see pboss/provisioning/runtime.py), or is
made on first use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import strawberry

from pboss.graphql.connections import PageInfo
from pboss.graphql.context import Context, Info
from pboss.graphql.cursors import decode_cursor, encode_cursor, page_size
from pboss.graphql.errors import Error, Forbidden, NotFound, ValidationError
from pboss.graphql.types import Element, to_type
from pboss.inventory import errors as inv
from pboss.provisioning import errors as prov
from pboss.provisioning import model as pm
from pboss.provisioning.plan import Explanation, Plan
from pboss.provisioning.service import OrderRequest, ProvisioningService

OrderStateEnum = strawberry.enum(pm.OrderState, name="OrderState", description="TMF641 states.")
ReservationStateEnum = strawberry.enum(
    pm.ReservationState, name="ReservationState", description="TMF685-style hold states."
)
MilestoneEnum = strawberry.enum(
    pm.Milestone, name="Milestone", description="Construction milestones, in order."
)
WorkOrderStateEnum = strawberry.enum(pm.WorkOrderState, name="WorkOrderState")


@strawberry.enum(description="How a milestone report ends: done, held (stopped) or failed.")
class MilestoneOutcome(StrEnum):
    DONE = "done"
    HELD = "held"
    FAILED = "failed"


PROVISIONING_ROLES = frozenset({"crm", "engineer", "admin"})
T = TypeVar("T")
_SERVICE_LOCK = threading.Lock()


# ---- errors -------------------------------------------------------------------------------------


@strawberry.type(description="Nothing free can serve the request; `reasons` say what was missing.")
class NoCapacity(Error):
    reasons: list[str]


@strawberry.type(description="The order, reservation or work order is in a state that refuses it.")
class InvalidState(Error):
    reasons: list[str]


@strawberry.type(description="The hold ran out before it was confirmed; reserve again.")
class Expired(Error):
    reasons: list[str]


@strawberry.type(description="The request contradicts what is recorded (one CRM id, two contents).")
class Conflict(Error):
    reasons: list[str]


_TYPED: dict[type[prov.ProvisioningError], Any] = {
    prov.NoCapacity: NoCapacity,
    prov.InvalidState: InvalidState,
    prov.Expired: Expired,
    prov.Conflict: Conflict,
}


def _error(exc: Exception) -> Any:
    """The GraphQL error member for an expected provisioning failure."""
    if isinstance(exc, inv.NotFound):
        return NotFound.of(exc.element_id, exc.kind)
    if isinstance(exc, prov.InvalidRequest):
        issues = [inv.Issue(item="request", reason=r) for r in exc.reasons or [exc.message]]
        return ValidationError.of(issues)
    if isinstance(exc, inv.ValidationFailed):
        return ValidationError.of_exc(exc)
    cls = _TYPED[type(exc)]  # type: ignore[index]
    return cls(message=exc.message, code=exc.code.upper(), reasons=exc.reasons)  # type: ignore[attr-defined]


_EXPECTED = (prov.ProvisioningError, inv.NotFound, inv.ValidationFailed)


# ---- output types -------------------------------------------------------------------------------


@strawberry.type(description="One entry of an order's or work order's history.")
class HistoryEntry:
    at: datetime
    event: str
    state: str | None
    note: str


def _history(events: list[pm.Event]) -> list[HistoryEntry]:
    return [HistoryEntry(at=e.at, event=e.event, state=e.state, note=e.note) for e in events]


@strawberry.type(description="A candidate path that was considered and lost, and why.")
class PathAlternative:
    label: str
    summary: str
    why_lost: str


@strawberry.type(description="A resource left out before ranking, and why.")
class PathExclusion:
    id: strawberry.ID
    reason: str


@strawberry.type(description="Why a path was chosen: the criteria, the alternatives, exclusions.")
class PathExplanation:
    technology: str
    criteria: str
    chosen: str
    chosen_summary: str
    alternatives: list[PathAlternative]
    excluded: list[PathExclusion]
    lost_races: list[str]


def _explanation(ex: Explanation) -> PathExplanation:
    return PathExplanation(
        technology=ex.technology,
        criteria=ex.criteria,
        chosen=ex.chosen,
        chosen_summary=ex.chosen_summary,
        alternatives=[PathAlternative(**a.model_dump()) for a in ex.alternatives],
        excluded=[PathExclusion(id=e.id, reason=e.reason) for e in ex.excluded],
        lost_races=list(ex.lost_races),
    )


def _plan_explanation(plan: Plan) -> PathExplanation:
    best = plan.candidates[0]
    return _explanation(
        Explanation(
            technology=plan.technology,
            criteria=plan.criteria,
            chosen=best.label,
            chosen_summary=best.summary,
            alternatives=plan.alternatives(0),
            excluded=plan.excluded,
        )
    )


@strawberry.type(description="One resource a reservation holds: a port, VC-12 slots, a pool unit.")
class HeldResource:
    id: strawberry.ID
    kind: str
    role: str
    seq: int | None
    slots: list[int] | None

    @strawberry.field(description="The resource itself.")
    async def element(self, info: Info) -> Element | None:
        el = await info.context.element(self.id)
        return to_type(el) if el is not None else None


@strawberry.type(description="A hold on resources for one order, valid until validUntil.")
class Reservation:
    _r: strawberry.Private[pm.Reservation]
    id: strawberry.ID
    order_id: strawberry.ID
    state: ReservationStateEnum
    technology: str
    valid_from: datetime
    valid_until: datetime
    service_id: strawberry.ID | None
    circuit_id: strawberry.ID | None
    ont_id: strawberry.ID | None
    closed_at: datetime | None
    close_reason: str | None

    @strawberry.field(description="What it holds (as held; after confirmation, what it held).")
    def items(self) -> list[HeldResource]:
        return [
            HeldResource(
                id=i["id"],
                kind=i["kind"],
                role=i["role"],
                seq=i.get("seq"),
                slots=i.get("slots"),
            )
            for i in json.loads(self._r.allocation)
        ]

    @strawberry.field(description="Why this path: the chosen one, the alternatives, exclusions.")
    def explanation(self) -> PathExplanation | None:
        ex = Explanation.loads(self._r.explanation)
        return _explanation(ex) if ex else None

    @strawberry.field(description="The service created on confirmation.")
    async def service(self, info: Info) -> Element | None:
        el = await info.context.element(self._r.service) if self._r.service else None
        return to_type(el) if el is not None else None


def _reservation(r: pm.Reservation) -> Reservation:
    return Reservation(
        _r=r,
        id=r.id,
        order_id=r.order,
        state=pm.ReservationState(r.state),
        technology=str(r.technology),
        valid_from=r.valid_from,
        valid_until=r.valid_until,
        service_id=r.service,
        circuit_id=r.circuit,
        ont_id=r.ont,
        closed_at=r.closed_at,
        close_reason=r.close_reason,
    )


@strawberry.type(description="A construction order to an own crew or a partner (48-hour SLA).")
class WorkOrder:
    _w: strawberry.Private[pm.WorkOrder]
    id: strawberry.ID
    order_id: strawberry.ID
    reservation_id: strawberry.ID
    assignee: str
    assignee_type: str
    state: WorkOrderStateEnum
    sla_hours: int
    created_at: datetime
    due_at: datetime
    jeopardy: bool
    breached: bool

    @strawberry.field(description="Milestones done so far, in order.")
    def milestones_done(self) -> list[MilestoneEnum]:
        return [pm.Milestone(m) for m in self._w.done]

    @strawberry.field(description="The milestone the crew works on now (null when all are done).")
    def next_milestone(self) -> MilestoneEnum | None:
        return self._w.next_milestone

    @strawberry.field(description="Dispatch, milestones, holds, jeopardy, oldest first.")
    def history(self) -> list[HistoryEntry]:
        return _history(self._w.events())


def _work_order(w: pm.WorkOrder) -> WorkOrder:
    return WorkOrder(
        _w=w,
        id=w.id,
        order_id=w.order,
        reservation_id=w.reservation,
        assignee=w.assignee,
        assignee_type=w.assignee_type,
        state=pm.WorkOrderState(w.state),
        sla_hours=w.sla_hours,
        created_at=w.created_at,
        due_at=w.due_at,
        jeopardy=w.jeopardy,
        breached=w.breached,
    )


@strawberry.type(description="A CRM activation order (TMF641 states).")
class Order:
    _o: strawberry.Private[pm.Order]
    id: strawberry.ID
    crm_order_id: str
    product: str
    technology: str
    site_id: strawberry.ID | None
    a_site_id: strawberry.ID | None
    z_site_id: strawberry.ID | None
    bandwidth_2m: int
    customer_id: strawberry.ID
    requested_date: str | None
    state: OrderStateEnum
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="State changes and milestones, oldest first (what CRM heard).")
    def history(self) -> list[HistoryEntry]:
        return _history(self._o.events())

    @strawberry.field(description="Every reservation made for it, oldest first.")
    async def reservations(self, info: Info) -> list[Reservation]:
        found = await _records(info.context, self._o.reservations, pm.Reservation)
        return [_reservation(r) for r in found]

    @strawberry.field(description="Its construction orders, oldest first.")
    async def work_orders(self, info: Info) -> list[WorkOrder]:
        found = await _records(info.context, self._o.work_orders, pm.WorkOrder)
        return [_work_order(w) for w in found]


async def _records(ctx: Context, ids: list[str], cls: type[T]) -> list[T]:
    """An order's reservations or work orders through the request's elements loader: a page of
    orders costs one `get_many` for all of theirs (missing or odd ids are left out)."""
    found = await ctx.loaders.elements.load_many(ids)
    return [el for el in found if isinstance(el, cls)]


def _order(o: pm.Order) -> Order:
    return Order(
        _o=o,
        id=o.id,
        crm_order_id=o.crm_order_id,
        product=o.product,
        technology=str(o.technology),
        site_id=o.site,
        a_site_id=o.a_site,
        z_site_id=o.z_site,
        bandwidth_2m=o.bandwidth_2m,
        customer_id=o.customer,
        requested_date=o.requested_date,
        state=pm.OrderState(o.state),
        created_at=o.created_at,
        updated_at=o.updated_at,
    )


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type(description="A page of orders with the total over all pages.")
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input(description="An activation order as CRM sends it; crmOrderId is idempotent.")
class SubmitOrderInput:
    crm_order_id: str
    product: str
    customer: str = strawberry.field(description="CRM's customer id (created if new)")
    site: str | None = strawberry.field(default=None, description="FTTH or cable: the site")
    a_site: str | None = strawberry.field(default=None, description="leased line: A-end site")
    z_site: str | None = strawberry.field(default=None, description="leased line: Z-end site")
    bandwidth_2m: int = strawberry.field(default=1, description="leased line: n x 2 Mb/s")
    requested_date: str | None = None
    customer_name: str | None = None
    customer_type: str = strawberry.field(default="household", description="or enterprise")


# ---- unions ------------------------------------------------------------------------------------

OrderResult = Annotated[Order | NotFound | Forbidden, strawberry.union("OrderResult")]
ReservationResult = Annotated[
    Reservation | NotFound | Forbidden, strawberry.union("ReservationResult")
]
WorkOrderResult = Annotated[WorkOrder | NotFound | Forbidden, strawberry.union("WorkOrderResult")]
PlanResult = Annotated[
    PathExplanation | NoCapacity | NotFound | Forbidden, strawberry.union("PlanResult")
]
SubmitOrderPayload = Annotated[
    Order | Conflict | NotFound | ValidationError | Forbidden,
    strawberry.union("SubmitOrderPayload"),
]
ReservePayload = Annotated[
    Reservation
    | NoCapacity
    | Conflict
    | InvalidState
    | Expired
    | NotFound
    | ValidationError
    | Forbidden,
    strawberry.union("ReservePayload"),
]
ConfirmPayload = Annotated[
    Reservation | InvalidState | Expired | Conflict | NotFound | ValidationError | Forbidden,
    strawberry.union("ConfirmPayload"),
]
ReleasePayload = Annotated[
    Reservation | InvalidState | NotFound | Forbidden, strawberry.union("ReleasePayload")
]
CancelPayload = Annotated[
    Order | InvalidState | NotFound | Forbidden, strawberry.union("CancelPayload")
]
MilestonePayload = Annotated[
    WorkOrder | InvalidState | NotFound | ValidationError | Forbidden,
    strawberry.union("MilestonePayload"),
]


# ---- plumbing -----------------------------------------------------------------------------------


def service_of(ctx: Context) -> ProvisioningService:
    """The app's provisioning service (made once on first use when the app did not set one)."""
    svc = ctx.state.get("provisioning")
    if svc is None:
        with _SERVICE_LOCK:
            svc = ctx.state.get("provisioning")
            if svc is None:
                svc = ProvisioningService(ctx.store, catalog=ctx.catalog)
                ctx.state["provisioning"] = svc
    return svc


def _refused(ctx: Context, action: str) -> Forbidden | None:
    if ctx.principal.role in PROVISIONING_ROLES:
        return None
    return Forbidden.of(action, ctx.principal.role)


async def _attempt(
    ctx: Context,
    action: str,
    wrap: Callable[[Any], Any],
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Check the role, run a blocking service call off the event loop, type its failures."""
    refusal = _refused(ctx, action)
    if refusal is not None:
        return refusal
    try:
        return wrap(await ctx.call(fn, *args, **kwargs))
    except _EXPECTED as exc:
        return _error(exc)


async def _write(
    ctx: Context,
    action: str,
    wrap: Callable[[Any], Any],
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """`_attempt` for a write: the request's loaders forget what they cached before it."""
    try:
        return await _attempt(ctx, action, wrap, fn, *args, **kwargs)
    finally:
        ctx.loaders.forget()


async def _hidden_from_partner(ctx: Context, svc: ProvisioningService, work_order_id: str) -> Any:
    """For a partner key: NotFound unless the construction order is assigned to it."""
    try:
        wo = await ctx.call(svc.work_order, work_order_id)
    except inv.NotFound:
        wo = None
    if wo is None or wo.assignee != ctx.principal.partner_id:
        return NotFound.of(work_order_id, "WorkOrder")
    return None


# ---- queries ------------------------------------------------------------------------------------


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
            return await _attempt(ctx, "read orders", _order, svc.order, id)
        return await _attempt(ctx, "read orders", _order, svc.order_by_crm_id, crm_order_id or "")

    @strawberry.field(description="Orders paged by id, optionally matching a text.")
    async def orders(
        self, info: Info, first: int = 50, after: str | None = None, text: str | None = None
    ) -> OrderConnection:
        ctx = info.context
        if _refused(ctx, "read orders") is not None:
            nothing = PageInfo(has_next_page=False, end_cursor=None)
            return OrderConnection(edges=[], page_info=nothing, total_count=0)
        page = await ctx.call(
            service_of(ctx).orders,
            after=decode_cursor("order", after),
            limit=page_size(first),
            text=text,
        )
        edges = [
            OrderEdge(cursor=encode_cursor("order", o.id), node=_order(o))  # type: ignore[arg-type]
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
        return await _attempt(
            ctx, "read reservations", _reservation, service_of(ctx).reservation, id
        )

    @strawberry.field(description="One construction order by id (a partner sees only its own).")
    async def work_order(self, info: Info, id: strawberry.ID) -> WorkOrderResult:
        ctx = info.context
        svc = service_of(ctx)
        if ctx.principal.is_partner:
            hidden = await _hidden_from_partner(ctx, svc, id)
            if hidden is not None:
                return hidden
            return _work_order(await ctx.call(svc.work_order, id))
        return await _attempt(ctx, "read work orders", _work_order, svc.work_order, id)

    @strawberry.field(
        description="Preview: the path an order would get now and why, without holding anything."
    )
    async def order_plan(self, info: Info, order_id: strawberry.ID) -> PlanResult:
        ctx = info.context
        svc = service_of(ctx)

        def preview() -> Plan:
            return svc.plan(svc.order(order_id), fresh=True)

        return await _attempt(ctx, "read orders", _plan_explanation, preview)


# ---- mutations ----------------------------------------------------------------------------------


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
        return await _write(ctx, "submit orders", _order, service_of(ctx).submit_order, request)

    @strawberry.mutation(
        description="Hold the best path for an order (ttlSeconds: default 30 min, or the SLA for "
        "construction orders); NoCapacity with reasons when nothing can serve it."
    )
    async def reserve(
        self, info: Info, order_id: strawberry.ID, ttl_seconds: int | None = None
    ) -> ReservePayload:
        ctx = info.context
        svc = service_of(ctx)
        return await _write(
            ctx, "reserve", _reservation, svc.reserve, order_id, ttl_seconds=ttl_seconds
        )

    @strawberry.mutation(description="Put a held reservation into service (creates the service).")
    async def confirm(self, info: Info, reservation_id: strawberry.ID) -> ConfirmPayload:
        ctx = info.context
        return await _write(ctx, "confirm", _reservation, service_of(ctx).confirm, reservation_id)

    @strawberry.mutation(description="Free everything a hold holds; the order waits for a new one.")
    async def release(
        self, info: Info, reservation_id: strawberry.ID, reason: str = "released by CRM"
    ) -> ReleasePayload:
        ctx = info.context
        svc = service_of(ctx)
        return await _write(ctx, "release", _reservation, svc.release, reservation_id, reason[:500])

    @strawberry.mutation(description="Cancel an order and free whatever it holds.")
    async def cancel_order(
        self, info: Info, order_id: strawberry.ID, reason: str = "cancelled by CRM"
    ) -> CancelPayload:
        ctx = info.context
        return await _write(
            ctx, "cancel orders", _order, service_of(ctx).cancel, order_id, reason[:500]
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
            hidden = await _hidden_from_partner(ctx, svc, work_order_id)
            if hidden is not None:
                return hidden
            try:
                return _work_order(await ctx.call(svc.record_milestone, *args))
            except _EXPECTED as exc:
                return _error(exc)
            finally:
                ctx.loaders.forget()
        return await _write(
            ctx,
            "report milestones",
            _work_order,
            svc.record_milestone,
            *args,
        )
