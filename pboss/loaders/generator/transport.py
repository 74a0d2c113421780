"""MSTP transport of the generated metro: an NE per exchange, STM-4 district rings, an STM-16
core ring over district hubs, STM-1 spurs to enterprise sites, the leased-line partner's links,
and n × 2 Mb/s circuits routed over them.

Circuits take the cheapest path (partner links cost more) among links with enough free VC-12
slots, and hold the lowest free slots of each section: distinct per section, never over capacity.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from pboss.loaders.generator.emit import Emitter
from pboss.loaders.generator.people import company_name, phone, room
from pboss.loaders.generator.places import District, SiteInfo, emit_residential
from pboss.loaders.generator.scales import Scale

LEASED_PARTNER = "P-TT"
_RATES = {"STM-1": (63, "TRUNK-STM1", "PORT-STM1"), "STM-4": (252, "TRUNK-STM4", "PORT-STM4"),
          "STM-16": (1008, "TRUNK-STM16", "PORT-STM16")}  # fmt: skip
_PARTNER_RATES = {"STM-1": (63, "PLINK-STM1"), "STM-4": (252, "PLINK-STM4")}


@dataclass
class Link:
    """A trunk section or partner link between two NEs, with the slots already taken."""

    id: str
    capacity: int
    cost: float
    used: set[int] = field(default_factory=set)

    def free(self, n: int) -> list[int] | None:
        """The lowest `n` free VC-12 slots, or None when fewer are free."""
        out = []
        for s in range(1, self.capacity + 1):
            if s not in self.used:
                out.append(s)
                if len(out) == n:
                    return out
        return None


@dataclass
class Network:
    """The NE graph being built, with port numbering per NE."""

    em: Emitter
    graph: nx.MultiGraph = field(default_factory=nx.MultiGraph)
    site_of: dict[str, str] = field(default_factory=dict)
    ports: Counter[tuple[str, str]] = field(default_factory=Counter)
    links: int = 0

    def ne(self, ne_id: str, site: str, status: str = "in_use") -> str:
        """An MSTP NE at a site."""
        self.em.node("NE", ne_id, site=site, spec="MSTP-ADM", status=status)
        self.site_of[ne_id] = site
        self.graph.add_node(ne_id)
        return ne_id

    def port(self, ne: str, spec: str, label: str, status: str = "in_use") -> str:
        """A new port on an NE."""
        self.ports[(ne, label)] += 1
        pid = self.em.node("Port", f"{ne}/{label}-{self.ports[(ne, label)]}",
                           site=self.site_of[ne], spec=spec, status=status)  # fmt: skip
        self.em.edge("PART_OF", pid, ne)
        return pid

    def section(self, a: str, b: str, rate: str, status: str = "in_use") -> None:
        """A trunk section between two NEs, terminated on a port at each end."""
        capacity, spec, port_spec = _RATES[rate]
        self.links += 1
        sid = f"TS-{self.links:05d}"
        self.em.node("TrunkSection", sid, name=f"{a}—{b}", spec=spec, status=status)
        for ne in (a, b):
            self.em.edge("TERMINATES", sid, self.port(ne, port_spec, rate.replace("-", "")))
        self.graph.add_edge(a, b, key=sid, link=Link(sid, capacity, 1.0))

    def partner_link(self, a: str, b: str, rate: str, k: int) -> None:
        """A segment leased from the leased-line partner between two exchange NEs, terminated on
        the NEs themselves (the partner's hand-over; which port is not the partner's to say)."""
        capacity, spec = _PARTNER_RATES[rate]
        lid = f"PL-TT-SH-{k:05d}"
        self.em.node(
            "PartnerLink", lid, name=f"铁通 TT-SH-{k:05d} {self.site_of[a]}—{self.site_of[b]}",
            owner=LEASED_PARTNER, site=self.site_of[a], spec=spec, status="in_use",
            contract_id="TT-2009-01", partner_circuit_code=f"TT-SH-{k:05d}",
            z_site=self.site_of[b],
        )  # fmt: skip
        for ne in (a, b):  # on the NE, as a partner's feed says it (docs/interchange-format.md)
            self.em.edge("TERMINATES", lid, ne)
        self.graph.add_edge(a, b, key=lid, link=Link(lid, capacity, 3.0))

    def route(self, a: str, z: str, n: int) -> list[tuple[Link, list[int]]] | None:
        """The cheapest path with n free slots on every hop, and the slots it would take."""

        def weight(u: str, v: str, links: Mapping[str, Any]) -> float | None:
            """Cheapest parallel link with room for n slots, or None to hide the hop."""
            costs = [d["link"].cost for d in links.values() if d["link"].free(n)]
            return min(costs) if costs else None

        try:
            path = nx.shortest_path(self.graph, a, z, weight=weight)
        except nx.NetworkXNoPath:
            return None
        hops = []
        for u, v in itertools.pairwise(path):
            options = [d["link"] for d in self.graph.get_edge_data(u, v).values()]
            options = [lk for lk in options if lk.free(n)]
            best = min(options, key=lambda lk: (lk.cost, lk.id))
            hops.append((best, best.free(n) or []))
        return hops


def _enterprise(
    net: Network, rng: random.Random, d: District, ex_no: int, ex_ne: str
) -> tuple[str, str]:
    """An office tower with an enterprise customer, its CPE NE and an STM-1 spur."""
    site: SiteInfo = emit_residential(net.em, d, ex_no, estate=False, households=0, prefix="E")
    cust = net.em.node(
        "Customer", f"E-{site.id}", name=company_name(rng), customer_type="enterprise",
        sla_tier=rng.choice(("gold", "platinum")), site=site.id, phone=phone(rng),
        address=room(rng, site.address, False),
    )  # fmt: skip
    cpe = net.ne(f"NE-{site.id}", site.id)
    net.section(cpe, ex_ne, "STM-1")
    return cpe, cust


def _circuit(net: Network, rng: random.Random, k: int, a: str, z: str, customer: str) -> bool:
    """A leased line from NE a to NE z with its service; False when no path has room."""
    n = rng.choice((1, 1, 1, 2, 2, 4, 8))
    hops = net.route(a, z, n)
    if not hops:
        return False
    em = net.em
    cid = em.node("Circuit", f"CIR-{k:05d}", name=f"{net.site_of[a]}—{net.site_of[z]} 2M×{n}",
                  bandwidth_2m=n, status="in_use")  # fmt: skip
    spec, label = ("PORT-E1", "E1") if n == 1 else ("PORT-GE", "GE")
    em.edge("A_END", cid, net.port(a, spec, label))
    em.edge("Z_END", cid, net.port(z, spec, label))
    for seq, (link, slots) in enumerate(hops, start=1):
        link.used.update(slots)
        em.edge("ROUTED_OVER", cid, link.id, seq=seq, slots=slots)
    sid = em.node("Service", f"SVC-{cid}", product="MSTP-LL", service_type="leased_line",
                  status="in_use")  # fmt: skip
    em.edge("USES", sid, cid)
    em.edge("FOR", sid, customer)
    return True


def emit_transport(
    em: Emitter, seed: str, districts: list[District], exchanges: dict[str, list[str]], s: Scale
) -> dict[str, int]:
    """The whole MSTP layer; `exchanges` maps a district code to its exchange site ids."""
    rng = random.Random(f"{seed}/transport")
    net = Network(em)
    hubs = []
    ex_nes: list[str] = []
    enterprises: list[tuple[str, str]] = []
    for d in districts:
        nes = [net.ne(f"NE-{site}", site) for site in exchanges[d.code]]
        ex_nes += nes
        hubs.append(nes[0])
        ring = list(zip(nes, nes[1:] + nes[:1], strict=True)) if len(nes) > 2 else [tuple(nes)]
        for a, b in ring:
            if len(nes) > 1:
                status = "faulty" if rng.random() < 0.03 else "in_use"
                net.section(a, b, "STM-4", status=status)
        for ex_no, ne in enumerate(nes, start=1):
            enterprises += [_enterprise(net, rng, d, ex_no, ne) for _ in range(s.enterprises)]
    core = list(zip(hubs, hubs[1:] + hubs[:1], strict=True)) if len(hubs) > 2 else [tuple(hubs)]
    for a, b in core:
        if len(hubs) > 1:
            net.section(a, b, "STM-16")
    for k in range(1, s.partner_links + 1):
        a, b = rng.sample(ex_nes, 2)
        net.partner_link(a, b, "STM-1" if rng.random() < 0.8 else "STM-4", k)
    made = skipped = 0
    for cpe, customer in enterprises:
        for _ in range(rng.randint(1, 2)):
            if rng.random() < 0.6:
                other = rng.choice(enterprises)[0]
                z = other if other != cpe else rng.choice(ex_nes)
            else:
                z = rng.choice(ex_nes)
            if _circuit(net, rng, made + skipped + 1, cpe, z, customer):
                made += 1
            else:
                skipped += 1
    return {"circuits": made, "circuits_without_room": skipped, "links": net.links}
