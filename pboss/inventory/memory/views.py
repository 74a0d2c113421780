"""The MemoryStore's site view and transport view: what path computation reads, from the graph
(the caller holds the store's lock). Occupancy rules come from occupancy.py, shared with the
store's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import networkx as nx

from pboss.inventory.errors import NotFound
from pboss.inventory.memory.occupancy import SLOT_EDGES, has_in, pon_load, used_slots
from pboss.inventory.memory.rows import element, kind_of
from pboss.inventory.model import Element
from pboss.inventory.results import PortView, SiteView, SlotUse, SplitterView, TransportLink
from pboss.inventory.transaction import BUSY_BY


def _el(graph: nx.MultiDiGraph, element_id: str) -> Element:
    return element(graph, element_id)


def at_site(
    graph: nx.MultiDiGraph, by_site: Mapping[str, set[str]], site_id: str, kind: str
) -> list[Element]:
    """The elements of one kind at a site, by id."""
    found = (_el(graph, i) for i in by_site.get(site_id, ()))
    return sorted((e for e in found if e.kind == kind), key=lambda e: e.id)


def _upstream(graph: nx.MultiDiGraph, element_id: str) -> list[Element]:
    chain: list[Element] = []
    cur = element_id
    while True:
        nxt = next(
            (d for _, d, k in graph.out_edges(cur, keys=True) if k in ("FED_BY", "PART_OF")),
            None,
        )
        if nxt is None or len(chain) > 16:
            return chain
        chain.append(_el(graph, nxt))
        cur = nxt


def site_view(graph: nx.MultiDiGraph, by_site: Mapping[str, set[str]], site_id: str) -> SiteView:
    """Splitters, partner pools, NEs and ports at a site with chain health and load."""
    if site_id not in graph:
        raise NotFound(site_id)
    site = _el(graph, site_id)
    if site.kind != "Site":
        raise NotFound(site_id, "Site")
    pon_loads: dict[str, int] = {}
    splitters = []
    for spl in at_site(graph, by_site, site_id, "Splitter"):
        ports = sorted(
            (_el(graph, p) for p, _, k in graph.in_edges(spl.id, keys=True) if k == "PART_OF"),
            key=lambda e: (getattr(e, "index", 0), e.id),
        )
        busy = [p.id for p in ports if has_in(graph, p.id, BUSY_BY["SplitterPort"])]
        free = [p.id for p in ports if p.id not in busy and p.status == "available"]
        upstream = _upstream(graph, spl.id)
        pon = next((e for e in upstream if e.kind == "PonPort"), None)
        olt = next((e.id for e in upstream if e.kind == "OLT"), None)
        if pon is not None and pon.id not in pon_loads:
            pon_loads[pon.id] = pon_load(graph, pon.id)
        splitters.append(
            SplitterView(
                splitter=spl.model_copy(deep=True),
                free_ports=free,
                busy_ports=len(busy),
                upstream=[e.model_copy(deep=True) for e in upstream],
                pon_port=pon.id if pon else None,
                olt=olt,
                pon_load=pon_loads.get(pon.id, 0) if pon else 0,
                pon_budget=getattr(pon, "max_split", 0) if pon else 0,
            )
        )
    nes = at_site(graph, by_site, site_id, "NE")
    ports = []
    for ne in nes:
        for p, _, k in graph.in_edges(ne.id, keys=True):
            if k == "PART_OF":
                busy = has_in(graph, p, BUSY_BY["Port"])
                ports.append(PortView(port=_el(graph, p), ne=ne.id, busy=busy))
    ports.sort(key=lambda v: v.port.id)
    return SiteView(
        site=site.model_copy(deep=True),
        splitters=splitters,
        partner_access=[
            e.model_copy(deep=True) for e in at_site(graph, by_site, site_id, "PartnerAccess")
        ],
        nes=[e.model_copy(deep=True) for e in nes],
        ports=ports,
    )


def transport_links(graph: nx.MultiDiGraph, by_kind: Mapping[str, set[str]]) -> list[TransportLink]:
    """Every trunk section and partner link with its end NEs and the VC-12 slots in use."""
    out = []
    for kind in ("TrunkSection", "PartnerLink"):
        for lid in sorted(by_kind.get(kind, ())):
            ends = []
            for _, dst, k in graph.out_edges(lid, keys=True):
                if k != "TERMINATES":
                    continue
                if kind_of(graph, dst) == "NE":
                    ends.append(dst)
                else:
                    ends += [d for _, d, k2 in graph.out_edges(dst, keys=True) if k2 == "PART_OF"]
            ends.sort()
            used = used_slots(graph, lid)
            out.append(
                TransportLink(
                    link=_el(graph, lid),
                    a_ne=ends[0] if ends else None,
                    z_ne=ends[1] if len(ends) > 1 else None,
                    used_slots=used,
                )
            )
    return out


#: The kinds whose VC-12 slots circuits and holds take.
LINK_KINDS = ("TrunkSection", "PartnerLink")


def slot_use(graph: nx.MultiDiGraph, ids: Sequence[str]) -> dict[str, SlotUse]:
    """The VC-12 slots carried (ROUTED_OVER) and held (HOLDS) on each of these links."""
    out: dict[str, SlotUse] = {}
    for lid in dict.fromkeys(ids):
        if lid not in graph or (link := _el(graph, lid)).kind not in LINK_KINDS:
            continue
        use = {key: [] for key in SLOT_EDGES}
        for _, _, key, data in graph.in_edges(lid, keys=True, data=True):
            if key in use and data.get("slots"):
                use[key] += data["slots"]
        out[lid] = SlotUse(
            capacity=int(link.capacity_vc12),  # type: ignore[attr-defined]
            routed=sorted(use["ROUTED_OVER"]),
            held=sorted(use["HOLDS"]),
        )
    return out
