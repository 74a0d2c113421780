"""Assurance SLAs: which catalog term a ticket or an incident runs on, and which alerts are due.

A ticket's repair SLA is the catalog's first `[[sla]]` rule for repair work matching its product
and its customer's SLA tier (`field.sla.clock_for`), counted from when it was opened. An incident
runs on the tightest of its open tickets' terms (the earliest deadline: a gold leased line's 4 h
beats a household's 24 h); an incident of alarms alone runs on the catch-all from its creation.
After a breach, the work escalates along the rule's `escalate` chain: level 1 at the deadline,
each further level after another `ESCALATION_STEP` of the SLA. Pure functions; `now` comes from
the caller's injectable clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pboss.assurance.model import OPEN_TICKET_STATES, Incident, TroubleTicket
from pboss.field.sla import SlaClock, clock_for
from pboss.inventory.catalog import Catalog
from pboss.inventory.timestamps import utc

#: Share of the SLA between one escalation step and the next, after the breach.
ESCALATION_STEP = 0.5


@dataclass(frozen=True)
class Term:
    """The SLA one record runs on: its clock (rule and business hours), start, product, tier."""

    clock: SlaClock
    start: datetime
    product: str | None
    tier: str | None

    @property
    def due(self) -> datetime:
        """The deadline."""
        return utc(self.clock.due_at(self.start))

    @property
    def jeopardy_at(self) -> datetime:
        """When the work enters jeopardy (the rule's share of the SLA used)."""
        return utc(self.clock.jeopardy_at(self.start))

    def escalation_at(self, level: int) -> datetime:
        """When escalation `level` (1 = first) is due: the deadline, then each further step."""
        extra = (level - 1) * self.clock.budget * ESCALATION_STEP
        return utc(self.clock.add(self.due, extra)) if extra else self.due

    def describe(self) -> str:
        """The term in words, for histories and notes."""
        rule = self.clock.rule
        return f"SLA {rule.id} ({rule.hours:g} h {rule.clock}), due {self.due.isoformat()}"


def ticket_term(catalog: Catalog, ticket: TroubleTicket, partner: bool) -> Term:
    """A ticket's repair term: by its product and SLA tier, from when it was opened."""
    clock = clock_for(catalog, "repair", ticket.product, ticket.sla_tier, partner)
    return Term(clock, utc(ticket.opened_at), ticket.product, ticket.sla_tier)


def incident_term(
    catalog: Catalog, incident: Incident, tickets: Iterable[TroubleTicket], partner: bool
) -> Term:
    """An incident's term: the tightest of its open tickets' (earliest deadline, then the
    shorter SLA), else the catch-all from the incident's creation."""
    terms = [ticket_term(catalog, t, partner) for t in tickets if t.state in OPEN_TICKET_STATES]
    if terms:
        return min(terms, key=lambda t: (t.due, t.clock.budget, t.product or "", t.tier or ""))
    clock = clock_for(catalog, "repair", None, None, partner)
    return Term(clock, utc(incident.created_at), None, None)


@dataclass(frozen=True)
class Alert:
    """One SLA alert due now: `jeopardy`, `slaBreached` or `escalated` (to `queue`, `level`)."""

    name: str
    message: str
    queue: str | None = None
    level: int = 0


def alerts_due(
    term: Term, now: datetime, *, jeopardy: bool, breached: bool, escalation: int
) -> list[Alert]:
    """The alerts a record with these flags has not raised yet and is due by `now`, in order
    (a sweeper that was down raises every step it missed, each once)."""
    now = utc(now)
    due = term.due.isoformat()
    out: list[Alert] = []
    if not jeopardy and now >= term.jeopardy_at:
        share = term.clock.rule.jeopardy
        out.append(Alert("jeopardy", f"{share:.0%} of the SLA used; due {due}"))
    if not breached and now >= term.due:
        out.append(Alert("slaBreached", f"SLA {term.clock.rule.id} breached; was due {due}"))
    level = escalation
    while True:
        queue = term.clock.escalation_target(level + 1)
        if queue is None or now < term.escalation_at(level + 1):
            break
        level += 1
        out.append(Alert("escalated", f"escalated to {queue} (level {level})", queue, level))
    return out
