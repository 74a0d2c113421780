"""Helpers for the generated-network assurance tests: find an OLT's lit trees and their
services, open tickets and raise alarms through the correlation functions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pboss.assurance.incidents import correlate_alarm, correlate_ticket, riders_of
from pboss.assurance.model import Alarm, Incident, TroubleTicket, alarm_id
from pboss.inventory.model import Edge
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore


def busiest_olt(store: GraphStore) -> tuple[str, dict[str, list[str]]]:
    """The OLT with the most services, and its lit PON ports' services."""
    olts = [el.id for el in store.find(FindQuery(kind="OLT", limit=1000)).items]
    olt = max(olts, key=lambda o: (store.riders([o], first=1).totals.services, o))
    trees: dict[str, list[str]] = {}
    for _, pon in store.neighbours(olt, "in", ["PART_OF"]):
        services = [r.service.id for r in store.riders([pon.id], first=1000).items]
        if services:
            trees[pon.id] = services
    return olt, trees


def open_for(store: GraphStore, svc: str, *, at: datetime) -> Incident | None:
    """Open a ticket for a service and correlate it (what the ticket opening does)."""
    hops = [h.element for h in store.trace(svc).hops]
    riders = riders_of(store, hops, ttl=0)
    ticket = TroubleTicket(
        id=f"TT-{svc}",
        crm_ticket_id=svc,
        subject="service",
        service=svc,
        symptom="noSync",
        opened_at=at,
        updated_at=at,
        path=[el.id for el in hops],
    )

    def work(tx: Any) -> Incident | None:
        inc = correlate_ticket(tx, ticket, riders=riders, now=at)
        tx.put(ticket, new=True)
        tx.link(Edge(type="ABOUT", src=ticket.id, dst=svc))
        return inc

    return store.transact(work, actor="crm", reason="fault report")


def raise_on(store: GraphStore, resource: str, *, at: datetime) -> Incident | None:
    """Raise a critical alarm on a resource and correlate it."""
    aid = alarm_id(resource, "communicationsAlarm", "LOS", None)
    riders = riders_of(store, [resource], ttl=0)
    alarm = Alarm(
        id=aid,
        resource=resource,
        alarm_type="communicationsAlarm",
        probable_cause="LOS",
        severity="critical",
        raised_at=at,
    )

    def work(tx: Any) -> Incident | None:
        inc = correlate_alarm(tx, alarm, riders=riders, now=at)
        tx.put(alarm, new=True)
        tx.link(Edge(type="ON", src=aid, dst=resource))
        return inc

    return store.transact(work, actor="nms", reason="alarm")
