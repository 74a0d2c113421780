"""What CRM is told about one business resource package, and which differences are worth telling.

`figures_of` turns a `Package` (pboss.inventory.business, the same answer the `businessResources`
query shows) into the JSON figures a `BusinessResourceChangedEvent` carries; `changes` compares
them with the figures last published (read back from the event log) and names the reasons to
publish again. A difference that is not one of these reasons (a port sold while free capacity
stays above every threshold, a `used` count moving) publishes nothing: CRM sells against
crossings, not against every sale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pboss.inventory.business import BLOCKING, Package
from pboss.inventory.model import SELF

#: Reasons a package is published, in the order they are listed in an event.
PACKAGE_ADDED = "packageAdded"
PACKAGE_REMOVED = "packageRemoved"
FREE_CROSSED_ZERO = "freeCrossedZero"
THRESHOLD_CROSSED = "thresholdCrossed"
QUALIFICATION_CHANGED = "qualificationChanged"
CAPACITY_CHANGED = "capacityChanged"
PARTNER_POOL_CHANGED = "partnerPoolChanged"
REASONS = (
    PACKAGE_ADDED,
    PACKAGE_REMOVED,
    FREE_CROSSED_ZERO,
    THRESHOLD_CROSSED,
    QUALIFICATION_CHANGED,
    CAPACITY_CHANGED,
    PARTNER_POOL_CHANGED,
)
ACTIVE = "active"
REMOVED = "removed"

#: The figures a `previous` block repeats (what CRM compares against).
PREVIOUS_KEYS = ("state", "capacity", "used", "free", "sellable", "health", "blockedBy")


@dataclass(frozen=True)
class Thresholds:
    """Low-capacity thresholds in % of a package's capacity: free at or below one is "low"."""

    percents: tuple[float, ...] = (10.0,)

    @classmethod
    def of(cls, percents: Sequence[float]) -> Thresholds:
        """Thresholds from a settings list (duplicates dropped, highest first); ValueError for a
        value outside 0..100."""
        bad = [p for p in percents if not 0 <= p <= 100]
        if bad:
            raise ValueError(f"low-free thresholds must be between 0 and 100 %, got {bad}")
        return cls(tuple(sorted(set(percents), reverse=True)))

    def limits(self, capacity: int) -> list[int]:
        """Each threshold as a unit count for this capacity (free <= limit is below it); a
        limit of 0 is left out: reaching zero is its own reason (`freeCrossedZero`)."""
        limits = (math.floor(capacity * p / 100) for p in self.percents)
        return [limit for limit in limits if limit > 0]

    def band(self, free: int, capacity: int) -> int:
        """How many thresholds free capacity is at or below (0: above them all)."""
        return sum(1 for limit in self.limits(capacity) if free <= limit)


def figures_of(pkg: Package) -> dict[str, Any]:
    """The package as CRM is told about it: the `businessResource` of an event.

    `capacity`, `used` and `free` are the `businessResources` query's (free counts what can take
    a service now); `sellable` says whether anything can be sold; `blockedBy` names the elements
    (the anchor or what it hangs off) whose status keeps units from being sold; `qualification`
    gives, per product the package sells, whether it can be delivered from it now and why not."""
    blocked = sorted(
        {el.id for c in pkg.components for el in (c.anchor, *c.chain) if el.status in BLOCKING}
    )
    sellable = pkg.free > 0
    why = [] if sellable else list(pkg.reasons)
    return {
        "@type": "BusinessResource",
        "id": pkg.id,
        "name": pkg.name,
        "rule": pkg.rule.id,
        "site": {"id": pkg.site.id, "name": pkg.site.name},
        "owner": pkg.owner,
        "isPartner": pkg.owner != SELF,
        "products": [p.id for p in pkg.sells],
        "state": ACTIVE,
        "capacity": pkg.capacity,
        "used": pkg.used,
        "free": pkg.free,
        "sellable": sellable,
        "health": pkg.health,
        "blockedBy": blocked,
        "qualification": [
            {
                "productId": p.id,
                "state": "qualified" if sellable else "unqualified",
                "reasons": why,
            }
            for p in pkg.sells
        ],
    }


def removed_figures(last: dict[str, Any]) -> dict[str, Any]:
    """What a package that no longer exists is published as: its identity, nothing to sell."""
    out = {k: last[k] for k in ("@type", "id", "name", "rule", "site", "owner", "isPartner")}
    products = list(last.get("products", []))
    out.update(
        products=products,
        state=REMOVED,
        capacity=0,
        used=0,
        free=0,
        sellable=False,
        health="ok",
        blockedBy=[],
        qualification=[
            {"productId": p, "state": "unqualified", "reasons": ["the package no longer exists"]}
            for p in products
        ],
    )
    return out


def previous_of(last: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `previous` block of an event: the figures last published, or None for a first one."""
    if last is None:
        return None
    return {k: last[k] for k in PREVIOUS_KEYS if k in last}


def changes(
    last: dict[str, Any] | None, now: dict[str, Any] | None, thresholds: Thresholds
) -> list[str]:
    """Why `now` must be published given `last` (both `figures_of` shapes; None: no package),
    in `REASONS` order; empty when the difference does not matter to CRM."""
    was = last is not None and last.get("state") == ACTIVE
    if now is None:
        return [PACKAGE_REMOVED] if was else []
    if not was or last is None:
        return [PACKAGE_ADDED]
    out = []
    if (last["free"] > 0) != (now["free"] > 0):
        out.append(FREE_CROSSED_ZERO)
    before = thresholds.band(last["free"], last["capacity"])
    if before != thresholds.band(now["free"], now["capacity"]):
        out.append(THRESHOLD_CROSSED)
    if (
        last["health"] != now["health"]
        or last["blockedBy"] != now["blockedBy"]
        or last["products"] != now["products"]
    ):
        out.append(QUALIFICATION_CHANGED)
    if last["capacity"] != now["capacity"]:
        out.append(PARTNER_POOL_CHANGED if now["isPartner"] else CAPACITY_CHANGED)
    return out
