"""Provisioning kinds: the CRM order, the reservation (a hold with an expiry) and the work order.

They are ordinary graph nodes (category `Provisioning`) so one store keeps resources and the orders
that hold them; history and milestones are stored flat as JSON strings (Neo4j keeps no nested maps).
Importing this module changes nothing: `register_kinds()` adds the kinds and their edges to the
inventory model, explicitly (called by `bootstrap.open_store`, `ProvisioningService` and the test
fixtures; calling it again does nothing).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_serializer, field_validator, model_validator

from pboss.inventory.model import Category, Element, allow_edge, register_kind
from pboss.inventory.timestamps import stamp, utc


class OrderState(StrEnum):
    """TMF641 product-order states."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "inProgress"
    HELD = "held"
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


_S = OrderState
#: The legal order-state changes (TMF641); the final states allow none.
ORDER_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    _S.ACKNOWLEDGED: frozenset({_S.IN_PROGRESS, _S.PENDING, _S.HELD, _S.FAILED, _S.CANCELLED}),
    _S.IN_PROGRESS: frozenset({_S.COMPLETED, _S.PENDING, _S.HELD, _S.FAILED, _S.CANCELLED}),
    _S.HELD: frozenset({_S.IN_PROGRESS, _S.PENDING, _S.FAILED, _S.CANCELLED}),
    _S.PENDING: frozenset({_S.IN_PROGRESS, _S.HELD, _S.FAILED, _S.CANCELLED}),
    _S.COMPLETED: frozenset(),
    _S.FAILED: frozenset(),
    _S.CANCELLED: frozenset(),
}
FINAL_ORDER_STATES = frozenset({_S.COMPLETED, _S.FAILED, _S.CANCELLED})


class ReservationState(StrEnum):
    """TMF685-style reservation states."""

    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"


class Milestone(StrEnum):
    """Construction milestones of a work order, in the order they happen."""

    SURVEY = "survey"
    INSTALLATION = "installation"
    REMOTE_TEST = "remoteTest"
    ACCEPTANCE = "acceptance"


MILESTONES: tuple[Milestone, ...] = tuple(Milestone)


class WorkOrderState(StrEnum):
    """Where a construction order stands."""

    OPEN = "open"
    HELD = "held"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Technology(StrEnum):
    """How a product is delivered; decides path computation and whether construction is needed."""

    FTTH = "ftth"
    MSTP = "mstp"
    CABLE = "cable"


#: Technologies whose orders go through a construction order (long process, 48 h SLA).
LONG_PROCESS = frozenset({Technology.MSTP, Technology.CABLE})


class Event(BaseModel):
    """One entry of an order's or work order's history: a state change, a milestone, or a
    refusal with its reasons (why nothing could be held)."""

    at: datetime
    event: str
    state: str | None = None
    note: str = ""
    reasons: list[str] = Field(default_factory=list)
    actor: str = ""

    def dumps(self) -> str:
        """The stored form: one JSON string per entry (`reasons` and `actor` only when set)."""
        raw: dict[str, Any] = {
            "at": stamp(self.at),
            "event": self.event,
            "state": self.state,
            "note": self.note,
        }
        if self.reasons:
            raw["reasons"] = self.reasons
        if self.actor:
            raw["actor"] = self.actor
        return json.dumps(raw, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str) -> Event:
        """Parse a stored entry."""
        return cls.model_validate(json.loads(raw))


class _Provisioning(Element):
    """Common base: a provisioning node has timestamps stored as fixed-width UTC strings."""

    category: ClassVar[Category] = Category.PROVISIONING

    @field_serializer("*", when_used="always", check_fields=False)
    def _stamp_datetimes(self, value: Any) -> Any:
        return stamp(value) if isinstance(value, datetime) else value


class Order(_Provisioning):
    """A CRM activation order; `id` derives from the CRM order id, its idempotency key."""

    kind: ClassVar[str] = "Order"
    crm_order_id: str = Field(min_length=1, max_length=200)
    product: str = Field(min_length=1)
    technology: Technology
    a_site: str | None = None
    z_site: str | None = None
    bandwidth_2m: int = Field(default=1, ge=1, le=1008)
    customer: str = Field(min_length=1)
    requested_date: str | None = None
    state: OrderState = OrderState.ACKNOWLEDGED
    created_at: datetime
    updated_at: datetime
    reservations: list[str] = Field(default_factory=list)
    work_orders: list[str] = Field(default_factory=list)
    history: list[str] = Field(default_factory=list)
    #: The partners whose resources the order's live hold uses (its events' `partners` scope,
    #: so those partners hear of the order while it concerns their resources).
    partners: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sites_fit_the_technology(self) -> Order:
        if self.technology == Technology.MSTP:
            if not (self.a_site and self.z_site):
                raise ValueError("a leased line needs an A-end and a Z-end site")
            if self.a_site == self.z_site:
                raise ValueError("a leased line needs two different sites")
        elif not self.site:
            raise ValueError(f"a {self.technology} order needs a site")
        return self

    def events(self) -> list[Event]:
        """The order's history, oldest first."""
        return [Event.loads(h) for h in self.history]

    def request_fingerprint(self) -> dict[str, Any]:
        """What CRM asked for; a resubmission with the same id must ask for exactly this."""
        return {
            "product": self.product,
            "site": self.site,
            "a_site": self.a_site,
            "z_site": self.z_site,
            "bandwidth_2m": self.bandwidth_2m,
            "customer": self.customer,
            "requested_date": self.requested_date,
        }


class Reservation(_Provisioning):
    """A hold on resources for one order (TMF685), valid until `valid_until` unless confirmed."""

    kind: ClassVar[str] = "Reservation"
    order: str
    state: ReservationState = ReservationState.HELD
    technology: Technology
    valid_from: datetime
    valid_until: datetime
    resources: list[str] = Field(default_factory=list)
    allocation: str = "[]"
    explanation: str = "{}"
    service: str | None = None
    circuit: str | None = None
    ont: str | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None

    def is_lapsed(self, now: datetime) -> bool:
        """True when the hold is still `held` but its validity has run out."""
        return self.state == ReservationState.HELD and utc(self.valid_until) <= utc(now)


class WorkPurpose(StrEnum):
    """Why a work order exists: to build an order's path, or to repair a fault."""

    CONSTRUCTION = "construction"
    REPAIR = "repair"


class WorkOrder(_Provisioning):
    """A work order (施工单) to an own crew or a partner against an SLA clock: construction for an
    order (`order`, `reservation`) or repair for assurance (`incident` and/or `ticket`). `crew` is
    the crew it is assigned to (also an `ASSIGNED_TO` edge); the clock pauses while the job is held
    for the customer (`held_since`, `paused_seconds`)."""

    kind: ClassVar[str] = "WorkOrder"
    purpose: WorkPurpose = WorkPurpose.CONSTRUCTION
    order: str | None = None
    reservation: str | None = None
    incident: str | None = None
    ticket: str | None = None
    assignee: str
    assignee_type: Literal["own_crew", "partner"] = "own_crew"
    crew: str | None = None
    skill: str | None = None
    product: str | None = None
    sla_tier: str | None = None
    state: WorkOrderState = WorkOrderState.OPEN
    sla_hours: int = Field(default=48, ge=1)
    created_at: datetime
    due_at: datetime
    held_since: datetime | None = None
    paused_seconds: float = Field(default=0, ge=0)
    jeopardy: bool = False
    breached: bool = False
    escalation: int = Field(default=0, ge=0)
    completed_at: datetime | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    rating_comment: str | None = Field(default=None, max_length=2000)
    done: list[str] = Field(default_factory=list)
    #: Field steps recorded so far (accepted, onTheWay, survey, ...), JSON entries with who/when.
    steps: list[str] = Field(default_factory=list)
    history: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_a_purpose(self) -> WorkOrder:
        if self.purpose == WorkPurpose.CONSTRUCTION and not (self.order and self.reservation):
            raise ValueError("a construction work order needs its order and reservation")
        if self.purpose == WorkPurpose.REPAIR and not (self.incident or self.ticket):
            raise ValueError("a repair work order needs its incident or ticket")
        return self

    @field_validator("done")
    @classmethod
    def _known_milestones(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if m not in {x.value for x in MILESTONES}]
        if bad:
            raise ValueError(f"unknown milestones {bad}")
        return v

    @property
    def next_milestone(self) -> Milestone | None:
        """The milestone the crew works on now, or None when all are done."""
        return next((m for m in MILESTONES if m.value not in self.done), None)

    @property
    def accepted(self) -> bool:
        """True once the customer accepted the work (the last milestone)."""
        return Milestone.ACCEPTANCE.value in self.done

    def events(self) -> list[Event]:
        """The work order's history, oldest first."""
        return [Event.loads(h) for h in self.history]


#: Work order states the sweeper watches (not yet done, failed or cancelled).
OPEN_WORK_STATES: tuple[str, ...] = (WorkOrderState.OPEN.value, WorkOrderState.HELD.value)

#: The kinds this package adds to the inventory model.
KINDS: tuple[type[Element], ...] = (Order, Reservation, WorkOrder)
#: The edges they may have: (type, from kind, to kind).
EDGES: tuple[tuple[str, str, str], ...] = (
    *(
        ("HOLDS", "Reservation", target)
        for target in ("SplitterPort", "TrunkSection", "PartnerLink", "PartnerAccess", "Port")
    ),
    *(("FOR_ORDER", source, "Order") for source in ("Reservation", "WorkOrder", "Service")),
    ("FOR", "Order", "Customer"),
)


def register_kinds() -> None:
    """Add Order, Reservation and WorkOrder and their edges to the inventory model (idempotent)."""
    for cls in KINDS:
        register_kind(cls)
    for edge_type, source, target in EDGES:
        allow_edge(edge_type, source, target)
