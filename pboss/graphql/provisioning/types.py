"""GraphQL types of provisioning: orders (TMF641 states), reservations and their held
resources, construction orders, path explanations, the typed errors (NoCapacity, InvalidState,
Expired, Conflict, each with `reasons`) and the result unions; with the builders from the
provisioning model.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import strawberry

from pboss.field.clock import clock_of, escalated_to
from pboss.field.work import steps_of
from pboss.graphql.connections import PageInfo
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Error, Forbidden, Issue, NotFound, ValidationError
from pboss.graphql.inventory.types import Element, to_type
from pboss.inventory import errors as inv
from pboss.provisioning import errors as prov
from pboss.provisioning import model as pm
from pboss.provisioning.plan import Explanation, Plan
from pboss.provisioning.service import OrderRequest

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


T = TypeVar("T")
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


def error_of(exc: Exception) -> Any:
    """The GraphQL error member for an expected provisioning failure."""
    if isinstance(exc, inv.NotFound):
        return NotFound.of(exc.element_id, exc.kind)
    if isinstance(exc, prov.InvalidRequest):
        return request_error(exc)
    if isinstance(exc, inv.ValidationFailed):
        return ValidationError.of_exc(exc)
    cls = _TYPED[type(exc)]  # type: ignore[index]
    return cls(message=exc.message, code=exc.code.upper(), reasons=exc.reasons)  # type: ignore[attr-defined]


EXPECTED = (prov.ProvisioningError, inv.NotFound, inv.ValidationFailed)


def graphql_name(python_name: str) -> str:
    """A request field as the GraphQL input spells it (`a_site` -> `aSite`)."""
    head, *rest = python_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


#: Fields of the order request, which arrive inside `input`; others are the field's arguments.
INPUT_FIELDS = frozenset(
    graphql_name(f) for f in (*OrderRequest.model_fields, "address", "a_address", "z_address")
)


def input_error(message: str, problems: list[tuple[str | None, str]]) -> ValidationError:
    """A refused `input` (or argument): one issue per (GraphQL name or None, reason), the message
    naming the fields and arguments as the caller wrote them."""
    issues = [
        Issue(item="input" if f in INPUT_FIELDS or f is None else f, field=f, reason=r, index=None)
        for f, r in problems
    ]
    said = "; ".join(f"{f}: {r}" if f else r for f, r in problems)
    return ValidationError(
        message=f"{message}: {said}" if said else message, code="VALIDATION_FAILED", issues=issues
    )


def request_error(exc: prov.InvalidRequest) -> ValidationError:
    """The service's refusal of an order request, in the GraphQL input's field names."""
    fields = [graphql_name(f) for f in exc.fields]
    reasons = exc.reasons or [exc.message]
    if len(fields) == len(reasons):
        problems: list[tuple[str | None, str]] = list(zip(fields, reasons, strict=True))
    else:
        problems = [(fields[0] if fields else None, r) for r in reasons]
    return input_error(exc.message, problems)


# ---- output types -------------------------------------------------------------------------------


@strawberry.type(description="One entry of an order's or work order's history.")
class HistoryEntry:
    at: datetime
    event: str
    state: str | None
    note: str
    reasons: list[str] = strawberry.field(
        description="Why, for a refusal (reservationRefused: what was missing); else empty."
    )


def history_of(events: list[pm.Event]) -> list[HistoryEntry]:
    return [
        HistoryEntry(at=e.at, event=e.event, state=e.state, note=e.note, reasons=list(e.reasons))
        for e in events
    ]


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


def explanation_of(ex: Explanation) -> PathExplanation:
    return PathExplanation(
        technology=ex.technology,
        criteria=ex.criteria,
        chosen=ex.chosen,
        chosen_summary=ex.chosen_summary,
        alternatives=[PathAlternative(**a.model_dump()) for a in ex.alternatives],
        excluded=[PathExclusion(id=e.id, reason=e.reason) for e in ex.excluded],
        lost_races=list(ex.lost_races),
    )


def plan_explanation(plan: Plan) -> PathExplanation:
    best = plan.candidates[0]
    return explanation_of(
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
        return explanation_of(ex) if ex else None

    @strawberry.field(description="The service created on confirmation.")
    async def service(self, info: Info) -> Element | None:
        el = await info.context.element(self._r.service) if self._r.service else None
        return to_type(el) if el is not None else None


def reservation_of(r: pm.Reservation) -> Reservation:
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


@strawberry.type(
    description="A work order to an own crew or a partner against an SLA clock: construction "
    "for an order (orderId, reservationId) or repair for assurance (incidentId, ticketId)."
)
class WorkOrder:
    _w: strawberry.Private[pm.WorkOrder]
    id: strawberry.ID
    purpose: str
    order_id: strawberry.ID | None
    reservation_id: strawberry.ID | None
    incident_id: strawberry.ID | None
    ticket_id: strawberry.ID | None
    assignee: str
    assignee_type: str
    crew_id: strawberry.ID | None
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
        return history_of(self._w.events())

    @strawberry.field(description="The skill the job needs (ftthInstall, mstpSdh, cableTv ...).")
    def skill(self) -> str | None:
        return self._w.skill

    @strawberry.field(description="Where the work is done (a Site id).")
    def site(self) -> str | None:
        return self._w.site

    @strawberry.field(description="The product the work is for (its SLA depends on it).")
    def product(self) -> str | None:
        return self._w.product

    @strawberry.field(description="The customer's SLA tier when dispatched.")
    def sla_tier(self) -> str | None:
        return self._w.sla_tier

    @strawberry.field(description="Since when the job is held for the customer (clock paused).")
    def held_since(self) -> datetime | None:
        return self._w.held_since

    @strawberry.field(description="SLA seconds the clock was paused for the customer so far.")
    def paused_seconds(self) -> float:
        return self._w.paused_seconds

    @strawberry.field(description="Escalation level after a breach (0: none, 1: the first queue).")
    def escalation(self) -> int:
        return self._w.escalation

    @strawberry.field(description="The queue a breached job is escalated to (null: none).")
    def escalated_to(self, info: Info) -> str | None:
        if not self._w.escalation:
            return None
        return escalated_to(self._w, clock_of(info.context.catalog, self._w))

    @strawberry.field(description="When the work was accepted by the customer.")
    def completed_at(self) -> datetime | None:
        return self._w.completed_at

    @strawberry.field(description="Field steps reported so far, with who and when.")
    def steps(self) -> list[FieldStepEntry]:
        return [
            FieldStepEntry(
                step=e.step, at=e.at, actor=e.actor, reason=e.reason, held_for=e.held_for
            )
            for e in steps_of(self._w)
        ]


@strawberry.type(description="One field step as the crew reported it: what, when, who, why.")
class FieldStepEntry:
    step: str
    at: datetime
    actor: str
    reason: str
    held_for: str | None = strawberry.field(description="customer or us, for a hold")


def work_order_of(w: pm.WorkOrder) -> WorkOrder:
    return WorkOrder(
        _w=w,
        id=w.id,
        purpose=str(w.purpose),
        order_id=w.order,
        reservation_id=w.reservation,
        incident_id=w.incident,
        ticket_id=w.ticket,
        assignee=w.assignee,
        assignee_type=w.assignee_type,
        crew_id=w.crew,
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
        return history_of(self._o.events())

    @strawberry.field(description="Every reservation made for it, oldest first.")
    async def reservations(self, info: Info) -> list[Reservation]:
        found = await records_of(info.context, self._o.reservations, pm.Reservation)
        return [reservation_of(r) for r in found]

    @strawberry.field(description="Its construction orders, oldest first.")
    async def work_orders(self, info: Info) -> list[WorkOrder]:
        found = await records_of(info.context, self._o.work_orders, pm.WorkOrder)
        return [work_order_of(w) for w in found]


async def records_of(ctx: Context, ids: list[str], cls: type[T]) -> list[T]:
    """An order's reservations or work orders through the request's elements loader: a page of
    orders costs one `get_many` for all of theirs (missing or odd ids are left out)."""
    found = await ctx.loaders.elements.load_many(ids)
    return [el for el in found if isinstance(el, cls)]


def order_of(o: pm.Order) -> Order:
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
