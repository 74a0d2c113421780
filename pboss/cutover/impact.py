"""A plan's impact: every service and customer its moves take down for a while, totals by
product and SLA tier, gold customers and partner-provided segments flagged, the expected outage.

Read before the plan is recorded (and kept on it), from the store's `riders` of what the plan
moves, paged; nothing here writes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from pboss.cutover.model import MoveKind
from pboss.inventory.store import GraphStore

#: Customer SLA tiers flagged as gold (notified first, executed with care).
GOLD_TIERS = frozenset({"gold", "platinum"})
#: Expected outage of one service, in minutes, by what the plan does to it: a fibre re-patch at
#: the splitter, or a cross-connect switched to the new route.
OUTAGE_MINUTES: dict[MoveKind, int] = {
    MoveKind.REHOME: 10,
    MoveKind.REROUTE: 1,
    MoveKind.PARTNER: 1,
}
#: Riders read per page.
PAGE = 500


class ServiceImpact(BaseModel):
    """One affected service: its product, customer, tier, flags and expected outage."""

    service: str
    product: str | None = None
    customer: str | None = None
    customer_name: str | None = None
    customer_type: str | None = None
    sla_tier: str | None = None
    gold: bool = False
    partner_segments: list[str] = Field(default_factory=list)
    outage_minutes: int = 0


class Impact(BaseModel):
    """What a plan affects, with totals."""

    services: list[ServiceImpact] = Field(default_factory=list)
    customers: int = 0
    by_product: dict[str, int] = Field(default_factory=dict)
    by_sla_tier: dict[str, int] = Field(default_factory=dict)
    gold_customers: list[str] = Field(default_factory=list)
    partner_segments: list[str] = Field(default_factory=list)
    outage_minutes: int = 0

    def dumps(self) -> str:
        """The stored form (on the plan)."""
        return self.model_dump_json()

    @classmethod
    def loads(cls, raw: str) -> Impact:
        """Parse the stored form."""
        return cls.model_validate(json.loads(raw or "{}"))

    def partner_view(self) -> dict[str, Any]:
        """What a partner may see: counts and its segments, no household data."""
        return {
            "services": len(self.services),
            "partnerSegments": self.partner_segments,
            "outageMinutes": self.outage_minutes,
        }


def impact_of(
    store: GraphStore, riders: Sequence[str], move: MoveKind, partner_segments: Sequence[str]
) -> Impact:
    """The impact of moving `riders`: their services, paged from the store, each flagged."""
    minutes = OUTAGE_MINUTES[move]
    segments = sorted(set(partner_segments))
    services: list[ServiceImpact] = []
    after: str | None = None
    while riders:
        page = store.riders(list(riders), first=PAGE, after=after)
        for r in page.items:
            cust = r.customer
            tier = getattr(cust, "sla_tier", None) if cust else None
            services.append(
                ServiceImpact(
                    service=r.service.id,
                    product=getattr(r.service, "product", None),
                    customer=cust.id if cust else None,
                    customer_name=cust.name if cust else None,
                    customer_type=getattr(cust, "customer_type", None) if cust else None,
                    sla_tier=tier,
                    gold=tier in GOLD_TIERS,
                    partner_segments=segments,
                    outage_minutes=minutes,
                )
            )
        after = page.next_cursor
        if not after:
            break
    services.sort(key=lambda s: s.service)
    customers = {s.customer for s in services if s.customer}
    return Impact(
        services=services,
        customers=len(customers),
        by_product=dict(sorted(Counter(s.product or "unknown" for s in services).items())),
        by_sla_tier=dict(sorted(Counter(s.sla_tier or "none" for s in services).items())),
        gold_customers=sorted({s.customer for s in services if s.gold and s.customer}),
        partner_segments=segments,
        outage_minutes=minutes if services else 0,
    )
