"""Path computation: rank the ways to serve an order, and say why each other way lost.

Pure functions over what the store already returns (`SiteView`, `TransportLink`), so they run the
same on every store; nothing here writes. The reserving transaction re-checks the claims under lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from itertools import islice

import networkx as nx

from pboss.inventory.catalog import Catalog, default_catalog
from pboss.inventory.model import Element
from pboss.inventory.results import PortView, SiteView, TransportLink
from pboss.inventory.sellable import not_sold_reason, sells_outputs
from pboss.provisioning.errors import NoCapacity
from pboss.provisioning.plan import Candidate, Claim, Criterion, Exclusion, Plan

#: Statuses a resource on a new path may have; anything else (faulty, maintenance, planned,
#: retired, or an unknown status) excludes it.
USABLE = frozenset({"available", "in_use", "reserved"})
#: Weight of a link: HOP + its cost (self-built 1, partner 3 by default) + LOAD_WEIGHT × load.
HOP = 1.0
LOAD_WEIGHT = 2.0
#: Port rates that carry one 2 Mb/s channel, and those that carry n × 2 Mb/s (Ethernet over SDH).
RATES_ONE_E1 = frozenset({"E1", "FE", "GE"})
RATES_ETHERNET = frozenset({"FE", "GE", "10GE"})

FTTH_RANKING = [
    Criterion(key="partner", phrase="its chain is partner-owned ({l[owner]}); self-built wins"),
    Criterion(
        key="stage_rank",
        phrase="a stage-{l[stage]} splitter; a second-stage splitter in the building is preferred",
    ),
    Criterion(
        key="pon_ratio",
        phrase="its PON port {l[pon]} is more loaded ({l[pon_use]} vs {w[pon_use]} on {w[pon]})",
    ),
]
LL_RANKING = [
    Criterion(
        key="weight",
        phrase="higher weight {l[weight]} vs {w[weight]}",
        details=[
            Criterion(key="hops", phrase="{l[hops]} vs {w[hops]} hops"),
            Criterion(
                key="partner_segments",
                phrase="{l[partner_segments]} vs {w[partner_segments]} partner segments",
            ),
            Criterion(key="cost", phrase="cost {l[cost]} vs {w[cost]}"),
            Criterion(key="peak_load", phrase="peak load {l[peak_load]}% vs {w[peak_load]}%"),
        ],
    ),
    Criterion(key="hops", phrase="more hops ({l[hops]} vs {w[hops]}) at equal weight"),
]
CABLE_RANKING = [
    Criterion(key="used_ratio", phrase="fuller pool ({l[use]} vs {w[use]})"),
]


def unusable(el: Element) -> str | None:
    """Why a resource cannot be on a new path (its status), or None."""
    if el.status in USABLE:
        return None
    return f"{el.kind} {el.id} is {el.status}"


def _no_candidates(what: str, plan: Plan) -> NoCapacity:
    return NoCapacity(what, plan.reasons or ["nothing found"])


# ---- FTTH ----------------------------------------------------------------------------------


def ftth_plan(
    view: SiteView,
    *,
    max_candidates: int = 6,
    options_per_claim: int = 4,
    catalog: Catalog | None = None,
    product: str | None = None,
) -> Plan:
    """Rank the splitters at a site that can take one more ONT (raises NoCapacity if none can).

    A splitter qualifies when the catalog sells its outputs (for the product, when given: the
    rule availability counts by, `sellable.sells_outputs`), it has a free output, its chain up to
    the OLT is healthy and its PON port is within its split budget. Preference: self-built,
    second stage, least-loaded PON port.
    """
    site = view.site.id
    cat = catalog or default_catalog()
    excluded: list[Exclusion] = []
    ranked: list[tuple[tuple[object, ...], Candidate]] = []
    for sv in view.splitters:
        spl = sv.splitter
        if not sells_outputs(cat, spl, product):
            excluded.append(Exclusion(id=spl.id, reason=not_sold_reason(cat, spl, product)))
            continue
        chain = [spl, *sv.upstream]
        faults = [why for e in chain if (why := unusable(e))]
        if faults:
            excluded.append(Exclusion(id=spl.id, reason="chain not healthy: " + "; ".join(faults)))
            continue
        if sv.pon_port is None:
            excluded.append(Exclusion(id=spl.id, reason="not fed by any PON port"))
            continue
        if not sv.free_ports:
            total = sv.busy_ports + len(sv.free_ports)
            excluded.append(
                Exclusion(id=spl.id, reason=f"no free output ({sv.busy_ports} of {total} busy)")
            )
            continue
        if sv.pon_load >= sv.pon_budget:
            reason = (
                f"PON port {sv.pon_port} is at its split budget ({sv.pon_load}/{sv.pon_budget})"
            )
            excluded.append(Exclusion(id=spl.id, reason=reason))
            continue
        owners = sorted({e.owner for e in chain if e.is_partner})
        stage = getattr(spl, "stage", 1)
        score: dict[str, float | int | str | bool] = {
            "partner": int(bool(owners)),
            "owner": ", ".join(owners) or "self",
            "stage": stage,
            "stage_rank": 0 if stage == 2 else 1,
            "pon": sv.pon_port,
            "pon_ratio": round(sv.pon_load / max(sv.pon_budget, 1), 4),
            "pon_use": f"{sv.pon_load}/{sv.pon_budget}",
            "free": len(sv.free_ports),
        }
        cand = Candidate(
            label=spl.id,
            claims=[
                Claim(type="port", role="access", options=sv.free_ports[:options_per_claim]),
                Claim(type="budget", role="pon", options=[sv.pon_port]),
            ],
            score=score,
            summary=(
                f"stage-{stage} splitter {spl.id} at {site}, {len(sv.free_ports)} free output(s), "
                f"PON {sv.pon_port} {score['pon_use']}, OLT {sv.olt}, owner {score['owner']}"
            ),
        )
        key = (score["partner"], score["stage_rank"], score["pon_ratio"], spl.id)
        ranked.append((key, cand))
    ranked.sort(key=lambda kc: kc[0])
    plan = Plan(
        technology="ftth",
        criteria=(
            "a free output of a splitter whose outputs the catalog sells, whose chain up to the "
            "OLT is healthy and whose PON port is within its split budget; self-built first, then "
            "second-stage splitters, then the least-loaded PON port"
        ),
        ranking=FTTH_RANKING,
        candidates=[c for _, c in ranked[:max_candidates]],
        excluded=excluded,
    )
    if not plan.candidates:
        if not view.splitters:
            plan.excluded.append(Exclusion(id=site, reason="no splitter at this site"))
        raise _no_candidates(f"no free splitter port at {site}", plan)
    return plan


# ---- partner cable access ---------------------------------------------------------------------


def cable_plan(view: SiteView, technology: str = "cable") -> Plan:
    """Rank the partner pools at a site with a free unit (raises NoCapacity if none has one)."""
    site = view.site.id
    excluded: list[Exclusion] = []
    ranked: list[tuple[tuple[object, ...], Candidate]] = []
    for pa in view.partner_access:
        if getattr(pa, "technology", None) != technology:
            continue
        if why := unusable(pa):
            excluded.append(Exclusion(id=pa.id, reason=why))
            continue
        total, used, held = pa.total, pa.used, pa.reserved  # type: ignore[attr-defined]
        free = total - used - held
        if free <= 0:
            reason = f"pool full ({used} used + {held} reserved of {total})"
            excluded.append(Exclusion(id=pa.id, reason=reason))
            continue
        score: dict[str, float | int | str | bool] = {
            "used_ratio": round((used + held) / max(total, 1), 4),
            "use": f"{used + held}/{total}",
            "owner": pa.owner,
        }
        cand = Candidate(
            label=pa.id,
            claims=[Claim(type="pool", role="pool", options=[pa.id])],
            score=score,
            summary=f"{technology} pool {pa.id} of {pa.owner} at {site}: {free} of {total} free",
        )
        ranked.append(((score["used_ratio"], pa.id), cand))
    ranked.sort(key=lambda kc: kc[0])
    plan = Plan(
        technology=technology,
        criteria="a partner pool at the site with a free unit; the emptiest pool first",
        ranking=CABLE_RANKING,
        candidates=[c for _, c in ranked],
        excluded=excluded,
    )
    if not plan.candidates:
        if not view.partner_access:
            plan.excluded.append(Exclusion(id=site, reason=f"no partner {technology} coverage"))
        raise _no_candidates(f"no free {technology} access at {site}", plan)
    return plan


# ---- leased lines -------------------------------------------------------------------------------


def _port_fits(view: PortView, bandwidth_2m: int) -> bool:
    rate = getattr(view.port, "rate", None)
    if rate is None:
        return True
    return rate in (RATES_ONE_E1 if bandwidth_2m == 1 else RATES_ETHERNET)


def end_ports(view: SiteView, bandwidth_2m: int, excluded: list[Exclusion]) -> dict[str, list[str]]:
    """Free tributary ports per healthy NE at a site that can carry n × 2 Mb/s."""
    free: dict[str, list[str]] = {}
    for ne in view.nes:
        if why := unusable(ne):
            excluded.append(Exclusion(id=ne.id, reason=why))
            continue
        ports = [
            p.port.id
            for p in view.ports
            if p.ne == ne.id and not p.busy and p.port.status == "available"
            if _port_fits(p, bandwidth_2m)
        ]
        if ports:
            free[ne.id] = sorted(ports)
        else:
            need = "E1/FE/GE" if bandwidth_2m == 1 else "FE/GE (Ethernet over SDH)"
            reason = f"no free {need} port for {bandwidth_2m} x 2 Mb/s"
            excluded.append(Exclusion(id=ne.id, reason=reason))
    if not view.nes:
        excluded.append(Exclusion(id=view.site.id, reason="no MSTP NE at this site"))
    return free


def link_weight(link: TransportLink) -> float:
    """Hops, cost and load in one number: HOP + cost + LOAD_WEIGHT × used/capacity."""
    el = link.link
    capacity = el.capacity_vc12  # type: ignore[attr-defined]
    return HOP + float(el.cost) + LOAD_WEIGHT * len(link.used_slots) / capacity  # type: ignore[attr-defined]


def free_count(link: TransportLink) -> int:
    """How many VC-12 slots of a link nobody uses or holds."""
    return int(link.link.capacity_vc12) - len(set(link.used_slots))  # type: ignore[attr-defined]


class TransportGraph:
    """The transport network as route search sees it, built once per snapshot of the links.

    For each bandwidth asked for, the usable links (with the exclusions and why) and a weighted
    graph NE - link - NE (a node per link, so parallel links stay distinct) are made once and
    then only read, by any number of threads.
    """

    def __init__(self, links: Sequence[TransportLink], nes: Mapping[str, Element] | None = None):
        self.links = list(links)
        self.nes = dict(nes or {})
        self._lock = threading.Lock()
        self._by_n: dict[int, tuple[nx.Graph, dict[str, TransportLink], list[Exclusion]]] = {}

    def _exclusion(self, tl: TransportLink, bandwidth_2m: int) -> str | None:
        if why := unusable(tl.link):
            return why
        if tl.a_ne is None or tl.z_ne is None:
            return "not terminated on two NEs"
        bad = [w for n in (tl.a_ne, tl.z_ne) if n in self.nes and (w := unusable(self.nes[n]))]
        if bad:
            return "end NE not usable: " + "; ".join(bad)
        free = free_count(tl)
        if free < bandwidth_2m:
            return f"only {free} free VC-12 slots, {bandwidth_2m} needed"
        return None

    def for_bandwidth(
        self, bandwidth_2m: int
    ) -> tuple[nx.Graph, dict[str, TransportLink], list[Exclusion]]:
        """The graph of links with n free slots, those links by id, and the excluded ones."""
        with self._lock:
            cached = self._by_n.get(bandwidth_2m)
            if cached is None:
                graph, by_id, excluded = nx.Graph(), {}, []
                edges = []
                for tl in self.links:
                    why = self._exclusion(tl, bandwidth_2m)
                    if why:
                        excluded.append(Exclusion(id=tl.link.id, reason=why))
                        continue
                    by_id[tl.link.id] = tl
                    half = link_weight(tl) / 2
                    edges.append((("ne", tl.a_ne), ("link", tl.link.id), {"weight": half}))
                    edges.append((("link", tl.link.id), ("ne", tl.z_ne), {"weight": half}))
                graph.add_edges_from(edges)
                cached = (graph, by_id, excluded)
                self._by_n[bandwidth_2m] = cached
            return cached


def _routes(
    graph: nx.Graph, a_nes: Sequence[str], z_nes: Sequence[str], k: int
) -> list[list[tuple[str, str]]]:
    """The k lightest simple routes from any A NE to any Z NE (NetworkXNoPath when none)."""
    a_in = [("ne", n) for n in a_nes if ("ne", n) in graph]
    z_in = [("ne", n) for n in z_nes if ("ne", n) in graph]
    if not a_in or not z_in:
        raise nx.NetworkXNoPath("an end NE has no usable link")
    if len(a_in) == 1 and len(z_in) == 1:
        return list(islice(nx.shortest_simple_paths(graph, a_in[0], z_in[0], "weight"), k))
    joined = graph.copy()
    joined.add_edges_from((("src", ""), n, {"weight": 0.0}) for n in a_in)
    joined.add_edges_from((n, ("dst", ""), {"weight": 0.0}) for n in z_in)
    found = islice(nx.shortest_simple_paths(joined, ("src", ""), ("dst", ""), "weight"), k)
    return [route[1:-1] for route in found]


def routes_between(
    network: TransportGraph, a_ne: str, z_ne: str, bandwidth_2m: int, *, k: int = 4
) -> list[list[TransportLink]]:
    """The k lightest routes, as links in order, from one NE to another with n free VC-12 slots
    on every link: the search leased-line planning ranks, for callers whose ends are fixed (a
    cutover re-routing a live circuit). Empty when no route exists."""
    graph, by_id, _ = network.for_bandwidth(bandwidth_2m)
    try:
        routes = _routes(graph, [a_ne], [z_ne], k)
    except nx.NetworkXNoPath:
        return []
    return [[by_id[name] for kind, name in route if kind == "link"] for route in routes]


def leased_line_plan(
    a_view: SiteView,
    z_view: SiteView,
    network: TransportGraph,
    bandwidth_2m: int,
    *,
    k: int = 4,
    options_per_claim: int = 4,
) -> Plan:
    """The k lightest routes from an NE at A to an NE at Z with n free VC-12 slots on every link.

    Links are excluded when faulty or in maintenance, when an end NE is, or when they lack free
    slots; the rest are weighted by hops, cost (partner segments cost more) and load.
    """
    excluded: list[Exclusion] = []
    a_ports = end_ports(a_view, bandwidth_2m, excluded)
    z_ports = end_ports(z_view, bandwidth_2m, excluded)
    graph, by_id, dropped = network.for_bandwidth(bandwidth_2m)
    plan = Plan(
        technology="mstp",
        criteria=(
            f"routes from an NE at {a_view.site.id} to an NE at {z_view.site.id} with "
            f"{bandwidth_2m} free VC-12 slot(s) on every link, avoiding faulty and maintenance "
            f"resources; weight per link = {HOP} per hop + cost (partner segments cost more) + "
            f"{LOAD_WEIGHT} x load; the {k} lightest are kept"
        ),
        ranking=LL_RANKING,
        candidates=[],
        excluded=excluded + dropped,
    )
    what = f"no route from {a_view.site.id} to {z_view.site.id} for {bandwidth_2m} x 2 Mb/s"
    if not a_ports or not z_ports:
        raise _no_candidates(what, plan)
    try:
        routes = _routes(graph, sorted(a_ports), sorted(z_ports), k)
    except nx.NetworkXNoPath:
        plan.excluded.append(Exclusion(id="route", reason="the usable links do not connect A to Z"))
        raise _no_candidates(what, plan) from None
    for route in routes:
        plan.candidates.append(
            _route_candidate(route, by_id, a_ports, z_ports, bandwidth_2m, options_per_claim)
        )
    return plan


def _route_candidate(
    route: list[tuple[str, str]],
    by_id: Mapping[str, TransportLink],
    a_ports: Mapping[str, list[str]],
    z_ports: Mapping[str, list[str]],
    bandwidth_2m: int,
    options_per_claim: int,
) -> Candidate:
    a_ne, z_ne = route[0][1], route[-1][1]
    link_ids = [name for kind, name in route if kind == "link"]
    tls = [by_id[i] for i in link_ids]
    weight = round(sum(link_weight(t) for t in tls), 2)
    partner = sum(1 for t in tls if t.link.is_partner)
    peak = max(round(100 * len(t.used_slots) / t.link.capacity_vc12) for t in tls)  # type: ignore[attr-defined]
    claims = [Claim(type="port", role="a_end", options=a_ports[a_ne][:options_per_claim])]
    claims += [
        Claim(type="slots", role="section", options=[lid], slots=bandwidth_2m, seq=i)
        for i, lid in enumerate(link_ids, start=1)
    ]
    claims.append(Claim(type="port", role="z_end", options=z_ports[z_ne][:options_per_claim]))
    hops = " -> ".join(name for _, name in route)
    score: dict[str, float | int | str | bool] = {
        "weight": weight,
        "hops": len(tls),
        "cost": round(sum(float(t.link.cost) for t in tls), 2),  # type: ignore[attr-defined]
        "partner_segments": partner,
        "peak_load": peak,
    }
    summary = (
        f"{hops}: {len(tls)} hop(s), {partner} partner segment(s), peak load {peak}%, "
        f"weight {weight}"
    )
    return Candidate(label=hops, claims=claims, score=score, summary=summary)
