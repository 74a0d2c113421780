"""What every provisioning step shares: locked reads, order history, CRM events, freeing holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pboss.inventory.model import Edge, Element
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.errors import InvalidState, NotFound
from pboss.provisioning.model import (
    OPEN_WORK_STATES,
    ORDER_TRANSITIONS,
    Event,
    Order,
    OrderState,
    Reservation,
    ReservationState,
    WorkOrder,
    WorkOrderState,
)
from pboss.provisioning.notify import OrderEvent

RS = ReservationState
OS = OrderState
WS = WorkOrderState
OPEN_WORK = frozenset(OPEN_WORK_STATES)


@dataclass
class Outcome:
    """What a step did: the resulting element, whether it wrote anything, the events to send."""

    value: Any
    changed: bool
    events: list[OrderEvent] = field(default_factory=list)


@dataclass
class Lost:
    """Every candidate was taken by a concurrent reservation since it was ranked."""

    reasons: list[str]


# ---- reads and records --------------------------------------------------------------------------


def locked(tx: GraphTx, element_id: str, kind: str) -> Any:
    """Lock one node and return it; NotFound unless it is of this kind."""
    el = tx.lock([element_id]).get(element_id)
    if el is None or el.kind != kind:
        raise NotFound(element_id, kind)
    return el


def peeked(tx: GraphTx, element_id: str, kind: str) -> Any:
    """Read one node without locking; NotFound unless it is of this kind."""
    el = tx.peek([element_id]).get(element_id)
    if el is None or el.kind != kind:
        raise NotFound(element_id, kind)
    return el


def of_order(tx: GraphTx, order: Order) -> tuple[list[Reservation], list[WorkOrder]]:
    """The reservations and work orders of an order (stable while the order is locked)."""
    ids = [*order.reservations, *order.work_orders]
    found = tx.peek(ids) if ids else {}
    res = [r for i in order.reservations if isinstance(r := found.get(i), Reservation)]
    wos = [w for i in order.work_orders if isinstance(w := found.get(i), WorkOrder)]
    return res, wos


def order_event(
    order: Order, event: str, at: datetime, note: str = "", **ids: str | None
) -> OrderEvent:
    return OrderEvent(
        order_id=order.id,
        crm_order_id=order.crm_order_id,
        state=str(order.state),
        event=event,
        at=at,
        note=note,
        reservation_id=ids.get("reservation"),
        work_order_id=ids.get("work_order"),
        service_id=ids.get("service"),
        sites=[s for s in (order.site, order.a_site, order.z_site) if s],
        product=order.product,
        partners=list(order.partners),
    )


def end_hold(order: Order) -> None:
    """The order's hold is over (released, expired, cancelled, failed): its later events no
    longer concern the partners whose resources it held (call after building the ending event,
    which still does)."""
    order.partners = []


def record(
    order: Order,
    event: str,
    now: datetime,
    note: str = "",
    to: OrderState | None = None,
    reasons: list[str] | None = None,
) -> Order:
    """A copy of the order with one more history entry, moved to `to` if given (TMF641 table)."""
    new = order.model_copy(deep=True)
    if to is not None and to != order.state:
        if to not in ORDER_TRANSITIONS[OrderState(order.state)]:
            raise InvalidState(f"order {order.id} is {order.state}", [f"cannot become {to}"])
        new.state = to
    new.updated_at = now
    new.history = [
        *order.history,
        Event(
            at=now, event=event, state=str(new.state), note=note, reasons=list(reasons or [])
        ).dumps(),
    ]
    return new


def wo_record(wo: WorkOrder, event: str, now: datetime, note: str = "") -> WorkOrder:
    """A copy of the work order with one more history entry."""
    new = wo.model_copy(deep=True)
    new.history = [*wo.history, Event(at=now, event=event, state=str(wo.state), note=note).dumps()]
    return new


def close(res: Reservation, state: ReservationState, now: datetime, reason: str) -> Reservation:
    """A copy of the reservation, closed in `state` now, for a reason."""
    new = res.model_copy(deep=True)
    new.state = state
    new.closed_at = now
    new.close_reason = reason
    return new


@dataclass
class Freed:
    """What releasing one hold touches, gathered before any write."""

    reservation: Reservation
    holds: list[tuple[Edge, Element]]


def gather_holds(tx: GraphTx, reservations: list[Reservation]) -> list[Freed]:
    """Read and lock (sorted) everything these reservations hold."""
    gathered = [Freed(r, tx.linked(r.id, "HOLDS", "out")) for r in reservations]
    locked = tx.lock(sorted({e.dst for f in gathered for e, _ in f.holds}))
    for f in gathered:
        f.holds = [(e, locked.get(e.dst, el)) for e, el in f.holds]
    return gathered


def free(
    tx: GraphTx, freed: Freed, state: ReservationState, now: datetime, reason: str
) -> Reservation:
    """Delete a reservation's holds, give back pool units, and close it."""
    for edge, el in freed.holds:
        if el.kind == "PartnerAccess":
            pool = el.model_copy(deep=True)
            pool.reserved = max(0, pool.reserved - 1)  # type: ignore[attr-defined]
            tx.put(pool)
        tx.unlink("HOLDS", edge.src, edge.dst)
    closed = close(freed.reservation, state, now, reason)
    tx.put(closed)
    return closed


def cancel_work(tx: GraphTx, wos: list[WorkOrder], now: datetime, reason: str) -> None:
    for wo in wos:
        if wo.state in OPEN_WORK:
            new = wo_record(wo, "cancelled", now, reason)
            new.state = WS.CANCELLED
            tx.put(new)
