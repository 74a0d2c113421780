"""Typed errors of assurance: every expected failure names what was wrong, and writes nothing."""

from __future__ import annotations

from pboss.inventory.errors import PbossError


class AssuranceError(PbossError):
    """Base of assurance's expected failures."""

    code = "assurance_error"


class TicketConflict(AssuranceError):
    """CRM reused a ticket id for a different request: the stored ticket is kept as it was."""

    code = "ticket_conflict"

    def __init__(self, ticket_id: str, fields: list[str]):
        self.ticket_id = ticket_id
        self.fields = fields
        super().__init__(
            f"ticket {ticket_id!r} already exists with different {', '.join(fields)}: a new "
            "fault needs a new ticket id"
        )


class TicketStateRefused(AssuranceError):
    """The ticket's state does not allow this change (TICKET_TRANSITIONS)."""

    code = "invalid_state"

    def __init__(self, ticket_id: str, from_state: str, to_state: str, allowed: list[str]):
        self.ticket_id = ticket_id
        self.from_state = from_state
        self.to_state = to_state
        self.allowed = allowed
        super().__init__(
            f"ticket {ticket_id!r} is {from_state}: it cannot become {to_state} "
            f"(allowed: {', '.join(allowed) or 'none, it is final'})"
        )


class AddressUnresolved(AssuranceError):
    """An address matched no customer, or several customers, so no service can be chosen."""

    code = "address_unresolved"

    def __init__(self, address: str, candidates: int):
        self.address = address
        self.candidates = candidates
        why = "no customer" if candidates == 0 else f"{candidates} customers"
        super().__init__(
            f"{why} at the address {address[:200]!r}: open the ticket for a customer or service"
        )


class NoServiceToTrace(AssuranceError):
    """The customer has no service (none in use at that address) to attach a ticket to."""

    code = "no_service"

    def __init__(self, customer_id: str):
        self.customer_id = customer_id
        super().__init__(f"customer {customer_id!r} has no service to attach a fault report to")
