"""The assurance service: open and move trouble tickets, raise and clear alarms, read them.

Every write is one `GraphStore.transact` of a unit of work in tickets.py or alarms.py; reads a
unit of work needs that never change under it (a service's trace) happen just before it. Time
comes from one injectable clock (like the provisioning and cutover services); correlation from
`seam.default_correlator()` unless one is passed. Opening a ticket and ingesting an alarm do not
correlate: they mark the record and wake the batch correlator (`pending.py`) when one runs
(`start_correlator`); `correlate_pending` drains the waiting records now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Generic, TypeVar

from pboss.assurance.alarms import AlarmOp, AlarmResult, clear_alarm, raise_alarm
from pboss.assurance.config import SEVERITY_RANK, AssuranceConfig, default_config
from pboss.assurance.model import Alarm, AlarmState, TicketState, TroubleTicket
from pboss.assurance.pending import BATCH, Drained, Runner, correlate_pending
from pboss.assurance.seam import Correlator, default_correlator
from pboss.assurance.tickets import Opened, TicketRequest, change_state, open_ticket, resolve
from pboss.assurance.tickets import ticket_id as ticket_id_of
from pboss.inventory.errors import NotFound, PbossError
from pboss.inventory.model import from_props
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import AlreadyExists

Clock = Callable[[], datetime]
T = TypeVar("T", TroubleTicket, Alarm)


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Which tickets a list shows: any of these states, sites, partners, on this resource."""

    states: Sequence[str] | None = None
    site: str | None = None
    resource: str | None = None
    partner: str | None = None
    customer: str | None = None

    def keeps(self, t: TroubleTicket) -> bool:
        """True when the ticket passes every filter given."""
        return (
            (not self.states or str(t.state) in self.states)
            and (self.site is None or self.site in t.sites)
            and (self.resource is None or self.resource in t.path or self.resource == t.service)
            and (self.partner is None or self.partner in t.partners)
            and (self.customer is None or self.customer == t.customer)
        )


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Which alarms a list shows: state, site, resource, partner, severity at least, origin."""

    state: str | None = None
    site: str | None = None
    resource: str | None = None
    partner: str | None = None
    min_severity: str | None = None
    origin: str | None = None

    def keeps(self, a: Alarm) -> bool:
        """True when the alarm passes every filter given."""
        sev_ok = self.min_severity is None or (
            SEVERITY_RANK[str(a.severity)] <= SEVERITY_RANK[self.min_severity]
        )
        return (
            (self.state is None or str(a.state) == self.state)
            and (self.site is None or self.site in a.sites)
            and (self.resource is None or self.resource == a.resource)
            and (self.partner is None or self.partner in a.partners)
            and (self.origin is None or a.origin == self.origin)
            and sev_ok
        )


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """One page of records by id, the total passing the filter and whether more follow."""

    items: list[T]
    total: int
    has_next: bool


def _page(records: Iterable[T], after: str | None, first: int) -> Listing[T]:
    kept = sorted(records, key=lambda r: r.id)
    rest = [r for r in kept if after is None or r.id > after]
    return Listing(rest[:first], len(kept), len(rest) > first)


class AssuranceService:
    """Trouble tickets and alarms over one store, with one clock and one configuration."""

    def __init__(
        self,
        store: GraphStore,
        clock: Clock = system_clock,
        *,
        config: AssuranceConfig | None = None,
        correlator: Correlator | None = None,
    ):
        self.store = store
        self.clock = clock
        self.config = config or default_config()
        self.correlator = correlator or default_correlator()
        self.runner: Runner | None = None

    # ---- correlation ----------------------------------------------------------------------

    def correlate_pending(self, *, batch: int = BATCH) -> Drained:
        """Correlate every ticket and alarm waiting for it now, `batch` per transaction."""
        return correlate_pending(self.store, self.correlator, now=self.clock, batch=batch)

    def start_correlator(self, interval: float = 1.0, *, batch: int = BATCH) -> Runner:
        """Run the batch correlator on its own thread (one per process), woken after every
        ticket or alarm this service commits and polling every `interval` seconds."""
        if self.runner is None or not self.runner.running:
            self.runner = Runner(partial(self.correlate_pending, batch=batch), interval).start()
        return self.runner

    def stop_correlator(self) -> None:
        """Stop the correlator thread, if one runs."""
        if self.runner is not None:
            self.runner.stop()
            self.runner = None

    def _wake(self) -> None:
        if self.runner is not None:
            self.runner.wake()

    # ---- tickets --------------------------------------------------------------------------

    def open_ticket(self, req: TicketRequest, *, actor: str) -> Opened:
        """Open CRM's ticket (or return it again for the same request), attached to its
        service's path, with the incident known on that path; correlated by the batch after."""
        subject = resolve(self.store, req)
        reason = f"trouble ticket {req.crm_ticket_id}"
        for attempt in (1, 2):
            now = self.clock()
            try:
                opened = self.store.transact(
                    partial(
                        open_ticket,
                        req=req,
                        subject=subject,
                        now=now,
                        actor=actor,
                        correlator=self.correlator,
                    ),
                    actor=actor,
                    reason=reason,
                )
                if opened.created:
                    self._wake()
                return opened
            except AlreadyExists:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def set_ticket_state(
        self, ticket_id: str, to: TicketState, *, actor: str, note: str = ""
    ) -> TroubleTicket:
        """Move a ticket through TICKET_TRANSITIONS (TicketStateRefused when not allowed)."""
        now = self.clock()
        return self.store.transact(
            lambda tx: change_state(
                tx, ticket_id, to, now=now, actor=actor, note=note, correlator=self.correlator
            ),
            actor=actor,
            reason=f"ticket {ticket_id} -> {to}",
        )

    def ticket(self, ticket_id: str) -> TroubleTicket:
        """One ticket by pboss id or CRM's id (NotFound)."""
        found = self.store.get_many([ticket_id, ticket_id_of(ticket_id)])
        for key in (ticket_id, ticket_id_of(ticket_id)):
            el = found.get(key)
            if isinstance(el, TroubleTicket):
                return el
        raise NotFound(ticket_id, "TroubleTicket")

    def tickets(
        self, where: TicketFilter, *, after: str | None = None, first: int = 50
    ) -> Listing[TroubleTicket]:
        """Tickets passing the filter, by id, a page after `after`, with the total."""
        return _page(self._all(TroubleTicket, "TroubleTicket", where.keeps), after, first)

    # ---- alarms ---------------------------------------------------------------------------

    def apply_alarm(self, op: AlarmOp, *, actor: str) -> AlarmResult:
        """Raise or clear one alarm in its own transaction (one per operation), marked for the
        batch correlator."""
        work = raise_alarm if op.action == "raise" else clear_alarm
        for attempt in (1, 2):
            now = self.clock()
            try:
                result = self.store.transact(
                    partial(
                        work,
                        op=op,
                        now=now,
                        actor=actor,
                        config=self.config,
                        correlator=self.correlator,
                    ),
                    actor=actor,
                    reason=f"alarm {op.action} {op.resource} {op.probable_cause}",
                )
                if result.alarm.correlate_due is not None:
                    self._wake()
                return result
            except AlreadyExists:  # another source raised it first: now it is a repeat
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def apply_alarms(self, ops: Sequence[AlarmOp], *, actor: str) -> list[AlarmResult | PbossError]:
        """Raise or clear alarms in order, each in its own transaction: an operation refused
        (its typed error in its place) writes nothing and does not stop the others."""
        out: list[AlarmResult | PbossError] = []
        for op in ops:
            try:
                out.append(self.apply_alarm(op, actor=actor))
            except PbossError as exc:
                out.append(exc)
        return out

    def alarm(self, alarm_id: str) -> Alarm:
        """One alarm (NotFound)."""
        el = self.store.get(alarm_id)
        if not isinstance(el, Alarm):
            raise NotFound(alarm_id, "Alarm")
        return el

    def alarms(
        self, where: AlarmFilter, *, after: str | None = None, first: int = 50
    ) -> Listing[Alarm]:
        """Alarms passing the filter, by id, a page after `after`, with the total."""
        return _page(self._all(Alarm, "Alarm", where.keeps), after, first)

    def raised_alarms(self, origin: str | None = None) -> list[Alarm]:
        """Every raised alarm (of one origin), by id."""
        return self.alarms(
            AlarmFilter(state=AlarmState.RAISED, origin=origin), first=1_000_000
        ).items

    def _all(self, cls: type[T], kind: str, keep: Callable[[T], bool]) -> list[T]:
        """Every record of a kind passing `keep` (a streamed scan; records are parsed once)."""
        out: list[T] = []
        for row in self.store.scan_nodes(kind):
            el = from_props(row)
            if isinstance(el, cls) and keep(el):
                out.append(el)
        return out
