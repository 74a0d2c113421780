"""GraphQL for trouble tickets (TMF621): the type, one ticket, a filtered connection with the
total, `openTroubleTicket` (answering with the incident known on the path) and
`updateTroubleTicketState`, every expected failure a typed member of the result union.

A partner key reads only tickets whose path crosses its resources (scope `partners`), and of
them only the fault and its state: customer, service, address, contact, description, the SLA
tier and other owners' resources on the path are null or left out (`ticket_of(partner=)`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from pboss.assurance import errors as ae
from pboss.assurance import model as am
from pboss.assurance.service import TicketFilter
from pboss.assurance.tickets import Opened, TicketRequest
from pboss.graphql.assurance.access import READ_ROLES, TICKET_WRITE_ROLES, assurance_of
from pboss.graphql.connections import MAX_PAGE, PageInfo, decode_cursor, encode_cursor, page_info
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Error, Forbidden, NotFound, UserInputError, ValidationError
from pboss.inventory import errors as inv
from pboss.inventory.model import SELF

SymptomEnum = strawberry.enum(am.Symptom, name="TicketSymptom", description="What is reported.")
PriorityEnum = strawberry.enum(am.Priority, name="TicketPriority", description="TMF621 priority.")
TicketStateEnum = strawberry.enum(am.TicketState, name="TicketState", description="TMF621 state.")
CURSOR = "ticket"
LIST_TICKETS = (
    "Tickets by id, filtered (any of `states`; on a site; with a resource on the path; over a "
    "partner's resources; of a customer), with the total."
)


@strawberry.type(description="One entry of a ticket's or alarm's record.")
class AssuranceEntry:
    at: datetime
    event: str
    state: str | None
    actor: str | None = strawberry.field(description="Who did it (null for a partner).")
    note: str | None = strawberry.field(description="Why (null for a partner).")


def entries_of(history: list[str], partner: str | None) -> list[AssuranceEntry]:
    """A record's history as a reader sees it (a partner: no actors or notes)."""
    return [
        AssuranceEntry(
            at=e.at,
            event=e.event,
            state=e.state,
            actor=None if partner else e.actor,
            note=None if partner else e.note,
        )
        for e in (am.Entry.loads(h) for h in history)
    ]


@strawberry.type(description="An open incident on the ticket's path, and when it should be over.")
class KnownIncident:
    id: strawberry.ID
    state: str
    suspected: strawberry.ID
    estimated_restoration: datetime | None


def known_of(inc: am.Incident | None) -> KnownIncident | None:
    """The incident as a ticket's answer names it."""
    if inc is None:
        return None
    return KnownIncident(
        id=strawberry.ID(inc.id),
        state=str(inc.state),
        suspected=strawberry.ID(inc.suspected),
        estimated_restoration=inc.estimated_restoration,
    )


@strawberry.type(
    description="A fault report (TMF621) CRM opened, attached to the service's path (the "
    "resources it depends on, customer end first)."
)
class TroubleTicket:
    id: strawberry.ID
    crm_ticket_id: str
    subject: str = strawberry.field(description="customer, service or address.")
    symptom: SymptomEnum  # type: ignore[valid-type]
    priority: PriorityEnum  # type: ignore[valid-type]
    state: TicketStateEnum  # type: ignore[valid-type]
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    customer: strawberry.ID | None = strawberry.field(description="Null for a partner.")
    service: strawberry.ID | None = strawberry.field(description="Null for a partner.")
    address: str | None = strawberry.field(description="As CRM sent it; null for a partner.")
    description: str | None = strawberry.field(description="Null for a partner.")
    contact_name: str | None = strawberry.field(description="Null for a partner.")
    contact_phone: str | None = strawberry.field(description="Null for a partner.")
    product: str | None
    sla_tier: str | None = strawberry.field(description="The customer's; null for a partner.")
    path: list[strawberry.ID] = strawberry.field(
        description="Resource ids the service depends on; a partner sees only its own."
    )
    sites: list[strawberry.ID]
    partners: list[strawberry.ID]
    incident: strawberry.ID | None
    work_order: strawberry.ID | None
    due_at: datetime | None
    jeopardy: bool
    breached: bool
    history: list[AssuranceEntry]


def ticket_of(t: am.TroubleTicket, partner: str | None = None, owners: Any = None) -> TroubleTicket:
    """The ticket as this reader sees it; a partner's path keeps only ids in `owners` (the
    resources that partner owns, when the caller looked them up) or none."""
    hide = partner is not None
    path = [p for p in t.path if owners and p in owners] if hide else list(t.path)
    return TroubleTicket(
        id=strawberry.ID(t.id),
        crm_ticket_id=t.crm_ticket_id,
        subject=t.subject,
        symptom=am.Symptom(t.symptom),
        priority=am.Priority(t.priority),
        state=am.TicketState(t.state),
        opened_at=t.opened_at,
        updated_at=t.updated_at,
        resolved_at=t.resolved_at,
        customer=None if hide else t.customer,
        service=None if hide else t.service,
        address=None if hide else t.address,
        description=None if hide else t.description,
        contact_name=None if hide else t.contact_name,
        contact_phone=None if hide else t.contact_phone,
        product=t.product,
        sla_tier=None if hide else t.sla_tier,
        path=[strawberry.ID(p) for p in path],
        sites=[strawberry.ID(s) for s in t.sites],
        partners=[strawberry.ID(partner)] if hide else [strawberry.ID(p) for p in t.partners],
        incident=t.incident,
        work_order=t.work_order,
        due_at=t.due_at,
        jeopardy=t.jeopardy,
        breached=t.breached,
        history=entries_of(t.history, partner),
    )


@strawberry.type(description="The ticket as opened, or found again for the same request.")
class TroubleTicketOpened:
    ticket: TroubleTicket
    created: bool = strawberry.field(description="False when CRM repeated a request.")
    known_incident: KnownIncident | None = strawberry.field(
        description="The open incident on the path (its ticket is grouped in it, or it is known "
        "there): what the clerk can tell the customer at first contact."
    )


@strawberry.type(description="CRM's ticket id is taken by a different request; nothing written.")
class TicketConflict(Error):
    id: strawberry.ID
    fields: list[str]


@strawberry.type(description="The address matched no customer, or several; nothing written.")
class AddressUnresolved(Error):
    address: str
    candidates: int


@strawberry.type(description="The customer has no service to attach a ticket to.")
class NoServiceToTrace(Error):
    customer: strawberry.ID


@strawberry.type(description="The ticket's state does not allow this change; nothing written.")
class TicketStateRefused(Error):
    id: strawberry.ID
    from_state: TicketStateEnum  # type: ignore[valid-type]
    to_state: TicketStateEnum  # type: ignore[valid-type]
    allowed: list[TicketStateEnum]  # type: ignore[valid-type]


OpenTroubleTicketPayload = Annotated[
    TroubleTicketOpened | NotFound | TicketConflict | AddressUnresolved | NoServiceToTrace
    | ValidationError | Forbidden,
    strawberry.union("OpenTroubleTicketPayload"),
]  # fmt: skip
TroubleTicketPayload = Annotated[
    TroubleTicket | NotFound | TicketStateRefused | Forbidden,
    strawberry.union("TroubleTicketPayload"),
]
TroubleTicketResult = Annotated[
    TroubleTicket | NotFound | Forbidden, strawberry.union("TroubleTicketResult")
]


@strawberry.type(description="A ticket in a page.")
class TroubleTicketEdge:
    cursor: str
    node: TroubleTicket


@strawberry.type(description="A page of tickets with the total passing the filter.")
class TroubleTicketConnection:
    edges: list[TroubleTicketEdge]
    page_info: PageInfo
    total_count: int


TroubleTicketsResult = Annotated[
    TroubleTicketConnection | Forbidden, strawberry.union("TroubleTicketsResult")
]


@strawberry.input(description="A fault report: exactly one of customer, service and address.")
class OpenTroubleTicketInput:
    crm_ticket_id: str = strawberry.field(description="CRM's ticket id: the idempotency key.")
    symptom: SymptomEnum  # type: ignore[valid-type]
    customer: strawberry.ID | None = None
    service: strawberry.ID | None = None
    address: str | None = None
    priority: PriorityEnum = am.Priority.MEDIUM  # type: ignore[valid-type]
    description: str = ""
    contact_name: str | None = None
    contact_phone: str | None = None


def _partner(ctx: Context) -> str | None:
    return ctx.principal.partner_id if ctx.principal.is_partner else None


def _validate(inp: OpenTroubleTicketInput) -> ValidationError | TicketRequest:
    given = [k for k in ("customer", "service", "address") if getattr(inp, k)]
    if len(given) != 1:
        return ValidationError.single("input", "give exactly one of customer, service, address")
    limits = {
        "crmTicketId": (inp.crm_ticket_id, 1, 200),
        "address": (inp.address, 1, 500),
        "description": (inp.description, 0, 4000),
        "contactName": (inp.contact_name, 0, 200),
        "contactPhone": (inp.contact_phone, 0, 64),
    }
    for name, (value, low, high) in limits.items():
        if value is not None and not low <= len(value.strip() if low else value) <= high:
            return ValidationError.single("input", f"must be {low}..{high} characters", name)
    return TicketRequest(
        crm_ticket_id=inp.crm_ticket_id.strip(),
        symptom=am.Symptom(inp.symptom),
        customer=str(inp.customer) if inp.customer else None,
        service=str(inp.service) if inp.service else None,
        address=inp.address,
        priority=am.Priority(inp.priority),
        description=inp.description,
        contact_name=inp.contact_name,
        contact_phone=inp.contact_phone,
    )


def error_of(exc: Exception) -> Any:
    """The typed member of a ticket result for an expected failure."""
    if isinstance(exc, inv.NotFound):
        return NotFound.of(exc.element_id, exc.kind)
    if isinstance(exc, ae.TicketConflict):
        return TicketConflict(
            message=str(exc),
            code=exc.code.upper(),
            id=strawberry.ID(exc.ticket_id),
            fields=exc.fields,
        )
    if isinstance(exc, ae.AddressUnresolved):
        return AddressUnresolved(
            message=str(exc), code=exc.code.upper(), address=exc.address, candidates=exc.candidates
        )
    if isinstance(exc, ae.NoServiceToTrace):
        return NoServiceToTrace(
            message=str(exc), code=exc.code.upper(), customer=strawberry.ID(exc.customer_id)
        )
    if isinstance(exc, ae.TicketStateRefused):
        return TicketStateRefused(
            message=str(exc), code=exc.code.upper(), id=strawberry.ID(exc.ticket_id),
            from_state=am.TicketState(exc.from_state), to_state=am.TicketState(exc.to_state),
            allowed=[am.TicketState(s) for s in exc.allowed],
        )  # fmt: skip
    if isinstance(exc, inv.ValidationFailed):
        return ValidationError.of_exc(exc)
    raise exc


EXPECTED = (inv.NotFound, ae.AssuranceError, inv.ValidationFailed)


async def _owned(ctx: Context, partner: str | None, tickets: list[am.TroubleTicket]) -> set[str]:
    """Of the tickets' path resources, those the partner owns (one store call)."""
    if partner is None:
        return set()
    ids = sorted({p for t in tickets for p in t.path})
    found = await ctx.call(ctx.store.get_many, ids)
    return {i for i, el in found.items() if el.owner == partner and el.owner != SELF}


@strawberry.type
class TicketQuery:
    """Trouble tickets."""

    @strawberry.field(description="One ticket by pboss id or CRM's id (a partner: only one on "
                      "its resources).")  # fmt: skip
    async def trouble_ticket(self, info: Info, id: strawberry.ID) -> TroubleTicketResult:
        ctx = info.context
        if ctx.principal.role not in READ_ROLES:
            return Forbidden.of("read trouble tickets", ctx.principal.role)
        try:
            t = await ctx.call(assurance_of(ctx.state).ticket, str(id))
        except inv.NotFound:
            return NotFound.of(str(id), "TroubleTicket")
        partner = _partner(ctx)
        if partner is not None and partner not in t.partners:
            return NotFound.of(str(id), "TroubleTicket")
        return ticket_of(t, partner, await _owned(ctx, partner, [t]))

    @strawberry.field(description=LIST_TICKETS)
    async def trouble_tickets(
        self,
        info: Info,
        states: list[TicketStateEnum] | None = None,  # type: ignore[valid-type]
        site: strawberry.ID | None = None,
        resource: strawberry.ID | None = None,
        partner: strawberry.ID | None = None,
        customer: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> TroubleTicketsResult:
        ctx = info.context
        if ctx.principal.role not in READ_ROLES:
            return Forbidden.of("read trouble tickets", ctx.principal.role)
        if not 1 <= first <= MAX_PAGE:
            raise UserInputError(f"first must be 1..{MAX_PAGE}")
        own = _partner(ctx)
        if own is not None:
            if customer is not None or (partner is not None and str(partner) != own):
                return Forbidden.of("filter on customers or other partners", "partner")
            partner = strawberry.ID(own)
        where = TicketFilter(
            states=[str(s.value) for s in states] if states else None,
            site=str(site) if site else None,
            resource=str(resource) if resource else None,
            partner=str(partner) if partner else None,
            customer=str(customer) if customer else None,
        )
        page = await ctx.call(
            assurance_of(ctx.state).tickets, where, after=decode_cursor(CURSOR, after), first=first
        )
        owned = await _owned(ctx, own, page.items)
        edges = [
            TroubleTicketEdge(cursor=encode_cursor(CURSOR, t.id), node=ticket_of(t, own, owned))
            for t in page.items
        ]
        return TroubleTicketConnection(
            edges=edges,
            page_info=page_info(edges, page.has_next),
            total_count=page.total,
        )


@strawberry.type
class TicketMutation:
    """Open and move trouble tickets."""

    @strawberry.mutation(
        description="Open CRM's fault report for a customer, a service or an address: attached "
        "to the service's path, correlated, answered with any open incident on that path. The "
        "same CRM id with the same request returns the ticket again; with another, TicketConflict."
    )
    async def open_trouble_ticket(
        self, info: Info, input: OpenTroubleTicketInput
    ) -> OpenTroubleTicketPayload:
        ctx = info.context
        if ctx.principal.role not in TICKET_WRITE_ROLES:
            return Forbidden.of("open trouble tickets", ctx.principal.role)
        req = _validate(input)
        if isinstance(req, ValidationError):
            return req
        try:
            opened: Opened = await ctx.call(
                assurance_of(ctx.state).open_ticket, req, actor=ctx.principal.actor
            )
        except EXPECTED as exc:
            return error_of(exc)
        finally:
            ctx.loaders.forget()
        return TroubleTicketOpened(
            ticket=ticket_of(opened.ticket),
            created=opened.created,
            known_incident=known_of(opened.incident),
        )

    @strawberry.mutation(description="Move a ticket through its states (TMF621), recorded.")
    async def update_trouble_ticket_state(
        self,
        info: Info,
        id: strawberry.ID,
        state: TicketStateEnum,  # type: ignore[valid-type]
        note: str = "",
    ) -> TroubleTicketPayload:
        ctx = info.context
        if ctx.principal.role not in TICKET_WRITE_ROLES:
            return Forbidden.of("change trouble tickets", ctx.principal.role)
        svc = assurance_of(ctx.state)
        try:
            tid = (await ctx.call(svc.ticket, str(id))).id
            t = await ctx.call(
                svc.set_ticket_state, tid, am.TicketState(state),
                actor=ctx.principal.actor, note=note[:500],
            )  # fmt: skip
        except EXPECTED as exc:
            return error_of(exc)
        finally:
            ctx.loaders.forget()
        return ticket_of(t)
