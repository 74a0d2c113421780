"""Reconciliation: what CRM says about an order, a port or a package against what pboss shows.

Pure functions: the feedback step (`pboss.crm.feedback`) reads pboss's side under lock into the
facts below, in the transaction that records the report, and asks `check` which rules disagree.
Every rule of the subject's kind (`feedback_model.RULES`) gets an answer on every report: a
`Finding` (CRM says, pboss says) when they disagree, None when they agree, so a report that
agrees resolves what an earlier one opened.

Decisions (docs/api.md, "Status feedback from CRM"):

- sold / contractSigned need resources behind the sale: a held or confirmed reservation (a
  construction order sells before its service is in place, so a hold is enough); billingStarted
  needs the service in place (a confirmed reservation). A failed or cancelled order agrees with
  neither.
- customerWithdrew / cancelled disagree while pboss still has the service in place or holds
  resources for the order: those resources would be stranded until someone releases them.
- A port is "used" in pboss when something makes it busy (`transaction.BUSY_BY`: an ONT or a
  splitter fed from it, a circuit or trunk ending on it, a hold); a port CRM says is sold to X
  agrees when pboss shows it serving X or held for an order of X.
- A package's counts: CRM's sold + reserved against pboss's used (in service or held, as the
  business view counts it), and CRM's capacity, when given, against pboss's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pboss.crm.feedback_model import (
    RULES,
    MismatchKind,
    OrderStatus,
    PortStatus,
    StatusMessage,
    SubjectKind,
)
from pboss.provisioning.model import OrderState

MK = MismatchKind


@dataclass(frozen=True)
class Finding:
    """One disagreement: CRM's view and pboss's, each in a sentence."""

    crm_says: str
    pboss_says: str


@dataclass(frozen=True)
class OrderFacts:
    """What pboss shows of an order: its state, what it holds and what is in service."""

    order_id: str
    state: str
    #: (reservation id, until when, resources) of each held reservation
    held: list[tuple[str, str, list[str]]] = field(default_factory=list)
    #: (reservation id, service id) of each confirmed reservation
    confirmed: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class PortUse:
    """One thing that makes a port busy: who it serves (a customer id, None for the network's
    own use) and how, in words."""

    customer: str | None
    how: str
    held: bool = False


@dataclass(frozen=True)
class PortFacts:
    """What pboss shows of a port: its lifecycle status and what uses or holds it."""

    port_id: str
    status: str
    uses: list[PortUse] = field(default_factory=list)


@dataclass(frozen=True)
class PackageFacts:
    """A business resource package's figures as the business view computes them."""

    package_id: str
    capacity: int
    used: int
    free: int


Facts = OrderFacts | PortFacts | PackageFacts


def check(message: StatusMessage, facts: Facts) -> dict[MismatchKind, Finding | None]:
    """Every rule of the message's subject kind, with its finding (None: CRM and pboss agree)."""
    if isinstance(facts, OrderFacts):
        found = _order(message, facts)
    elif isinstance(facts, PortFacts):
        found = _port(message, facts)
    else:
        found = _package(message, facts)
    return {rule: found.get(rule) for rule in RULES[SubjectKind(message.subject_kind)]}


def crm_says(message: StatusMessage) -> str:
    """CRM's claim in a sentence."""
    if message.subject_kind == SubjectKind.PACKAGE:
        sold, reserved = message.sold or 0, message.reserved or 0
        said = f"sold {sold}, reserved {reserved} ({sold + reserved} taken)"
        if message.capacity is not None:
            said += f", capacity {message.capacity}"
        return said
    who = f" (customer {message.customer})" if message.customer else ""
    if message.status == PortStatus.SOLD and message.subject_kind == SubjectKind.PORT:
        who = f" to customer {message.customer}"
    return f"{message.status}{who}"


def _order(message: StatusMessage, facts: OrderFacts) -> dict[MismatchKind, Finding]:
    status = OrderStatus(message.status)
    said = crm_says(message)
    state = facts.state
    closed = state in (OrderState.FAILED, OrderState.CANCELLED)
    out: dict[MismatchKind, Finding] = {}
    held = "; ".join(f"{r} holds {', '.join(res)} until {until}" for r, until, res in facts.held)
    serving = ", ".join(f"{svc or '?'} in service ({r} confirmed)" for r, svc in facts.confirmed)
    if status in (OrderStatus.SOLD, OrderStatus.CONTRACT_SIGNED):
        if closed:
            out[MK.SOLD_WITHOUT_RESOURCES] = Finding(said, f"order {facts.order_id} is {state}")
        elif not (facts.held or facts.confirmed):
            out[MK.SOLD_WITHOUT_RESOURCES] = Finding(
                said,
                f"order {facts.order_id} is {state} and holds no resources "
                "(no held or confirmed reservation)",
            )
    if status == OrderStatus.BILLING_STARTED and not facts.confirmed:
        extra = f"; only held: {held}" if held else ""
        out[MK.BILLING_WITHOUT_SERVICE] = Finding(
            said, f"order {facts.order_id} is {state} with no service in place{extra}"
        )
    if status in (OrderStatus.CUSTOMER_WITHDREW, OrderStatus.CANCELLED) and (
        facts.confirmed or facts.held
    ):
        shown = "; ".join(x for x in (serving, held) if x)
        out[MK.WITHDRAWN_BUT_HELD] = Finding(
            said, f"order {facts.order_id} is {state}: {shown} (resources would be stranded)"
        )
    return out


def _uses(facts: PortFacts) -> str:
    return "; ".join(u.how for u in facts.uses)


def _port(message: StatusMessage, facts: PortFacts) -> dict[MismatchKind, Finding]:
    status = PortStatus(message.status)
    said = crm_says(message)
    out: dict[MismatchKind, Finding] = {}
    if status == PortStatus.SOLD:
        if not facts.uses:
            out[MK.PORT_SOLD_BUT_FREE] = Finding(
                said, f"port {facts.port_id} is free (nothing uses or holds it; {facts.status})"
            )
        elif message.customer not in {u.customer for u in facts.uses}:
            out[MK.PORT_CUSTOMER_DIFFERS] = Finding(
                said, f"port {facts.port_id} is used: {_uses(facts)}"
            )
    elif facts.uses:
        out[MK.PORT_FREE_BUT_USED] = Finding(said, f"port {facts.port_id} is used: {_uses(facts)}")
    return out


def _package(message: StatusMessage, facts: PackageFacts) -> dict[MismatchKind, Finding]:
    taken = (message.sold or 0) + (message.reserved or 0)
    differs = taken != facts.used or (
        message.capacity is not None and message.capacity != facts.capacity
    )
    if not differs:
        return {}
    shown = (
        f"package {facts.package_id}: {facts.used} used (in service or held) of "
        f"{facts.capacity}, {facts.free} free to sell"
    )
    return {MK.PACKAGE_COUNTS_DIFFER: Finding(crm_says(message), shown)}
