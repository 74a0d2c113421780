"""Store-independent shaping of traversal results: ordered trace hops, rider totals, health.

Stores fetch in one round trip; this module turns what they fetched into what users read, so both
stores give identical answers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from pboss.inventory.lifecycle import DEGRADED, DOWN, health_of
from pboss.inventory.model import Element
from pboss.inventory.results import Closure, Hop, RiderRow, RiderTotals, Trace

_ROLE = {
    "ONT": "ont",
    "SplitterPort": "splitter_port",
    "Splitter": "splitter",
    "PonPort": "pon_port",
    "OLT": "olt",
    "PartnerAccess": "partner_access",
    "Port": "port",
    "NE": "ne",
    "TrunkSection": "trunk",
    "PartnerLink": "trunk",
    "Circuit": "circuit",
}
_EDGE_ORDER = {"USES": 0, "FED_BY": 1, "PART_OF": 2, "A_END": 3, "ROUTED_OVER": 4, "Z_END": 5}


def capacity_of(el: Element) -> int | None:
    """The capacity a pool-like element offers (VC-12 slots, splitter outputs, pool size)."""
    if el.kind in ("TrunkSection", "PartnerLink"):
        return el.capacity_vc12  # type: ignore[attr-defined]
    if el.kind == "Splitter":
        return el.ratio  # type: ignore[attr-defined]
    if el.kind == "PartnerAccess":
        return el.total  # type: ignore[attr-defined]
    return None


def impairments(elements: Iterable[Element]) -> list[str]:
    """Ids of elements whose status makes their dependants down or degraded."""
    return sorted(e.id for e in elements if e.status in DOWN | DEGRADED)


def build_trace(closure: Closure) -> Trace:
    """Order a dependency closure as a path: A-end → trunk sections → Z-end, or ONT → … → OLT."""
    out: dict[str, list[tuple[str, str, int | None, list[int] | None]]] = defaultdict(list)
    for etype, src, dst, seq, slots in closure.edges:
        out[src].append((etype, dst, seq, slots))
    for edges in out.values():
        edges.sort(key=lambda e: (_EDGE_ORDER.get(e[0], 9), e[2] or 0, e[1]))
    hops: list[Hop] = []
    seen: set[str] = set()

    def emit(
        eid: str, role: str | None = None, seq: int | None = None, slots: list[int] | None = None
    ) -> None:
        el = closure.nodes[eid]
        seen.add(eid)
        used = closure.used.get(eid)
        if el.kind == "PartnerAccess":
            used = el.used + el.reserved  # type: ignore[attr-defined]
        hops.append(
            Hop(
                position=len(hops) + 1,
                role=role or _ROLE.get(el.kind, el.kind.lower()),
                element=el,
                depth=closure.depth.get(eid, 0),
                partner=el.is_partner,
                seq=seq,
                slots=slots,
                capacity=capacity_of(el),
                used=used,
            )
        )

    def end(port_id: str, role: str, port_first: bool) -> None:
        parents = [d for t, d, _, _ in out.get(port_id, []) if t == "PART_OF"]
        order = [port_id, *parents] if port_first else [*parents, port_id]
        for eid in order:
            if eid not in seen:
                emit(eid, role)

    def walk(eid: str) -> None:
        node = closure.nodes[eid]
        if node.kind == "Circuit":
            if eid != closure.root:
                emit(eid)
            for etype, dst, seq, slots in out.get(eid, []):
                if etype == "A_END":
                    end(dst, "a_end", port_first=False)
                elif etype == "ROUTED_OVER" and dst not in seen:
                    emit(dst, "trunk", seq, slots)
                elif etype == "Z_END":
                    end(dst, "z_end", port_first=True)
            return
        if eid != closure.root:
            emit(eid)
        for _etype, dst, _, _ in out.get(eid, []):
            if dst not in seen:
                walk(dst)

    seen.add(closure.root)
    walk(closure.root)
    everything = list(closure.nodes.values())
    return Trace(
        root=closure.nodes[closure.root],
        hops=hops,
        health=health_of([e.status for e in everything]),
        impaired_by=impairments(everything),
    )


def rider_totals(rows: list[RiderRow]) -> RiderTotals:
    """Count riders by product, customer type and SLA tier (customers counted once each)."""
    customers = {r.customer_id for r in rows if r.customer_id}
    by_type: Counter[str] = Counter()
    by_tier: Counter[str] = Counter()
    seen: set[str] = set()
    for r in rows:
        if r.customer_id and r.customer_id not in seen:
            seen.add(r.customer_id)
            by_type[r.customer_type or "unknown"] += 1
            by_tier[r.sla_tier or "unknown"] += 1
    return RiderTotals(
        services=len(rows),
        customers=len(customers),
        by_product=dict(sorted(Counter(r.product or "unknown" for r in rows).items())),
        by_customer_type=dict(sorted(by_type.items())),
        by_sla_tier=dict(sorted(by_tier.items())),
    )
