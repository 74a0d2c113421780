"""Impact acknowledgement: a write that would take live services down must say it knows.

Retiring a trunk that carries a live circuit, or cascade-deleting a splitter with households
below it, is legal by the lifecycle table but must not happen by accident. A caller that wants
the check (the GraphQL mutations always do) passes an `Acknowledgement` to the store's
`set_status`, `delete` or `upsert`; the store counts the riders of what the write takes down
inside the same write transaction (memory: under its lock; Neo4j: after write-locking the
riders' dependency closure), and refuses with `ImpactNotAcknowledged`, writing nothing, unless
the acknowledgement covers exactly those riders. The riders are those `GraphStore.riders`
reports for the same resources, so the count an engineer sees there is the count to acknowledge.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from pboss.inventory.errors import PbossError
from pboss.inventory.lifecycle import Status
from pboss.inventory.model import Element
from pboss.inventory.results import RiderRow, RiderTotals
from pboss.inventory.tracing import rider_totals

#: Statuses a planned change may not set on a resource with riders without acknowledging them:
#: RETIRED is final and takes every rider down for good; MAINTENANCE is planned work that puts
#: every rider at risk (degraded). FAULTY is not here: it records a failure that has already
#: happened (the riders are down whatever is recorded), and holding back an alarm hides an outage.
NEEDS_ACK = frozenset({Status.RETIRED, Status.MAINTENANCE})

#: How many affected services an answer lists (the totals count all of them).
LISTED = 50


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """What the caller acknowledges: `riders` services affected (refused when stale), or, with
    `accept`, whatever the impact is. The default acknowledges nothing: any rider refuses."""

    riders: int | None = None
    accept: bool = False

    def covers(self, services: int) -> bool:
        """True when a write affecting `services` riders may go ahead."""
        if self.accept:
            return True
        if self.riders is None:
            return services == 0
        return self.riders == services


class AffectedRider(BaseModel):
    """One service a write would take down, with its customer."""

    service: Element
    customer: Element | None = None


class Impact(BaseModel):
    """The riders of the resources a write takes down: totals over all, the first `LISTED`."""

    resource_ids: list[str]
    action: str
    totals: RiderTotals = Field(default_factory=RiderTotals)
    riders: list[AffectedRider] = Field(default_factory=list)

    @property
    def services(self) -> int:
        """How many services would be affected."""
        return self.totals.services


def impact_of(
    resource_ids: list[str], action: str, rows: list[tuple[Element, Element | None]]
) -> Impact:
    """The impact of a write from its riders (service, customer), ordered by service id."""
    rows = sorted(rows, key=lambda r: r[0].id)
    facts = [
        RiderRow(
            service_id=s.id,
            product=getattr(s, "product", None),
            customer_id=c.id if c else None,
            customer_type=getattr(c, "customer_type", None),
            sla_tier=getattr(c, "sla_tier", None),
        )
        for s, c in rows
    ]
    return Impact(
        resource_ids=sorted(resource_ids),
        action=action,
        totals=rider_totals(facts),
        riders=[AffectedRider(service=s, customer=c) for s, c in rows[:LISTED]],
    )


def status_needs_ack(old: str, new: str) -> bool:
    """True when changing a status from `old` to `new` must acknowledge the riders."""
    return old != new and new in NEEDS_ACK


class ImpactNotAcknowledged(PbossError):
    """A write would take riders down and the caller did not acknowledge exactly those riders
    (none acknowledged, or a count that is stale: the riders changed since it was read)."""

    code = "impact_not_acknowledged"

    def __init__(self, impact: Impact, acknowledged: int | None):
        self.impact = impact
        self.acknowledged = acknowledged
        n, c = impact.totals.services, impact.totals.customers
        what = f"{impact.action} of {', '.join(repr(i) for i in impact.resource_ids[:5])}"
        if acknowledged is None:
            why = "acknowledge them (acknowledgedRiders) or accept the impact to go ahead"
        else:
            why = f"{acknowledged} acknowledged, but the riders changed since: look again"
        super().__init__(f"{what} would affect {n} service(s) of {c} customer(s); {why}")

    @property
    def stale(self) -> bool:
        """True when a count was acknowledged but the riders are no longer that many."""
        return self.acknowledged is not None


def check(ack: Acknowledgement | None, impact: Impact) -> None:
    """Refuse (ImpactNotAcknowledged) a write whose riders `ack` does not cover."""
    if ack is not None and not ack.covers(impact.services):
        raise ImpactNotAcknowledged(impact, ack.riders)
