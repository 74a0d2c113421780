"""GPON access of one exchange: OLTs, PON ports, two-stage splitter trees at buildings and estates,
ONTs, household and enterprise customers with their services, and the cable partner's pools.

Every lit PON port feeds one tree of exactly 64 outputs (1:4 then 1:16, or 1:8 then 1:8), so the
split budget of 1:64 always holds; take-up decides how many outputs carry an ONT.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping

from pboss.inventory.catalog import ProductDef
from pboss.loaders.generator.emit import Emitter, Subscriber
from pboss.loaders.generator.people import company_name, person_name, phone, room
from pboss.loaders.generator.places import District, SiteInfo, emit_residential
from pboss.loaders.generator.scales import Scale

PORTS_PER_SLOT = 16
SPLIT = 64
OLT_SPECS = ("OLT-MA5800-X17", "OLT-C600")
CABLE_PARTNER = "P-OC"


def _olts(
    em: Emitter, rng: random.Random, d: District, ex_no: int, ex_site: str, s: Scale
) -> list[str]:
    """The exchange's OLTs and PON ports; returns the lit PON ports in order."""
    lit: list[str] = []
    total = s.slots * PORTS_PER_SLOT
    for o in range(1, s.olts + 1):
        olt = em.node("OLT", f"OLT-{d.code}{ex_no:02d}-{o}", name=f"{ex_site}-OLT{o}",
                      site=ex_site, spec=rng.choice(OLT_SPECS))  # fmt: skip
        chosen = set(rng.sample(range(total), max(1, round(total * s.lit_share))))
        for i in range(total):
            slot, port = 1 + i // PORTS_PER_SLOT, i % PORTS_PER_SLOT
            status = "available"
            if i in chosen:
                status = "faulty" if rng.random() < 0.005 else "in_use"
            pid = em.node("PonPort", f"{olt}/{slot}/{port}", site=ex_site, slot=slot, port=port,
                          spec="PON-GPON", status=status)  # fmt: skip
            em.edge("PART_OF", pid, olt)
            if i in chosen:
                lit.append(pid)
    return lit


def _subscriber(
    em: Emitter,
    rng: random.Random,
    site: SiteInfo,
    port: str,
    n: int,
    estate: bool,
    products: Mapping[str, ProductDef],
) -> None:
    """One ONT on a splitter output, its customer and the customer's FTTH services."""
    enterprise = not estate and rng.random() < 0.5
    name = company_name(rng) if enterprise else person_name(rng)
    tier = (
        rng.choice(("gold", "gold", "platinum"))
        if enterprise
        else ("gold" if rng.random() < 0.15 else "standard")
    )
    cust = em.node(
        "Customer", f"C-{site.id}-{n:04d}", name=name,
        customer_type="enterprise" if enterprise else "household", sla_tier=tier,
        site=site.id, phone=phone(rng), address=room(rng, site.address, estate),
    )  # fmt: skip
    ont = em.node(
        "ONT", f"ONT-{site.id}-{n:04d}", site=site.id,
        status="faulty" if rng.random() < 0.002 else "in_use",
        spec="ONT-HGU" if rng.random() < 0.8 else "ONT-SFU",
        serial=f"HWTC{rng.getrandbits(32):08X}",
    )  # fmt: skip
    em.edge("FED_BY", ont, port)
    fast = rng.random() < (0.6 if enterprise else 0.3)
    wanted = [("BB", "FTTH-1000M" if fast else "FTTH-100M")]
    if not enterprise and rng.random() < 0.4:
        wanted.append(("TV", "IPTV"))
    if rng.random() < 0.25:
        wanted.append(("VO", "VOICE"))
    em.remember(site.district, Subscriber(cust, site.id, wanted[0][1], tier, enterprise))
    for suffix, product in wanted:
        sid = em.node("Service", f"SVC-{site.id}-{n:04d}-{suffix}", product=product,
                      service_type=products[product].service_type, site=site.id,
                      status="in_use")  # fmt: skip
        em.edge("USES", sid, ont)
        em.edge("FOR", sid, cust)


def _tree(
    em: Emitter,
    rng: random.Random,
    site: SiteInfo,
    tree: int,
    pon: str,
    households: float,
    numbers: Iterator[int],
    estate: bool,
    products: Mapping[str, ProductDef],
) -> None:
    """A 1:64 two-stage splitter tree fed by one PON port, with its subscribers."""
    ratio1 = rng.choice((4, 8))
    ratio2 = SPLIT // ratio1
    s1 = em.node("Splitter", f"SPL-{site.id}-{tree}", site=site.id, stage=1,
                 spec=f"SPL-1x{ratio1}")  # fmt: skip
    em.edge("FED_BY", s1, pon)
    takeup = rng.uniform(0.25, 0.7)
    used = set(rng.sample(range(SPLIT), min(SPLIT, round(households * takeup))))
    for i in range(1, ratio1 + 1):
        p1 = em.node("SplitterPort", f"{s1}:{i}", site=site.id, index=i, status="in_use")
        em.edge("PART_OF", p1, s1)
        s2 = em.node("Splitter", f"{s1}.{i}", site=site.id, stage=2, spec=f"SPL-1x{ratio2}")
        em.edge("FED_BY", s2, p1)
        for j in range(1, ratio2 + 1):
            out = (i - 1) * ratio2 + (j - 1)
            status = "in_use" if out in used else "available"
            if out not in used and rng.random() < 0.003:
                status = "faulty"
            p2 = em.node("SplitterPort", f"{s2}:{j}", site=site.id, index=j, status=status)
            em.edge("PART_OF", p2, s2)
            if out in used:
                _subscriber(em, rng, site, p2, next(numbers), estate, products)


def _cable_pool(em: Emitter, rng: random.Random, site: SiteInfo) -> None:
    """The cable partner's coverage at an estate, and a few households it serves."""
    total = max(10, round(site.households * rng.uniform(0.4, 0.9)))
    used = round(total * rng.uniform(0.1, 0.5))
    pool = em.node(
        "PartnerAccess", f"PA-{site.id}-OC", name=f"东方有线 {site.name}", site=site.id,
        owner=CABLE_PARTNER, spec="PACC-CABLE", total=total, used=used, reserved=0,
    )  # fmt: skip
    for k in range(1, min(used, rng.randint(1, 3)) + 1):
        cust = em.node("Customer", f"CC-{site.id}-{k}", name=person_name(rng), site=site.id,
                       phone=phone(rng), address=room(rng, site.address, True))  # fmt: skip
        sid = em.node("Service", f"SVC-{site.id}-CB{k}", product="CABLE-BB",
                      service_type="home_broadband", site=site.id, status="in_use")  # fmt: skip
        em.edge("USES", sid, pool)
        em.edge("FOR", sid, cust)


def emit_exchange_access(
    em: Emitter,
    seed: str,
    d: District,
    ex_no: int,
    ex_site: str,
    scale: Scale,
    products: Mapping[str, ProductDef],
) -> None:
    """Everything GPON behind one exchange, grouped into estates (2-3 trees) and towers (1)."""
    rng = random.Random(f"{seed}/access/{d.code}{ex_no:02d}")
    lit = _olts(em, rng, d, ex_no, ex_site, scale)
    k = 0
    while k < len(lit):
        estate = rng.random() < 0.6
        trees = min(len(lit) - k, rng.randint(2, 3) if estate else 1)
        households = round(trees * SPLIT * rng.uniform(0.8, 1.3))
        site = emit_residential(em, d, ex_no, estate, households)
        numbers = itertools.count(1)
        for t in range(trees):
            _tree(em, rng, site, t + 1, lit[k + t], households / trees, numbers, estate, products)
        if estate and rng.random() < scale.cable_share:
            _cable_pool(em, rng, site)
        k += trees
