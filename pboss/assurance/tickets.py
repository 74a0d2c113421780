"""Trouble tickets (TMF621): resolving what a fault report is about, opening it in one write
transaction, and moving it through TICKET_TRANSITIONS.

Opening reads first (outside the transaction, like cutover's planning): the subject (a service;
a customer's service, the one the symptom names; or the customer at a normalised address) and
the service's trace, whose hops become the ticket's `path`, customer end first. The unit of work
then locks the ticket id, the service and the customer, re-checks they exist (NotFound, writing
nothing), returns an existing ticket for a repeated request (TicketConflict for a different
request under the same CRM id), reads without a lock the incident already known on the path
(`Correlator.known`), and writes the ticket (marked `correlate_due`: the batch correlator of
`pending.py` groups it into an incident soon after, so no caller waits on an incident's lock), its
ABOUT edges, its history and its TroubleTicketCreateEvent together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pboss.assurance.errors import (
    AddressUnresolved,
    NoServiceToTrace,
    TicketConflict,
    TicketStateRefused,
)
from pboss.assurance.model import (
    OPEN_TICKET_STATES,
    TICKET_TRANSITIONS,
    Entry,
    Incident,
    Priority,
    Symptom,
    TicketState,
    TroubleTicket,
)
from pboss.assurance.record_events import TICKET_CREATED, TICKET_STATE_CHANGED, ticket_event
from pboss.assurance.seam import Correlator
from pboss.inventory.errors import NotFound
from pboss.inventory.model import SELF, Edge, Element
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx
from pboss.loaders.feeds.address import normalise_address

_OPENED = TicketState.ACKNOWLEDGED
#: Ticket ids are CRM's, prefixed.
PREFIX = "TT-"
#: Words in a product id that say which of a customer's services a symptom is about.
SYMPTOM_PRODUCTS: dict[Symptom, tuple[str, ...]] = {
    Symptom.TV: ("TV",),
    Symptom.VOICE: ("VOICE",),
    Symptom.LEASED_LINE_DOWN: ("LL", "MSTP"),
}
#: Customers compared when an address is looked up by text before the full scan.
ADDRESS_PAGE = 200


def ticket_id(crm_ticket_id: str) -> str:
    """The pboss id of CRM's ticket."""
    return PREFIX + crm_ticket_id


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """What CRM asks for: exactly one of customer, service and address, the symptom and more."""

    crm_ticket_id: str
    symptom: Symptom
    customer: str | None = None
    service: str | None = None
    address: str | None = None
    priority: Priority = Priority.MEDIUM
    description: str = ""
    contact_name: str | None = None
    contact_phone: str | None = None

    @property
    def subject(self) -> str:
        """Which of customer, service and address the ticket is opened for."""
        if self.service:
            return "service"
        return "customer" if self.customer else "address"

    def differences(self, ticket: TroubleTicket) -> list[str]:
        """The request's fields that differ from a stored ticket's (empty: the same request)."""
        mine = {
            "subject": self.subject,
            "customer": self.customer if self.subject == "customer" else None,
            "service": self.service,
            "address": self.address if self.subject == "address" else None,
            "symptom": str(self.symptom),
            "priority": str(self.priority),
            "description": self.description,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone,
        }
        theirs = {
            "subject": ticket.subject,
            "customer": ticket.customer if ticket.subject == "customer" else None,
            "service": ticket.service if ticket.subject == "service" else None,
            "address": ticket.address,
            "symptom": str(ticket.symptom),
            "priority": str(ticket.priority),
            "description": ticket.description,
            "contact_name": ticket.contact_name,
            "contact_phone": ticket.contact_phone,
        }
        return [k for k in mine if mine[k] != theirs[k]]


@dataclass(slots=True)
class Subject:
    """What the reads before the transaction found: the service, its customer and its path."""

    service: Element
    customer: Element | None
    path: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Opened:
    """A ticket as opened (or found again), with the incident it is in or that is known on its
    path and whether this call created it."""

    ticket: TroubleTicket
    incident: Incident | None
    created: bool


def _customer_of(store: GraphStore, service_id: str) -> Element | None:
    for _, el in store.neighbours(service_id, "out", ["FOR"]):
        if el.kind == "Customer":
            return el
    return None


def _pick_service(services: Sequence[Element], symptom: Symptom) -> Element | None:
    """The customer's service a symptom is about: one whose product the symptom names, else one
    that is not TV or voice (broadband, a line), else the first by id."""
    live = sorted((s for s in services if s.status != "retired"), key=lambda s: s.id)
    if not live:
        return None
    words = SYMPTOM_PRODUCTS.get(symptom)
    product = lambda s: str(getattr(s, "product", "")).upper()  # noqa: E731
    if words:
        named = [s for s in live if any(w in product(s) for w in words)]
        if named:
            return named[0]
    other = [s for s in live if not any(w in product(s) for w in ("TV", "VOICE"))]
    return (other or live)[0]


def customers_at(store: GraphStore, address: str) -> list[Element]:
    """Customers whose address normalises (`normalise_address`, as availability compares
    addresses) to the same text: first among those whose stored address contains the text as
    given, else over every customer."""
    key = normalise_address(address)
    if not key:
        return []
    hits = store.find(FindQuery(kind="Customer", text=address.strip().lower(), limit=ADDRESS_PAGE))
    same = [c for c in hits.items if normalise_address(getattr(c, "address", "") or "") == key]
    if same:
        return same
    ids = [
        str(row["id"])
        for row in store.scan_nodes("Customer")
        if normalise_address(str(row.get("address") or "")) == key
    ]
    found = store.get_many(ids)
    return [found[i] for i in sorted(found)]


def resolve(store: GraphStore, req: TicketRequest) -> Subject:
    """The service a request is about, its customer and its trace (NotFound, AddressUnresolved,
    NoServiceToTrace when there is none)."""
    if req.service:
        try:  # the trace's root is the service: no read of it alone
            trace = store.trace(req.service)
        except NotFound:
            raise NotFound(req.service, "Service") from None
        if trace.root.kind != "Service":
            raise NotFound(req.service, "Service")
        service = trace.root
        customer = _customer_of(store, service.id)
    else:
        if req.customer:
            customer = store.get(req.customer)
            if customer is None or customer.kind != "Customer":
                raise NotFound(req.customer, "Customer")
        else:
            found = customers_at(store, req.address or "")
            if len(found) != 1:
                raise AddressUnresolved(req.address or "", len(found))
            customer = found[0]
        services = [el for _, el in store.neighbours(customer.id, "in", ["FOR"])]
        picked = _pick_service([s for s in services if s.kind == "Service"], req.symptom)
        if picked is None:
            raise NoServiceToTrace(customer.id)
        service = picked
        trace = store.trace(service.id)
    hops = [h.element for h in trace.hops]
    sites = {el.site for el in hops if el.site}
    if customer is not None and customer.site:
        sites.add(customer.site)
    return Subject(
        service=service,
        customer=customer,
        path=[el.id for el in hops],
        sites=sorted(sites),
        partners=sorted({el.owner for el in hops if el.owner != SELF}),
    )


def _incident_of(tx: GraphTx, ticket: TroubleTicket, correlator: Correlator) -> Incident | None:
    """The incident the ticket is in (read unlocked), else the one known on its path."""
    if not ticket.incident:
        return correlator.known(tx, ticket)
    found = tx.peek([ticket.incident]).get(ticket.incident)
    return found if isinstance(found, Incident) else None


def open_ticket(
    tx: GraphTx,
    req: TicketRequest,
    subject: Subject,
    *,
    now: datetime,
    actor: str,
    correlator: Correlator,
) -> Opened:
    """The unit of work opening a ticket (see the module docstring)."""
    tid = ticket_id(req.crm_ticket_id)
    cust_id = subject.customer.id if subject.customer else None
    locked = tx.lock([i for i in (tid, subject.service.id, cust_id) if i])
    existing = locked.get(tid)
    if existing is not None:
        if not isinstance(existing, TroubleTicket):
            raise TicketConflict(tid, ["kind"])
        diff = req.differences(existing)
        if diff:
            raise TicketConflict(tid, diff)
        return Opened(existing, _incident_of(tx, existing, correlator), created=False)
    if subject.service.id not in locked:
        raise NotFound(subject.service.id, "Service")
    if cust_id and cust_id not in locked:
        raise NotFound(cust_id, "Customer")
    customer = locked.get(cust_id) if cust_id else None
    service = locked[subject.service.id]
    product = getattr(service, "product", None)
    ticket = TroubleTicket(
        id=tid,
        crm_ticket_id=req.crm_ticket_id,
        subject=req.subject,  # type: ignore[arg-type]
        customer=cust_id,
        service=service.id,
        address=req.address if req.subject == "address" else None,
        symptom=req.symptom,
        priority=req.priority,
        description=req.description,
        contact_name=req.contact_name,
        contact_phone=req.contact_phone,
        opened_at=now,
        updated_at=now,
        path=subject.path,
        product=product,
        sla_tier=getattr(customer, "sla_tier", None),
        sites=subject.sites,
        products=[product] if product else [],
        partners=subject.partners,
        history=[Entry(at=now, event="opened", state=_OPENED, actor=actor).dumps()],
        correlate_due=now if correlator.live else None,
    )
    incident = correlator.known(tx, ticket)
    tx.put(ticket, new=True)
    tx.link(Edge(type="ABOUT", src=tid, dst=service.id))
    if cust_id:
        tx.link(Edge(type="ABOUT", src=tid, dst=cust_id))
    tx.emit(ticket_event(ticket, TICKET_CREATED, now, incident))
    return Opened(ticket, incident, created=True)


def change_state(
    tx: GraphTx,
    tid: str,
    to: TicketState,
    *,
    now: datetime,
    actor: str,
    note: str,
    correlator: Correlator,
) -> TroubleTicket:
    """Move a ticket through TICKET_TRANSITIONS, with history and a TroubleTicketStateChangeEvent;
    a ticket leaving the open states leaves correlation's evidence. Already there: unchanged."""
    found = tx.lock([tid]).get(tid)
    if not isinstance(found, TroubleTicket):
        raise NotFound(tid, "TroubleTicket")
    ticket = found.model_copy(deep=True)  # what the store read stays as it was read
    current = TicketState(ticket.state)
    if current == to:
        return ticket
    allowed = TICKET_TRANSITIONS[current]
    if to not in allowed:
        raise TicketStateRefused(tid, current, to, sorted(str(s) for s in allowed))
    ticket.state = to
    ticket.updated_at = now
    if to == TicketState.RESOLVED:
        ticket.resolved_at = now
    elif to == TicketState.IN_PROGRESS:
        ticket.resolved_at = None
    if current in OPEN_TICKET_STATES and to not in OPEN_TICKET_STATES:
        correlator.release_ticket(tx, ticket, now=now)
        ticket.correlate_due = None  # not yet correlated: now never to be
    elif current not in OPEN_TICKET_STATES and to in OPEN_TICKET_STATES:
        correlator.correlate_ticket(tx, ticket, now=now)
    ticket.history = [
        *ticket.history,
        Entry(at=now, event="state", state=to, actor=actor, note=note).dumps(),
    ]
    tx.put(ticket)
    tx.emit(ticket_event(ticket, TICKET_STATE_CHANGED, now))
    return ticket
