"""The transactional steps of an order: record it, hold a path, confirm, release, cancel.

Each function is one transaction's work against `GraphTx`: lock (order, then reservation,
then resources in sorted-id order), re-read, decide, write. A step that finds its work already
done returns `changed=False` and writes nothing, so repeating any step is harmless. Steps return
the CRM events to publish once the transaction has committed. Construction steps are in
construction.py, shared helpers in step_support.py.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from pboss.field.clock import dispatch_terms
from pboss.field.model import Skill
from pboss.inventory.catalog import Catalog
from pboss.inventory.model import ONT, Circuit, Customer, Edge, Element, Service
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.allocate import allocate
from pboss.provisioning.errors import Conflict, Expired, InvalidState, NotFound
from pboss.provisioning.model import (
    FINAL_ORDER_STATES,
    LONG_PROCESS,
    Event,
    Order,
    Reservation,
    Technology,
    WorkOrder,
    WorkPurpose,
    utc,
)
from pboss.provisioning.plan import Plan, explain
from pboss.provisioning.step_support import (
    OS,
    RS,
    WS,
    Lost,
    Outcome,
    cancel_work,
    close,
    end_hold,
    free,
    gather_holds,
    locked,
    of_order,
    order_event,
    peeked,
    record,
)

__all__ = [
    "Lost",
    "Outcome",
    "cancel",
    "confirm",
    "create_order",
    "hold",
    "record",
    "refuse",
    "release",
]

#: While its construction is held for the customer, a lapsed hold is kept this much longer (and
#: checked again then); resuming the work stretches it to the new deadline plus the grace.
PAUSED_HOLD_RECHECK = timedelta(hours=24)
#: The order history event of a reservation refused for want of capacity.
REFUSED = "reservationRefused"
#: Most reasons one refusal keeps on the order (the rest are counted).
MAX_REFUSAL_REASONS = 50


# ---- submit -------------------------------------------------------------------------------------


def create_order(tx: GraphTx, order: Order, customer: Customer) -> Outcome:
    """Record a CRM order once; the same request again returns it, a different one is a Conflict."""
    existing = tx.lock([order.id]).get(order.id)
    if existing is not None:
        if not isinstance(existing, Order):
            raise Conflict(f"id {order.id} is taken", [f"it is a {existing.kind}"])
        old, new = existing.request_fingerprint(), order.request_fingerprint()
        diff = [f"{k}: {old[k]!r} recorded, {new[k]!r} sent" for k in old if old[k] != new[k]]
        if diff:
            raise Conflict(
                f"CRM order {order.crm_order_id} was already submitted differently", diff
            )
        return Outcome(existing, changed=False)
    sites = [s for s in (order.site, order.a_site, order.z_site) if s]
    known = tx.peek([*sites, order.customer])
    for s in sites:
        if s not in known or known[s].kind != "Site":
            raise NotFound(s, "Site")
    have = known.get(order.customer)
    if have is not None and have.kind != "Customer":
        raise Conflict(f"customer id {order.customer} is taken", [f"it is a {have.kind}"])
    if have is None:
        tx.put(customer, new=True)
    tx.put(order, new=True)
    tx.link(Edge(type="FOR", src=order.id, dst=order.customer))
    return Outcome(
        order, changed=True, events=[order_event(order, "acknowledged", order.created_at)]
    )


# ---- hold ---------------------------------------------------------------------------------------


def _assignee(order: Order, partners: list[str]) -> tuple[str, str]:
    if partners:
        return partners[0], "partner"
    return f"crew:{order.site or order.a_site}", "own_crew"


#: The field skill a construction order of each technology needs.
SKILL_FOR: dict[Technology, Skill] = {
    Technology.FTTH: Skill.FTTH_INSTALL,
    Technology.MSTP: Skill.MSTP_SDH,
    Technology.CABLE: Skill.CABLE_TV,
}


def _tier(tx: GraphTx, order: Order) -> str:
    """The customer's SLA tier (standard when the customer record has none)."""
    customer = tx.peek([order.customer]).get(order.customer)
    return str(getattr(customer, "sla_tier", None) or "standard")


def hold(
    tx: GraphTx,
    *,
    order_id: str,
    plan: Plan,
    now: datetime,
    valid_until: datetime,
    catalog: Catalog,
    tries: int | None = None,
    hold_grace: timedelta | None = None,
) -> Outcome | Lost:
    """Hold the best candidate still free for an order; its live reservation if it has one.

    Only the `tries` best candidates are locked and re-checked (all when None); the others
    still appear in the explanation. A long-process order gets a work order whose deadline is the
    catalog's construction SLA for its product, customer tier and builder (`field.clock`); with
    `hold_grace` the hold lasts at least until that deadline plus the grace.
    """
    tried = plan.candidates[:tries] if tries else plan.candidates
    ids = sorted({i for c in tried for i in c.lock_ids})
    lead, facts = tx.claim(ids, lead=[order_id])
    order = lead.get(order_id)
    if not isinstance(order, Order):
        raise NotFound(order_id, "Order")
    reservations, _ = of_order(tx, order)
    live = [r for r in reservations if r.state in (RS.HELD, RS.CONFIRMED)]
    if live:
        res = live[0]
        if res.is_lapsed(now):
            raise Expired(f"reservation {res.id} lapsed at {res.valid_until}", [res.id])
        return Outcome(res, changed=False)
    if order.state in FINAL_ORDER_STATES:
        raise InvalidState(f"order {order.id} is {order.state}", ["nothing can be reserved for it"])
    allocation, lost = allocate(tried, facts)
    if allocation is None:
        return Lost(lost)
    attempt = len(reservations) + 1
    res = Reservation(
        id=f"RSV-{order.crm_order_id}-{attempt}",
        name=f"hold for {order.crm_order_id}",
        order=order.id,
        technology=order.technology,
        valid_from=now,
        valid_until=valid_until,
        resources=[i.id for i in allocation.items],
        allocation=json.dumps([i.model_dump(exclude_none=True) for i in allocation.items]),
        explanation=explain(plan, allocation).dumps(),
    )
    held = [facts[i.id].element for i in allocation.items]
    partners = sorted({el.owner for el in held if el.is_partner})
    long_process = Technology(order.technology) in LONG_PROCESS
    if long_process:
        tier = _tier(tx, order)
        clock, due = dispatch_terms(
            catalog,
            work=WorkPurpose.CONSTRUCTION.value,
            product=order.product,
            tier=tier,
            partner=bool(partners),
            now=now,
        )
        if hold_grace is not None and utc(res.valid_until) < due + hold_grace:
            res.valid_until = due + hold_grace
    tx.put(res, new=True)
    tx.link(Edge(type="FOR_ORDER", src=res.id, dst=order.id))
    for item in allocation.items:
        tx.link(
            Edge(
                type="HOLDS",
                src=res.id,
                dst=item.id,
                seq=item.seq,
                slots=item.slots,
                attrs={"role": item.role},
            )
        )
        if item.kind == "PartnerAccess":
            pool = facts[item.id].element.model_copy(deep=True)
            pool.reserved += 1  # type: ignore[attr-defined]
            tx.put(pool)
    note = f"{res.id} holds {', '.join(res.resources)} until {utc(res.valid_until).isoformat()}"
    new_order = record(order, "resourcesReserved", now, note, to=OS.IN_PROGRESS)
    new_order.reservations = [*order.reservations, res.id]
    new_order.partners = partners  # every event of the order while this hold lives names them
    events = [order_event(new_order, "resourcesReserved", now, note, reservation=res.id)]
    if long_process:
        assignee, assignee_type = _assignee(order, partners)
        wo = WorkOrder(
            id=f"WO-{order.crm_order_id}-{attempt}",
            name=f"construction for {order.crm_order_id}",
            order=order.id,
            reservation=res.id,
            assignee=assignee,
            assignee_type=assignee_type,  # type: ignore[arg-type]
            skill=SKILL_FOR[Technology(order.technology)],
            site=order.site or order.a_site,
            product=order.product,
            sla_tier=tier,
            sla_hours=max(1, math.ceil(clock.rule.hours)),
            created_at=now,
            due_at=due,
            history=[
                Event(
                    at=now,
                    event="dispatched",
                    state=WS.OPEN,
                    note=f"{assignee}; SLA {clock.rule.id}: {clock.rule.hours:g} h "
                    f"{clock.rule.clock}",
                ).dumps()
            ],
        )
        tx.put(wo, new=True)
        tx.link(Edge(type="FOR_ORDER", src=wo.id, dst=order.id))
        wo_note = f"{wo.id} to {assignee} ({assignee_type}), due {wo.due_at.isoformat()}"
        new_order = record(new_order, "constructionDispatched", now, wo_note)
        new_order.work_orders = [*order.work_orders, wo.id]
        events.append(
            order_event(
                new_order,
                "constructionDispatched",
                now,
                wo_note,
                reservation=res.id,
                work_order=wo.id,
            )
        )
    tx.put(new_order)
    return Outcome(res, changed=True, events=events)


def refuse(
    tx: GraphTx, *, order_id: str, now: datetime, message: str, reasons: list[str]
) -> Outcome:
    """Record on the order that nothing could be held for it, and why (holding nothing).

    The order keeps its state: CRM may reserve again once capacity is there. Unchanged when the
    order is final, when it holds something (a concurrent reserve won), or when its last entry is
    already this same refusal (CRM retrying), so repeated refusals do not flood the history.
    """
    order: Order = locked(tx, order_id, "Order")
    if order.state in FINAL_ORDER_STATES:
        return Outcome(order, changed=False)
    reservations, _ = of_order(tx, order)
    if any(r.state in (RS.HELD, RS.CONFIRMED) for r in reservations):
        return Outcome(order, changed=False)
    kept = list(reasons[:MAX_REFUSAL_REASONS])
    if len(reasons) > MAX_REFUSAL_REASONS:
        kept.append(f"and {len(reasons) - MAX_REFUSAL_REASONS} more")
    events = order.events()
    last = events[-1] if events else None
    if last is not None and (last.event, last.note, last.reasons) == (REFUSED, message, kept):
        return Outcome(order, changed=False)
    new_order = record(order, REFUSED, now, message, reasons=kept)
    tx.put(new_order)
    note = f"{message}: {'; '.join(kept)}" if kept else message
    return Outcome(new_order, changed=True, events=[order_event(new_order, REFUSED, now, note)])


# ---- confirm ------------------------------------------------------------------------------------


def confirm(tx: GraphTx, *, reservation_id: str, now: datetime, catalog: Catalog) -> Outcome:
    """Turn a hold into the service: ONT or circuit (with its slots), Service, USES and FOR."""
    order_id = peeked(tx, reservation_id, "Reservation").order
    order: Order = locked(tx, order_id, "Order")
    res: Reservation = locked(tx, reservation_id, "Reservation")
    if res.state == RS.CONFIRMED:
        return Outcome(res, changed=False)
    if res.state == RS.EXPIRED or res.is_lapsed(now):
        raise Expired(f"reservation {res.id} expired at {res.valid_until}", ["reserve again"])
    if res.state != RS.HELD:
        raise InvalidState(
            f"reservation {res.id} is {res.state}", ["only a held reservation confirms"]
        )
    _, wos = of_order(tx, order)
    work = [w for w in wos if w.reservation == res.id]
    if work and not work[0].accepted:
        nxt = work[0].next_milestone
        raise InvalidState(
            f"construction {work[0].id} is not accepted yet",
            [f"{work[0].id} is {work[0].state}, next milestone {nxt.value if nxt else 'none'}"],
        )
    if order.state != OS.IN_PROGRESS:
        raise InvalidState(f"order {order.id} is {order.state}", ["it must be inProgress"])
    holds = tx.linked(res.id, "HOLDS", "out")
    held = tx.lock(sorted(e.dst for e, _ in holds))
    crm = order.crm_order_id
    product = catalog.products.get(order.product)
    service = Service(
        id=f"SVC-{crm}",
        name=f"{order.product} for {order.customer}",
        product=order.product,
        service_type=product.service_type if product else None,
        status="in_use",
        site=order.site,
    )
    nodes: list[Element] = [service]
    edges = [
        Edge(type="FOR", src=service.id, dst=order.customer),
        Edge(type="FOR_ORDER", src=service.id, dst=order.id),
    ]
    pools: list[Element] = []
    by_role = {e.attrs.get("role"): e for e, _ in holds}
    tech = Technology(order.technology)
    if tech == Technology.FTTH:
        ont = ONT(id=f"ONT-{crm}", site=order.site, status="in_use", ont_type="HGU")
        nodes.append(ont)
        edges += [
            Edge(type="FED_BY", src=ont.id, dst=by_role["access"].dst),
            Edge(type="USES", src=service.id, dst=ont.id),
        ]
        res_links = {"ont": ont.id}
    elif tech == Technology.MSTP:
        n = order.bandwidth_2m
        circuit = Circuit(
            id=f"CIR-{crm}",
            name=f"{order.a_site}—{order.z_site} {n}x2M",
            bandwidth_2m=n,
            status="in_use",
        )
        nodes.append(circuit)
        edges += [
            Edge(type="A_END", src=circuit.id, dst=by_role["a_end"].dst),
            Edge(type="Z_END", src=circuit.id, dst=by_role["z_end"].dst),
            Edge(type="USES", src=service.id, dst=circuit.id),
        ]
        edges += [
            Edge(type="ROUTED_OVER", src=circuit.id, dst=e.dst, seq=e.seq, slots=e.slots)
            for e, _ in holds
            if e.attrs.get("role") == "section"
        ]
        res_links = {"circuit": circuit.id}
    else:
        pool = held[by_role["pool"].dst].model_copy(deep=True)
        pool.reserved = max(0, pool.reserved - 1)  # type: ignore[attr-defined]
        pool.used += 1  # type: ignore[attr-defined]
        pools.append(pool)
        edges.append(Edge(type="USES", src=service.id, dst=pool.id))
        res_links = {}
    taken = tx.peek([n.id for n in nodes])
    if taken:
        raise Conflict(
            f"reservation {res.id} cannot confirm",
            [f"id {i} already exists" for i in sorted(taken)],
        )
    for edge, _ in holds:
        tx.unlink("HOLDS", edge.src, edge.dst)
    for el in nodes:
        tx.put(el, new=True)
    for el in pools:
        tx.put(el)
    for edge in edges:
        tx.link(edge)
    done = close(res, RS.CONFIRMED, now, "confirmed")
    done.service = service.id
    done.circuit = res_links.get("circuit")
    done.ont = res_links.get("ont")
    tx.put(done)
    note = f"{service.id} in service for {order.customer}"
    new_order = record(order, "serviceActivated", now, note, to=OS.COMPLETED)
    tx.put(new_order)
    event = order_event(
        new_order, "serviceActivated", now, note, reservation=res.id, service=service.id
    )
    return Outcome(done, changed=True, events=[event])


# ---- release, expiry, cancel --------------------------------------------------------------------


def release(
    tx: GraphTx,
    *,
    reservation_id: str,
    now: datetime,
    reason: str,
    expire: bool = False,
) -> Outcome:
    """Free everything a hold holds; with `expire`, only if its validity has run out."""
    order_id = peeked(tx, reservation_id, "Reservation").order
    order: Order = locked(tx, order_id, "Order")
    res: Reservation = locked(tx, reservation_id, "Reservation")
    if res.state == RS.CONFIRMED and not expire:
        raise InvalidState(
            f"reservation {res.id} is confirmed",
            ["its service is live; cancel the service instead"],
        )
    if res.state != RS.HELD or (expire and not res.is_lapsed(now)):
        return Outcome(res, changed=False)
    _, wos = of_order(tx, order)
    paused = [w for w in wos if w.reservation == res.id and w.state == WS.HELD and w.held_since]
    if expire and paused:  # construction paused for the customer: the hold waits with it
        kept = res.model_copy(deep=True)
        kept.valid_until = now + PAUSED_HOLD_RECHECK
        tx.put(kept)
        return Outcome(kept, changed=False)
    [freed] = gather_holds(tx, [res])
    state = RS.EXPIRED if expire else RS.RELEASED
    closed = free(tx, freed, state, now, reason)
    cancel_work(tx, [w for w in wos if w.reservation == res.id], now, reason)
    event = "reservationExpired" if expire else "reservationReleased"
    to = None if order.state in FINAL_ORDER_STATES else OS.PENDING
    new_order = record(order, event, now, f"{res.id}: {reason}", to=to)
    ended = order_event(new_order, event, now, reason, reservation=res.id)
    end_hold(new_order)
    tx.put(new_order)
    return Outcome(closed, changed=True, events=[ended])


def cancel(tx: GraphTx, *, order_id: str, now: datetime, reason: str) -> Outcome:
    """Cancel an order (TMF641 `cancelled`), releasing its holds and its open construction."""
    order: Order = locked(tx, order_id, "Order")
    if order.state == OS.CANCELLED:
        return Outcome(order, changed=False)
    if order.state in FINAL_ORDER_STATES:
        raise InvalidState(
            f"order {order.id} is {order.state}", ["a finished order cannot be cancelled"]
        )
    reservations, wos = of_order(tx, order)
    held = [r for r in reservations if r.state == RS.HELD]
    tx.lock(sorted(r.id for r in held))
    for freed in gather_holds(tx, held):
        free(tx, freed, RS.RELEASED, now, f"order cancelled: {reason}")
    cancel_work(tx, wos, now, reason)
    new_order = record(order, "cancelled", now, reason, to=OS.CANCELLED)
    ended = order_event(new_order, "cancelled", now, reason)
    end_hold(new_order)
    tx.put(new_order)
    return Outcome(new_order, changed=True, events=[ended])
