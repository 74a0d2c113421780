"""The provisioning service layer: what CRM and the GraphQL API call.

Each public method is one step: compute what it can outside the transaction (path candidates, from
reads), run one transaction (`GraphStore.transact`), then report the committed events to CRM.
Every method is idempotent: calling it again after it succeeded changes nothing.

Size: one facade (orders, holds, construction field steps, the sweeper) that CRM, GraphQL and the
sweeper share; the step logic itself lives in steps.py and construction.py.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from pboss.field.clock import HeldFor
from pboss.field.work import FieldStep
from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.errors import PortInUse, TxConflict
from pboss.inventory.model import Customer, Element
from pboss.inventory.results import FindQuery, Page
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import AlreadyExists, GraphTx
from pboss.provisioning import construction, steps
from pboss.provisioning.errors import (
    Conflict,
    Expired,
    InvalidRequest,
    InvalidState,
    NoCapacity,
    NotFound,
    ProvisioningError,
)
from pboss.provisioning.events import to_record
from pboss.provisioning.model import (
    LONG_PROCESS,
    OPEN_WORK_STATES,
    Milestone,
    Order,
    OrderState,
    Reservation,
    ReservationState,
    Technology,
    WorkOrder,
    register_kinds,
)
from pboss.provisioning.notify import CrmNotifier, NoNotifier
from pboss.provisioning.paths import TransportGraph, cable_plan, ftth_plan, leased_line_plan
from pboss.provisioning.plan import Plan
from pboss.provisioning.requests import OrderRequest, missing_sites, order_id_for
from pboss.provisioning.settings import ProvisioningSettings

log = logging.getLogger(__name__)


def _held_for(value: HeldFor | str) -> HeldFor:
    """Whose side a hold is on, or InvalidRequest naming the choices."""
    try:
        return HeldFor(value)
    except ValueError:
        raise InvalidRequest(
            f"unknown hold party {value!r}", ["use customer or us"], ["held_for"]
        ) from None


#: Recently submitted or reserved orders whose request part path computation reuses.
REQUEST_CACHE = 10_000


@dataclass
class SweepReport:
    """What one sweep did."""

    expired: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)


class ProvisioningService:
    """Orders, reservations, confirmation, release and construction on one GraphStore."""

    def __init__(
        self,
        store: GraphStore,
        *,
        actor: str = "provisioning",
        notifier: CrmNotifier | None = None,
        settings: ProvisioningSettings | None = None,
        clock: Callable[[], datetime] | None = None,
        catalog: Catalog | None = None,
    ):
        register_kinds()
        self.store = store
        self.actor = actor
        self.notifier: CrmNotifier = notifier or NoNotifier()
        self.settings = settings or ProvisioningSettings()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.catalog = catalog or getattr(store, "catalog", None) or default_catalog()
        self._net_lock = threading.Lock()
        self._net: tuple[float, TransportGraph] | None = None
        self._requests: OrderedDict[str, Order] = OrderedDict()

    # ---- plumbing -------------------------------------------------------------------------------

    def _run(self, work: Callable[[GraphTx], Any], reason: str = "provisioning") -> Any:
        """One step in one store transaction; a store's TxConflict becomes a provisioning
        Conflict (same message and reasons), as does a port taken behind the reservation's back
        (`PortInUse`, naming the port and its user). The step's events go into the store's event
        log in the same transaction (`GraphTx.emit`); the notifier hears of them once committed."""

        def logged(tx: GraphTx) -> Any:
            out = work(tx)
            for event in getattr(out, "events", ()):
                event.event_id = str(uuid.uuid4())
                tx.emit(to_record(event, event.event_id))
            return out

        try:
            out = self.store.transact(logged, actor=self.actor, reason=reason)
        except TxConflict as exc:
            raise Conflict(exc.message, exc.reasons) from None
        except PortInUse as exc:
            reasons = [f"{i.item}: {i.reason}" for i in exc.issues]
            raise Conflict("a port this step needs is taken", reasons) from None
        for event in getattr(out, "events", ()):
            self.notifier.publish(event)
        return out

    def _request(self, order_id: str) -> Order:
        """An order as far as path computation needs it: what CRM asked for never changes once
        recorded, so a recent copy will do (the transaction re-reads the order under lock)."""
        with self._net_lock:
            known = self._requests.get(order_id)
        if known is not None:
            return known
        order = self.order(order_id)
        self._remember(order)
        return order

    def _remember(self, order: Order) -> None:
        with self._net_lock:
            self._requests[order.id] = order
            self._requests.move_to_end(order.id)
            while len(self._requests) > REQUEST_CACHE:
                self._requests.popitem(last=False)

    def _get(self, element_id: str, cls: type[Any]) -> Any:
        el = self.store.get(element_id)
        if not isinstance(el, cls):
            raise NotFound(element_id, cls.kind)
        return el

    # ---- lookups --------------------------------------------------------------------------------

    def order(self, order_id: str) -> Order:
        """One order by its id."""
        return self._get(order_id, Order)

    def order_by_crm_id(self, crm_order_id: str) -> Order:
        """One order by CRM's order id."""
        return self.order(order_id_for(crm_order_id))

    def reservation(self, reservation_id: str) -> Reservation:
        """One reservation by id."""
        return self._get(reservation_id, Reservation)

    def work_order(self, work_order_id: str) -> WorkOrder:
        """One work order by id."""
        return self._get(work_order_id, WorkOrder)

    def _many(self, ids: list[str], cls: type[Any]) -> list[Any]:
        found = self.store.get_many(ids) if ids else {}
        return [found[i] for i in ids if isinstance(found.get(i), cls)]

    def reservations_of(self, order_id: str) -> list[Reservation]:
        """Every reservation made for an order, oldest first."""
        return self._many(self.order(order_id).reservations, Reservation)

    def work_orders_of(self, order_id: str) -> list[WorkOrder]:
        """Every construction order of an order, oldest first."""
        return self._many(self.order(order_id).work_orders, WorkOrder)

    def orders(
        self, *, after: str | None = None, limit: int = 100, text: str | None = None
    ) -> Page[Element]:
        """Orders paged by id."""
        return self.store.find(FindQuery(kind="Order", after=after, limit=limit, text=text))

    # ---- submit ---------------------------------------------------------------------------------

    def submit_order(self, request: OrderRequest) -> Order:
        """Record a CRM order (acknowledged); the same order again returns it unchanged."""
        product = self.catalog.products.get(request.product)
        if product is None:
            known = ", ".join(sorted(self.catalog.products))
            raise InvalidRequest(
                f"unknown product {request.product!r}",
                [f"{request.product!r} is not in the catalog; known: {known}"],
                ["product"],
            )
        try:
            tech = Technology(product.technology)
        except ValueError:
            raise InvalidRequest(
                f"product {product.id} cannot be provisioned",
                [f"technology {product.technology!r} has no provisioning flow"],
                ["product"],
            ) from None
        missing_sites(request, tech)
        now = self.clock()
        site = request.site if tech != Technology.MSTP else None
        try:
            order = Order(
                id=order_id_for(request.crm_order_id),
                name=f"{request.product} for {request.customer}",
                crm_order_id=request.crm_order_id,
                product=request.product,
                technology=tech,
                site=site,
                a_site=request.a_site if tech == Technology.MSTP else None,
                z_site=request.z_site if tech == Technology.MSTP else None,
                bandwidth_2m=request.bandwidth_2m if tech == Technology.MSTP else 1,
                customer=request.customer,
                requested_date=request.requested_date,
                created_at=now,
                updated_at=now,
            )
        except ValidationError as exc:
            reasons = [e["msg"].removeprefix("Value error, ") for e in exc.errors()]
            fields = [str(e["loc"][0]) for e in exc.errors() if e["loc"]]
            raise InvalidRequest("the order is malformed", reasons, fields) from None
        order = steps.record(order, "acknowledged", now, f"from CRM order {request.crm_order_id}")
        customer = Customer(
            id=request.customer,
            name=request.customer_name or request.customer,
            customer_type=request.customer_type,
            site=site or request.a_site,
        )
        try:
            recorded = self._run(lambda tx: steps.create_order(tx, order, customer)).value
        except AlreadyExists:  # a concurrent submit created it first: now it is found
            recorded = self._run(lambda tx: steps.create_order(tx, order, customer)).value
        self._remember(recorded)
        return recorded

    # ---- path computation -----------------------------------------------------------------------

    def _network(self, fresh: bool) -> TransportGraph:
        """Trunk sections, partner links and their NEs; a snapshot reused for a short while.

        A snapshot may over-state free slots (holds taken since are re-checked under lock) but
        must not under-state them: `_freed` drops it when this service frees slots, and
        `_plan_or_recheck` re-reads before a refusal computed on it is reported."""
        with self._net_lock:
            now = time.monotonic()
            cached = self._net
            if fresh or cached is None or now - cached[0] > self.settings.links_cache_seconds:
                links = self.store.transport_links()
                ne_ids = sorted({n for tl in links for n in (tl.a_ne, tl.z_ne) if n})
                cached = (now, TransportGraph(links, self.store.get_many(ne_ids)))
                self._net = cached
            return cached[1]

    def _freed(self) -> None:
        """Forget the transport snapshot: this service just freed VC-12 slots (a release, an
        expiry, a cancel), so the next leased-line plan must see them."""
        with self._net_lock:
            self._net = None

    def _plan_or_recheck(self, order: Order, fresh: bool) -> Plan:
        """`plan`, but a leased-line refusal computed on a reused snapshot is computed again on
        a fresh one: slots freed since by another replica or an engineer's write are not in it."""
        try:
            return self.plan(order, fresh=fresh)
        except NoCapacity:
            if fresh or Technology(order.technology) != Technology.MSTP:
                raise
            return self.plan(order, fresh=True)

    def plan(self, order: Order, *, fresh: bool = False) -> Plan:
        """Rank the ways to serve an order (NoCapacity when there is none); writes nothing."""
        s = self.settings
        tech = Technology(order.technology)
        if tech == Technology.FTTH:
            view = self.store.site_view(order.site or "")
            return ftth_plan(
                view,
                max_candidates=s.max_candidates,
                options_per_claim=s.options_per_claim,
                catalog=self.catalog,
                product=order.product,
            )
        if tech == Technology.CABLE:
            return cable_plan(self.store.site_view(order.site or ""), tech.value)
        a_view = self.store.site_view(order.a_site or "")
        z_view = self.store.site_view(order.z_site or "")
        return leased_line_plan(
            a_view,
            z_view,
            self._network(fresh),
            order.bandwidth_2m,
            k=s.k_paths,
            options_per_claim=s.options_per_claim,
        )

    # ---- reserve --------------------------------------------------------------------------------

    def _live(self, order: Order) -> Reservation | None:
        """The order's held or confirmed reservation, expiring a lapsed hold on the way."""
        for res in self._many(order.reservations, Reservation):
            if res.is_lapsed(self.clock()):
                self._expire(res.id, self.clock())
            elif res.state in (ReservationState.HELD, ReservationState.CONFIRMED):
                return res
        return None

    def _valid_until(self, tech: Technology, now: datetime, ttl_seconds: float | None) -> datetime:
        if ttl_seconds is not None:
            return now + timedelta(seconds=ttl_seconds)
        if tech in LONG_PROCESS:  # the hold step stretches it to the work order's deadline
            return now + timedelta(hours=self.settings.long_hold_grace_hours)
        return now + timedelta(seconds=self.settings.hold_ttl_seconds)

    def reserve(self, order_id: str, *, ttl_seconds: float | None = None) -> Reservation:
        """Hold the best path for an order (TTL: 30 min, or the SLA for construction orders).

        Raises NoCapacity with the reasons when nothing can serve it, or Conflict when concurrent
        reservations kept winning the race (retryable); nothing is written then.
        """
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise InvalidRequest(
                "a hold's time to live must be positive", [f"got {ttl_seconds}"], ["ttl_seconds"]
            )
        order = self._request(order_id)
        tech = Technology(order.technology)
        lost: list[str] = []
        for attempt in range(self.settings.reserve_attempts):
            try:
                plan = self._plan_or_recheck(order, fresh=attempt > 0)
            except NoCapacity as refusal:  # a repeated reserve: the order may hold what is gone
                current = self.order(order_id)
                live = self._live(current)
                if live is not None:
                    return live
                if current.state in (OrderState.CANCELLED, OrderState.FAILED):
                    raise InvalidState(
                        f"order {order_id} is {current.state}", ["nothing can be reserved"]
                    ) from None
                self._record_refusal(order_id, refusal)
                raise
            now = self.clock()
            valid_until = self._valid_until(tech, now, ttl_seconds)
            grace = (
                timedelta(hours=self.settings.long_hold_grace_hours)
                if ttl_seconds is None
                else None
            )

            def work(
                tx: Any,
                plan: Plan = plan,
                now: datetime = now,
                until: datetime = valid_until,
                grace: timedelta | None = grace,
            ) -> Any:
                return steps.hold(
                    tx,
                    order_id=order_id,
                    plan=plan,
                    now=now,
                    valid_until=until,
                    catalog=self.catalog,
                    tries=self.settings.lock_candidates,
                    hold_grace=grace,
                )

            try:
                out = self._run(work)
            except Expired:  # its hold lapsed: expire it, then reserve afresh
                self._live(self.order(order_id))
                continue
            if isinstance(out, steps.Lost):
                lost += out.reasons
                continue
            return out.value
        raise Conflict("concurrent reservations kept taking the candidates; try again", lost)

    def _record_refusal(self, order_id: str, exc: NoCapacity) -> None:
        """Write on the order why a reservation got nothing, so CRM and engineers can see it
        later; a failure to record is logged, never raised over the refusal itself."""
        now = self.clock()
        try:
            self._run(
                lambda tx: steps.refuse(
                    tx, order_id=order_id, now=now, message=exc.message, reasons=exc.reasons
                ),
                reason="reservation refused",
            )
        except (ProvisioningError, TxConflict, NotFound) as failed:
            log.warning("could not record the refusal of %s: %s", order_id, failed)

    # ---- confirm, release, cancel ---------------------------------------------------------------

    def confirm(self, reservation_id: str) -> Reservation:
        """Put a hold into service: the Service (and ONT or circuit) exist afterwards."""
        now = self.clock()
        return self._run(
            lambda tx: steps.confirm(
                tx, reservation_id=reservation_id, now=now, catalog=self.catalog
            )
        ).value

    def release(self, reservation_id: str, reason: str = "released by CRM") -> Reservation:
        """Free everything a hold holds; the order waits (pending) for a new reservation."""
        now = self.clock()
        out = self._run(
            lambda tx: steps.release(tx, reservation_id=reservation_id, now=now, reason=reason)
        )
        if out.changed:
            self._freed()
        return out.value

    def cancel(self, order_id: str, reason: str = "cancelled by CRM") -> Order:
        """Cancel an order and free whatever it holds."""
        now = self.clock()
        out = self._run(lambda tx: steps.cancel(tx, order_id=order_id, now=now, reason=reason))
        if out.changed:
            self._freed()
        return out.value

    def _expire(self, reservation_id: str, now: datetime) -> bool:
        out = self._run(
            lambda tx: steps.release(
                tx, reservation_id=reservation_id, now=now, reason="hold expired", expire=True
            )
        )
        if out.changed:
            self._freed()
        return bool(out.changed)

    # ---- construction ---------------------------------------------------------------------------

    def record_milestone(
        self,
        work_order_id: str,
        milestone: Milestone | str,
        outcome: Literal["done", "held", "failed"] = "done",
        note: str = "",
        *,
        actor: str = "",
        held_for: HeldFor | str = HeldFor.US,
    ) -> WorkOrder:
        """Record survey, installation, remote test or acceptance; acceptance confirms the hold.
        A hold pauses the SLA clock only when `held_for` is the customer."""
        try:
            name = Milestone(milestone)
        except ValueError:
            known = ", ".join(m.value for m in Milestone)
            raise InvalidRequest(
                f"unknown milestone {milestone!r}", [f"known: {known}"], ["milestone"]
            ) from None
        whose = _held_for(held_for)
        now = self.clock()
        wo: WorkOrder = self._run(
            lambda tx: construction.milestone(
                tx,
                work_order_id=work_order_id,
                name=name,
                outcome=outcome,
                note=note,
                now=now,
                catalog=self.catalog,
                actor=actor or self.actor,
                held_for=whose,
                hold_grace=timedelta(hours=self.settings.long_hold_grace_hours),
            )
        ).value
        self._confirm_accepted(wo)
        return wo

    def record_field_step(
        self,
        work_order_id: str,
        step: FieldStep | str,
        reason: str = "",
        *,
        at: datetime | None = None,
        actor: str = "",
        held_for: HeldFor | str = HeldFor.US,
        partner: str | None = None,
    ) -> WorkOrder:
        """Record what a field engineer reports (accepted, onTheWay, a milestone, held, resumed,
        failed) with who and when; `partner` restricts it to that partner's work (NotYourWork)."""
        try:
            name = FieldStep(step)
        except ValueError:
            known = ", ".join(s.value for s in FieldStep)
            raise InvalidRequest(f"unknown step {step!r}", [f"known: {known}"], ["step"]) from None
        whose = _held_for(held_for)
        now = self.clock()
        wo: WorkOrder = self._run(
            lambda tx: construction.field_step(
                tx,
                work_order_id=work_order_id,
                step=name,
                reason=reason,
                now=now,
                catalog=self.catalog,
                actor=actor or self.actor,
                at=at,
                held_for=whose,
                partner=partner,
                hold_grace=timedelta(hours=self.settings.long_hold_grace_hours),
            )
        ).value
        self._confirm_accepted(wo)
        return wo

    def _confirm_accepted(self, wo: WorkOrder) -> None:
        """Acceptance puts the held path into service (when so configured)."""
        if wo.accepted and wo.reservation and self.settings.auto_confirm_on_acceptance:
            try:
                self.confirm(wo.reservation)
            except ProvisioningError as exc:
                log.warning("acceptance of %s could not confirm %s: %s", wo.id, wo.reservation, exc)

    # ---- sweeper --------------------------------------------------------------------------------

    def sweep_expired(self, now: datetime | None = None) -> SweepReport:
        """Expire lapsed holds and flag work orders in SLA jeopardy; safe to run in many processes.

        Each item is its own transaction that locks and re-checks, so a hold another process
        already expired (or CRM just confirmed) is left alone.
        """
        now = now or self.clock()
        report = SweepReport()
        batch = self.settings.sweep_batch
        due = self.store.due_ids(
            "Reservation",
            states=[ReservationState.HELD.value],
            time_field="valid_until",
            until=now,
            limit=batch,
        )
        for rid in due:
            try:
                if self._expire(rid, now):
                    report.expired.append(rid)
            except NotFound:
                continue
        open_work = self.store.due_ids(
            "WorkOrder", states=OPEN_WORK_STATES, time_field="due_at", until=None, limit=batch
        )
        for wid in open_work:
            try:
                out = self._run(
                    lambda tx, wid=wid: construction.watch_sla(
                        tx, work_order_id=wid, now=now, catalog=self.catalog
                    )
                )
            except NotFound:
                continue
            if out.changed:
                report.flagged.append(wid)
        return report
