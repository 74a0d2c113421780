"""Path computation: rank the ways to serve an order, and say why each other way lost.

Pure functions over what the store already returns (`SiteView`, `TransportLink`), so they run the
same on every store; nothing here writes. The reserving transaction re-checks the claims under lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import islice

import networkx as nx

from pboss.inventory.model import Element
from pboss.inventory.results import PortView, SiteView, TransportLink
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


def ftth_plan(view: SiteView, *, max_candidates: int = 6, options_per_claim: int = 4) -> Plan:
    """Rank the splitters at a site that can take one more ONT (raises NoCapacity if none can).

    A splitter qualifies when it has a free output, its chain up to the OLT is healthy and its PON
    port is within its split budget. Preference: self-built, second stage, least-loaded PON port.
    """
    site = view.site.id
    excluded: list[Exclusion] = []
    ranked: list[tuple[tuple[object, ...], Candidate]] = []
    for sv in view.splitters:
        spl = sv.splitter
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
            "a free splitter output whose chain up to the OLT is healthy and whose PON port is "
            "within its split budget; self-built first, then second-stage splitters, then the "
            "least-loaded PON port"
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


def _usable_links(
    links: Sequence[TransportLink],
    bandwidth_2m: int,
    nes: Mapping[str, Element],
    excluded: list[Exclusion],
) -> list[TransportLink]:
    out = []
    for tl in links:
        el = tl.link
        if why := unusable(el):
            excluded.append(Exclusion(id=el.id, reason=why))
        elif tl.a_ne is None or tl.z_ne is None:
            excluded.append(Exclusion(id=el.id, reason="not terminated on two NEs"))
        elif (bad := [w for n in (tl.a_ne, tl.z_ne) if n in nes and (w := unusable(nes[n]))]) != []:
            excluded.append(Exclusion(id=el.id, reason="end NE not usable: " + "; ".join(bad)))
        elif len(tl.free_slots) < bandwidth_2m:
            reason = f"only {len(tl.free_slots)} free VC-12 slots, {bandwidth_2m} needed"
            excluded.append(Exclusion(id=el.id, reason=reason))
        else:
            out.append(tl)
    return out


def leased_line_plan(
    a_view: SiteView,
    z_view: SiteView,
    links: Sequence[TransportLink],
    bandwidth_2m: int,
    *,
    nes: Mapping[str, Element] | None = None,
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
    usable = _usable_links(links, bandwidth_2m, nes or {}, excluded)
    graph = nx.Graph()
    by_id = {tl.link.id: tl for tl in usable}
    for tl in usable:
        half = link_weight(tl) / 2
        graph.add_edge(("ne", tl.a_ne), ("link", tl.link.id), weight=half)
        graph.add_edge(("link", tl.link.id), ("ne", tl.z_ne), weight=half)
    for ne in a_ports:
        graph.add_edge(("src", ""), ("ne", ne), weight=0.0)
    for ne in z_ports:
        graph.add_edge(("ne", ne), ("dst", ""), weight=0.0)
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
        excluded=excluded,
    )
    what = f"no route from {a_view.site.id} to {z_view.site.id} for {bandwidth_2m} x 2 Mb/s"
    if ("src", "") not in graph or ("dst", "") not in graph:
        raise _no_candidates(what, plan)
    try:
        routes = list(
            islice(nx.shortest_simple_paths(graph, ("src", ""), ("dst", ""), "weight"), k)
        )
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
    nodes = route[1:-1]
    a_ne, z_ne = nodes[0][1], nodes[-1][1]
    link_ids = [name for kind, name in nodes if kind == "link"]
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
    hops = " -> ".join(name for _, name in nodes)
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
