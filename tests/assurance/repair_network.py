"""Tickets and incidents on the reference network for the repair tests, written the way ticket
opening and correlation leave them (a ticket with its path and scope, grouped in an incident
that suspects a resource), and a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime

from pboss.assurance.model import Incident, Priority, Symptom, TroubleTicket
from pboss.inventory.model import Edge
from pboss.inventory.store import GraphStore
from pboss.inventory.transaction import GraphTx

#: A Monday morning in Shanghai (calendar clocks make the day irrelevant, but be realistic).
T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)

#: The reference network's services: (customer, product, tier, path customer end first, sites,
#: partners).
SERVICES: dict[str, tuple[str, str, str, list[str], list[str], list[str]]] = {
    "SVC-E1-LL": (
        "E-1",
        "MSTP-LL",
        "platinum",
        ["CIR-1", "TS-1", "TS-2", "PL-1", "NE-A", "NE-1", "NE-2", "NE-Z"],
        ["CP-XX", "EX-1", "EX-2", "B-DH"],
        ["P-TT"],
    ),
    "SVC-H1-BB": (
        "H-1",
        "FTTH-100M",
        "standard",
        ["ONT-1", "SPL-JZ-2A:1", "SPL-JZ-2A", "SPL-JZ-1:1", "SPL-JZ-1", "OLT-1/0/1"],
        ["B-JZ"],
        [],
    ),
    "SVC-H2-BB": (
        "H-2",
        "FTTH-1000M",
        "gold",
        ["ONT-2", "SPL-JZ-2A:2", "SPL-JZ-2A", "SPL-JZ-1:1", "SPL-JZ-1", "OLT-1/0/1"],
        ["B-JZ"],
        [],
    ),
    "SVC-H5-CB": ("H-5", "CABLE-BB", "standard", ["PA-DH-OC"], ["B-DH"], ["P-OC"]),
}


class Clock:
    """A clock tests move instead of sleeping."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def ticket(service: str, n: int, at: datetime = T0, incident: str | None = None) -> TroubleTicket:
    """A ticket CRM opened for one of the reference services."""
    customer, product, tier, path, sites, partners = SERVICES[service]
    return TroubleTicket(
        id=f"TT-{n}",
        crm_ticket_id=str(n),
        subject="service",
        customer=customer,
        service=service,
        symptom=Symptom.LEASED_LINE_DOWN if product == "MSTP-LL" else Symptom.NO_SYNC,
        priority=Priority.CRITICAL if product == "MSTP-LL" else Priority.MEDIUM,
        contact_name="联系人",
        contact_phone="13800000000",
        opened_at=at,
        updated_at=at,
        path=path,
        product=product,
        sla_tier=tier,
        sites=sites,
        products=[product],
        partners=partners,
        incident=incident,
    )


def open_tickets(store: GraphStore, tickets: list[TroubleTicket]) -> None:
    """Store tickets as ticket opening does (ABOUT their service)."""

    def work(tx: GraphTx) -> None:
        for t in tickets:
            tx.put(t, new=True)
            tx.link(Edge(type="ABOUT", src=t.id, dst=str(t.service)))

    store.transact(work, actor="crm", reason="tickets")


def open_incident(
    store: GraphStore,
    incident_id: str,
    suspected: str,
    tickets: list[TroubleTicket],
    at: datetime = T0,
) -> Incident:
    """Store tickets grouped in an incident suspecting a resource, as correlation does."""
    inc = Incident(
        id=incident_id,
        suspected=suspected,
        tickets=[t.id for t in tickets],
        priority=min((t.priority for t in tickets), key=list(Priority).index),
        created_at=at,
        updated_at=at,
        sites=sorted({s for t in tickets for s in t.sites}),
        products=sorted({p for t in tickets for p in t.products}),
        partners=sorted({p for t in tickets for p in t.partners}),
    )
    for t in tickets:
        t.incident = incident_id

    def work(tx: GraphTx) -> None:
        tx.put(inc, new=True)
        tx.link(Edge(type="SUSPECTS", src=inc.id, dst=suspected))
        for t in tickets:
            tx.put(t, new=True)
            tx.link(Edge(type="ABOUT", src=t.id, dst=str(t.service)))
            tx.link(Edge(type="GROUPED_IN", src=t.id, dst=inc.id))

    store.transact(work, actor="pboss-correlation", reason="incident")
    return inc


def repoint(store: GraphStore, incident_id: str, suspected: str) -> None:
    """Re-point an incident to another resource, as an engineer's re-point does."""

    def work(tx: GraphTx) -> None:
        inc = tx.lock([incident_id])[incident_id]
        old = inc.suspected  # type: ignore[attr-defined]
        new = inc.model_copy(update={"suspected": suspected, "updated_at": T0})
        tx.unlink("SUSPECTS", incident_id, old)
        tx.put(new)
        tx.link(Edge(type="SUSPECTS", src=incident_id, dst=suspected))

    store.transact(work, actor="eng-1", reason="re-point")
