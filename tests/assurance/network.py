"""The assurance tests' access network and helpers: OLT-A (three PON ports; port 1 feeds two
stage-2 splitters of 24 and 16 households, ports 2 and 3 one of 10 each) and OLT-B (one port, one
splitter of 8), each household with one FTTH service; tickets opened and alarms raised through
the correlation functions in one transaction each, as the ticket opening and alarm ingest do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pboss.assurance.incidents import correlate_alarm, correlate_ticket, riders_of
from pboss.assurance.model import Alarm, AlarmState, Incident, TroubleTicket, alarm_id
from pboss.inventory.model import Edge, parse_edge, parse_node
from pboss.inventory.store import GraphStore

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

#: (OLT, port, stage-2 splitter, households)
TREES = [
    ("OLT-A", "OLT-A/1", "SPL-A1a", 24),
    ("OLT-A", "OLT-A/1", "SPL-A1b", 16),
    ("OLT-A", "OLT-A/2", "SPL-A2a", 10),
    ("OLT-A", "OLT-A/3", "SPL-A3a", 10),
    ("OLT-B", "OLT-B/1", "SPL-B1a", 8),
]


def build(store: GraphStore) -> None:
    """Load the network."""
    n: list[dict[str, Any]] = [
        {"kind": "Site", "id": "EX-9", "site_type": "exchange"},
        {"kind": "Site", "id": "B-9", "site_type": "building"},
    ]
    e: list[dict[str, Any]] = []
    seen: set[str] = set()
    s2_index: dict[str, int] = {}
    for olt, port, spl, homes in TREES:
        if olt not in seen:
            seen.add(olt)
            n.append({"kind": "OLT", "id": olt, "site": "EX-9"})
        if port not in seen:
            seen.add(port)
            s1 = f"{port}/S1"
            n += [
                {"kind": "PonPort", "id": port, "site": "EX-9", "spec": "PON-GPON"},
                {"kind": "Splitter", "id": s1, "site": "B-9", "stage": 1, "spec": "SPL-1x4"},
            ]
            e += [
                {"type": "PART_OF", "src": port, "dst": olt},
                {"type": "FED_BY", "src": s1, "dst": port},
            ]
            for i in range(1, 5):
                n.append({"kind": "SplitterPort", "id": f"{s1}:{i}", "site": "B-9", "index": i})
                e.append({"type": "PART_OF", "src": f"{s1}:{i}", "dst": s1})
        s1 = f"{port}/S1"
        s2_index[port] = s2_index.get(port, 0) + 1
        n.append({"kind": "Splitter", "id": spl, "site": "B-9", "stage": 2, "spec": "SPL-1x32"})
        e.append({"type": "FED_BY", "src": spl, "dst": f"{s1}:{s2_index[port]}"})
        for h in range(1, 33):
            n.append({"kind": "SplitterPort", "id": f"{spl}:{h}", "site": "B-9", "index": h})
            e.append({"type": "PART_OF", "src": f"{spl}:{h}", "dst": spl})
        for h in range(1, homes + 1):
            ont, cust, svc = f"ONT-{spl}-{h}", f"C-{spl}-{h}", f"SVC-{spl}-{h}"
            tier = "gold" if h == 1 else "standard"
            n += [
                {"kind": "ONT", "id": ont, "site": "B-9", "status": "in_use"},
                {"kind": "Customer", "id": cust, "sla_tier": tier, "site": "B-9"},
                {"kind": "Service", "id": svc, "product": "FTTH-100M", "status": "in_use"},
            ]
            e += [
                {"type": "FED_BY", "src": ont, "dst": f"{spl}:{h}"},
                {"type": "USES", "src": svc, "dst": ont},
                {"type": "FOR", "src": svc, "dst": cust},
            ]
    nodes = [parse_node(x) for x in n]
    edges = [parse_edge(x) for x in e]
    store.upsert(nodes, edges, actor="test", reason="assurance network")  # type: ignore[arg-type]


def path_of(store: GraphStore, service: str) -> list[str]:
    """The service's trace, customer end first (what the ticket opening fills in)."""
    return [h.element.id for h in store.trace(service).hops]


def open_ticket(store: GraphStore, spl: str, home: int, *, at: datetime = T0) -> Incident | None:
    """Open a ticket for household `home` of splitter `spl` and correlate it."""
    svc = f"SVC-{spl}-{home}"
    hops = [h.element for h in store.trace(svc).hops]
    path = [el.id for el in hops]
    riders = riders_of(store, hops, ttl=0)
    ticket = TroubleTicket(
        id=f"TT-{spl}-{home}-{at:%H%M%S}",
        crm_ticket_id=f"{spl}-{home}-{at:%H%M%S}",
        subject="service",
        service=svc,
        customer=f"C-{spl}-{home}",
        symptom="noSync",
        opened_at=at,
        updated_at=at,
        path=path,
        sites=["B-9"],
        products=["FTTH-100M"],
    )

    def work(tx: Any) -> Incident | None:
        inc = correlate_ticket(tx, ticket, riders=riders, now=at)
        tx.put(ticket, new=True)
        tx.link(Edge(type="ABOUT", src=ticket.id, dst=svc))
        return inc

    return store.transact(work, actor="crm", reason="fault report")


def raise_alarm(
    store: GraphStore,
    resource: str,
    severity: str = "critical",
    *,
    state: str = "raised",
    at: datetime = T0,
) -> Incident | None:
    """Raise (or clear) an alarm on a resource and correlate it."""
    aid = alarm_id(resource, "communicationsAlarm", "LOS", None)
    riders = riders_of(store, [resource], ttl=0)

    def work(tx: Any) -> Incident | None:
        old = tx.lock([aid]).get(aid)
        if state == "cleared":
            assert isinstance(old, Alarm)
            alarm = old.model_copy(update={"state": AlarmState.CLEARED, "cleared_at": at})
            inc = correlate_alarm(tx, alarm, now=at)
            tx.put(alarm)
            return inc
        alarm = Alarm(
            id=aid,
            resource=resource,
            alarm_type="communicationsAlarm",
            probable_cause="LOS",
            severity=severity,
            raised_at=at,
        )
        inc = correlate_alarm(tx, alarm, riders=riders, now=at)
        tx.put(alarm, new=True)
        tx.link(Edge(type="ON", src=aid, dst=resource))
        return inc

    return store.transact(work, actor="nms", reason="alarm")


def later(seconds: int) -> datetime:
    """T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


def active(store: GraphStore) -> list[Incident]:
    """The open and confirmed incidents, by id."""
    from pboss.inventory.results import FindQuery

    page = store.find(FindQuery(kind="Incident", limit=1000))
    return sorted(
        (i for i in page.items if isinstance(i, Incident) and i.state in ("open", "confirmed")),
        key=lambda i: i.id,
    )
