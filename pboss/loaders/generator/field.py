"""Crews, shifts and a history of field work for the generated metro, so reports and KPIs have
something to show: each district's own crews (FTTH install, leased-line, repair), the partners'
teams (Tietong's leased-line crews, Oriental Cable's cable crews), and for the months before
`HISTORY_END` the work they closed: orders with their construction work orders, repair work for
trouble tickets, repeat tickets, and customers' ratings. Deterministic for a seed, like the rest.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pboss.inventory.catalog import Catalog
from pboss.inventory.timestamps import stamp
from pboss.loaders.generator.emit import Emitter, Subscriber
from pboss.loaders.generator.people import person_name, phone
from pboss.loaders.generator.places import District

#: The generated history ends here (exclusive), so a seed always gives the same files.
HISTORY_END = datetime(2026, 12, 1, tzinfo=UTC)
LEASED_PARTNER, CABLE_PARTNER = "P-TT", "P-OC"
COMMENTS = ("师傅很专业", "准时上门", "装得很整齐", "等了很久", "态度一般", "速度快", "")
_TECH = {"FTTH-100M": "ftth", "FTTH-1000M": "ftth", "CABLE-BB": "cable", "MSTP-LL": "mstp"}


@dataclass(frozen=True)
class CrewInfo:
    """A generated crew as its history needs it."""

    id: str
    owner: str
    skill: str
    district: str
    base: str
    capacity: int
    work_days: tuple[int, ...]
    quality: float  # 0..1: how often its jobs are fast, right first time and well rated


def emit_crews(
    em: Emitter, seed: str, districts: list[District], exchanges: dict[str, list[str]]
) -> list[CrewInfo]:
    """Per district two FTTH crews, one leased-line and one repair crew of the operator; per two
    districts one Tietong and one Oriental Cable team."""
    rng = random.Random(f"{seed}/crews")
    crews: list[CrewInfo] = []
    plan = [("ftthInstall", "self"), ("ftthInstall", "self"), ("mstpSdh", "self"),
            ("repair", "self")]  # fmt: skip
    for n, d in enumerate(districts):
        mine = list(plan)
        if n % 2 == 0:
            mine += [("mstpSdh", LEASED_PARTNER), ("cableTv", CABLE_PARTNER)]
        for k, (skill, owner) in enumerate(mine, start=1):
            crew_id = f"CREW-{d.code}-{k}"
            areas = [d.region_id]
            if owner != "self" and n + 1 < len(districts):
                areas.append(districts[n + 1].region_id)  # a partner team covers two districts
            days = (1, 2, 3, 4, 5, 6) if owner == "self" else (1, 2, 3, 4, 5)
            skills = [skill, "repair"] if skill != "repair" else ["repair", "splicing"]
            members = [
                {"name": person_name(rng), "phone": phone(rng), "skills": skills}
                for _ in range(rng.randint(2, 4))
            ]
            base = exchanges[d.code][0]
            em.node(
                "Crew", crew_id, name=f"{d.name}{_crew_name(skill, owner)}{k}队", owner=owner,
                site=base, skills=skills, areas=areas, capacity_per_shift=rng.randint(3, 5),
                work_days=list(days), members=json.dumps(members, ensure_ascii=False),
                supervisor=person_name(rng),
            )  # fmt: skip
            # the loader derives the COVERS edges from `areas` (docs/interchange-format.md)
            crews.append(
                CrewInfo(crew_id, owner, skill, d.code, base, 3, days, rng.uniform(0.6, 0.98))
            )
    return crews


def _crew_name(skill: str, owner: str) -> str:
    who = {"self": "", LEASED_PARTNER: "铁通", CABLE_PARTNER: "东方有线"}[owner]
    what = {"ftthInstall": "装维", "mstpSdh": "传输", "repair": "抢修", "cableTv": "有线"}[skill]
    return f"{who}{what}"


def emit_history(
    em: Emitter, seed: str, crews: list[CrewInfo], months: int, catalog: Catalog
) -> dict[str, int]:
    """The work each crew closed in the `months` before HISTORY_END; counts by kind."""
    rng = random.Random(f"{seed}/history")
    start = HISTORY_END - timedelta(days=30 * months)
    counts = {"orders": 0, "work_orders": 0, "tickets": 0}
    for crew in crews:
        pool = _pool(em.subscribers.get(crew.district, []), crew.skill)
        if not pool:
            continue
        day = start
        while day < HISTORY_END:
            if day.isoweekday() in crew.work_days:
                for _ in range(rng.randint(1, crew.capacity)):
                    _job(em, rng, crew, rng.choice(pool), day, catalog, counts)
            day += timedelta(days=1)
    return counts


def _pool(subscribers: list[Subscriber], skill: str) -> list[Subscriber]:
    """The subscribers a crew of this skill works for."""
    if skill == "mstpSdh":
        return [s for s in subscribers if s.enterprise]
    return subscribers


def _job(
    em: Emitter,
    rng: random.Random,
    crew: CrewInfo,
    sub: Subscriber,
    day: datetime,
    catalog: Catalog,
    counts: dict[str, int],
) -> None:
    """One closed job: an order and its construction work, or a ticket and its repair."""
    n = counts["work_orders"] = counts["work_orders"] + 1
    created = day + timedelta(hours=rng.uniform(0, 9))  # 08:00-17:00 Shanghai, in UTC
    repair = crew.skill == "repair"
    product = {"mstpSdh": "MSTP-LL", "cableTv": "CABLE-BB"}.get(crew.skill, sub.product)
    partner = crew.owner != "self"
    rule = catalog.sla_for("repair" if repair else "construction", product, sub.sla_tier, partner)
    hours = rule.hours * rng.uniform(0.1, 0.8 if rng.random() < crew.quality else 1.5)
    failed = rng.random() < 0.04
    completed = created + timedelta(hours=hours)
    wo_id = f"WO-H{n:06d}"
    common = {
        "assignee": crew.owner if partner else f"crew:{crew.base}",
        "assignee_type": "partner" if partner else "own_crew",
        "crew": crew.id, "skill": crew.skill, "product": product, "sla_tier": sub.sla_tier,
        "site": sub.site, "state": "failed" if failed else "done",
        "sla_hours": max(1, round(rule.hours)), "created_at": _t(created),
        "due_at": _t(created + timedelta(hours=rule.hours)), "completed_at": _t(completed),
        "done": [] if failed or repair else ["survey", "installation", "remoteTest", "acceptance"],
    }  # fmt: skip
    if not failed and rng.random() < 0.7:
        good = rng.random() < crew.quality
        common["rating"] = rng.choice((4, 5, 5)) if good else rng.choice((1, 2, 3, 4))
        common["rating_comment"] = rng.choice(COMMENTS)
    if repair:
        ticket = _ticket(em, rng, sub, created - timedelta(hours=1), f"H{n:06d}", "closed")
        counts["tickets"] += 1
        em.node("WorkOrder", wo_id, purpose="repair", ticket=ticket, **common)
    else:
        order = f"ORD-H{n:06d}"
        where = (
            {"a_site": sub.site, "z_site": crew.base}
            if product == "MSTP-LL"
            else {"site": sub.site}
        )
        em.node(
            "Order", order, crm_order_id=f"CRM-H{n:06d}", product=product,
            technology=_TECH.get(product, "ftth"), customer=sub.customer,
            state="failed" if failed else "completed", created_at=_t(created),
            updated_at=_t(completed), work_orders=[wo_id], **where,
        )  # fmt: skip
        counts["orders"] += 1
        em.node("WorkOrder", wo_id, order=order, reservation=f"RES-H{n:06d}", **common)
    if not failed and rng.random() > crew.quality * 0.9:  # a repeat complaint within 30 days
        again = completed + timedelta(days=rng.uniform(1, 29))
        if again < HISTORY_END:
            _ticket(em, rng, sub, again, f"R{n:06d}", "resolved")
            counts["tickets"] += 1


def _ticket(
    em: Emitter, rng: random.Random, sub: Subscriber, at: datetime, key: str, state: str
) -> str:
    symptom = "leasedLineDown" if sub.enterprise else rng.choice(("noSync", "slow", "intermittent"))
    return em.node(
        "TroubleTicket", f"TT-{key}", crm_ticket_id=key, subject="customer",
        customer=sub.customer, symptom=symptom, state=state, opened_at=_t(at),
        updated_at=_t(at + timedelta(hours=4)), sites=[sub.site], products=[sub.product],
        product=sub.product, sla_tier=sub.sla_tier,
    )  # fmt: skip


def _t(at: datetime) -> str:
    return stamp(at)
