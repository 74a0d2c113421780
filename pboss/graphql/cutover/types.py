"""GraphQL types of cutover plans, their impact, steps and record, the typed errors and unions.

A partner key reads a plan only when the plan touches its resources, and then without household
data: no affected services or customers, only counts and its own segments (`plan_of(partner=)`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import strawberry

from pboss.cutover import errors as ce
from pboss.cutover import model as cm
from pboss.cutover.impact import Impact
from pboss.graphql.errors import Error, Forbidden, NotFound, ValidationError
from pboss.inventory import errors as inv
from pboss.inventory.transaction import AlreadyExists

PlanStateEnum = strawberry.enum(
    cm.PlanState, name="CutoverState", description="Cutover plan states."
)
MoveKindEnum = strawberry.enum(cm.MoveKind, name="CutoverMove", description="What a plan moves.")


@strawberry.type(description="The plan is not possible on the live graph; reasons say why.")
class CutoverPlanInvalid(Error):
    reasons: list[str]


@strawberry.type(description="The plan's state does not allow this step.")
class CutoverStateRefused(Error):
    reasons: list[str]


@strawberry.type(
    description="Something the plan relied on changed since approval (a target taken, a section "
    "faulty); nothing was written."
)
class CutoverAssumptionBroken(Error):
    reasons: list[str]


@strawberry.type(description="One edge change of a plan.")
class CutoverStep:
    op: str
    rider: strawberry.ID
    type: str
    src: strawberry.ID
    dst: strawberry.ID
    new_dst: strawberry.ID | None
    seq: int | None
    slots: list[int] | None


@strawberry.type(description="An edge as recorded at execution (before, or after).")
class RecordedEdge:
    type: str
    src: strawberry.ID
    dst: strawberry.ID
    seq: int | None
    slots: list[int] | None


@strawberry.type(description="A count under a key (a product, an SLA tier).")
class KeyCount:
    key: str
    count: int


@strawberry.type(description="One service a plan takes down for a while.")
class AffectedService:
    service: strawberry.ID
    product: str | None
    customer: strawberry.ID | None
    customer_name: str | None
    sla_tier: str | None
    gold: bool
    partner_segments: list[str]
    outage_minutes: int


@strawberry.type(description="What a plan affects (services and customers empty for a partner).")
class CutoverImpact:
    services: list[AffectedService]
    service_count: int
    customers: int
    by_product: list[KeyCount]
    by_sla_tier: list[KeyCount]
    gold_customers: list[strawberry.ID]
    partner_segments: list[str]
    outage_minutes: int


@strawberry.type(description="The check after execution.")
class CutoverVerification:
    ok: bool
    problems: list[str]
    services: int
    planned: int


@strawberry.type(description="One entry of a plan's history.")
class CutoverHistoryEntry:
    at: datetime
    event: str
    state: str
    actor: str
    note: str


@strawberry.type(
    description="A cutover plan (资源割接): what moves where, when, why, and its record."
)
class CutoverPlan:
    id: strawberry.ID
    name: str
    move: MoveKindEnum  # type: ignore[valid-type]
    state: PlanStateEnum  # type: ignore[valid-type]
    reason: str
    window_start: datetime
    window_end: datetime
    source: strawberry.ID
    target: strawberry.ID | None
    created_by: str
    riders: list[strawberry.ID]
    holds: list[strawberry.ID]
    partners: list[str]
    steps: list[CutoverStep]
    before: list[RecordedEdge]
    after: list[RecordedEdge]
    impact: CutoverImpact
    verification: CutoverVerification | None
    history: list[CutoverHistoryEntry]


def _counts(d: dict[str, int]) -> list[KeyCount]:
    return [KeyCount(key=k, count=v) for k, v in sorted(d.items())]


def _edges(edges: list[Any]) -> list[RecordedEdge]:
    return [
        RecordedEdge(type=e.type, src=e.src, dst=e.dst, seq=e.seq, slots=e.slots) for e in edges
    ]


def impact_of(raw: str, partner: str | None) -> CutoverImpact:
    """The stored impact; a partner gets counts and segments only (no household data)."""
    imp = Impact.loads(raw)
    services = [] if partner else imp.services
    return CutoverImpact(
        services=[
            AffectedService(
                service=s.service,
                product=s.product,
                customer=s.customer,
                customer_name=s.customer_name,
                sla_tier=s.sla_tier,
                gold=s.gold,
                partner_segments=s.partner_segments,
                outage_minutes=s.outage_minutes,
            )
            for s in services
        ],
        service_count=len(imp.services),
        customers=0 if partner else imp.customers,
        by_product=_counts(imp.by_product),
        by_sla_tier=[] if partner else _counts(imp.by_sla_tier),
        gold_customers=[] if partner else imp.gold_customers,
        partner_segments=imp.partner_segments,
        outage_minutes=imp.outage_minutes,
    )


def plan_of(p: cm.CutoverPlan, partner: str | None = None) -> CutoverPlan:
    """The GraphQL object of a stored plan, as this caller (a partner, or None) may see it."""
    ver = json.loads(p.verification or "{}")
    return CutoverPlan(
        id=p.id,
        name=p.name,
        move=cm.MoveKind(p.move),
        state=cm.PlanState(p.state),
        reason=p.reason,
        window_start=p.window_start,
        window_end=p.window_end,
        source=p.source,
        target=p.target,
        created_by="" if partner else p.created_by,
        riders=[] if partner else p.riders,
        holds=p.holds,
        partners=[partner] if partner else p.partners,
        steps=[]
        if partner
        else [
            CutoverStep(
                op=s.op,
                rider=s.rider,
                type=s.type,
                src=s.src,
                dst=s.dst,
                new_dst=s.new_dst,
                seq=s.seq,
                slots=s.slots,
            )
            for s in p.step_list()
        ],
        before=[] if partner else _edges(p.recorded("before")),
        after=[] if partner else _edges(p.recorded("after")),
        impact=impact_of(p.impact, partner),
        verification=CutoverVerification(
            ok=bool(ver["ok"]),
            problems=list(ver.get("problems", [])),
            services=int(ver.get("services", 0)),
            planned=int(ver.get("planned", 0)),
        )
        if ver
        else None,
        history=[
            CutoverHistoryEntry(
                at=h.at,
                event=h.event,
                state=h.state,
                actor="" if partner else h.actor,
                note="" if partner else h.note,
            )
            for h in p.entries()
        ],
    )


#: What a cutover call may fail with, expectedly.
EXPECTED = (ce.CutoverError, inv.ValidationFailed, inv.NotFound, inv.TxConflict, AlreadyExists)


def error_of(exc: Exception) -> Any:
    """The typed GraphQL answer of an expected failure."""
    if isinstance(exc, ce.PlanNotFound):
        return NotFound.of(exc.plan_id, "CutoverPlan")
    if isinstance(exc, ce.PlanInvalid):
        return CutoverPlanInvalid(message=str(exc), code="PLAN_INVALID", reasons=exc.reasons)
    if isinstance(exc, ce.InvalidTransition):
        return CutoverStateRefused(message=str(exc), code="INVALID_STATE", reasons=exc.reasons)
    if isinstance(exc, ce.AssumptionBroken):
        return CutoverAssumptionBroken(
            message=str(exc), code="ASSUMPTION_BROKEN", reasons=exc.reasons
        )
    if isinstance(exc, inv.ValidationFailed):
        return ValidationError.of_exc(exc)
    if isinstance(exc, inv.NotFound):
        return NotFound.of(exc.element_id)
    if isinstance(exc, AlreadyExists):
        reason = f"a plan {exc.element_id!r} already exists"
        return CutoverPlanInvalid(message=reason, code="CONFLICT", reasons=[reason])
    if isinstance(exc, inv.TxConflict):
        return CutoverPlanInvalid(message=str(exc), code="CONFLICT", reasons=exc.reasons)
    raise exc


CutoverPlanResult = Annotated[
    CutoverPlan | NotFound | Forbidden, strawberry.union("CutoverPlanResult")
]
#: Every cutover mutation's answer: the plan as it now is, or why not.
CutoverPayload = Annotated[
    CutoverPlan
    | CutoverPlanInvalid
    | CutoverStateRefused
    | CutoverAssumptionBroken
    | ValidationError
    | NotFound
    | Forbidden,
    strawberry.union("CutoverPayload"),
]
