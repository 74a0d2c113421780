"""The `ImpactNotAcknowledged` answer of setStatus, deleteElements and upsertElements.

A write that would take live services down (`pboss.inventory.impact`) is refused unless the
caller acknowledges the riders: `acknowledgedRiders` (the count this answer gives, refused when
stale) or `acceptImpact`. The answer lists the riders the caller may see (a partner gets the
totals, as the `riders` query gives it, and no operator service or customer).
"""

from __future__ import annotations

from typing import Any

import strawberry

from pboss.graphql.context import Context
from pboss.graphql.errors import Error, ValidationError
from pboss.graphql.inventory.types import KIND_TYPES, Customer, Service, to_type
from pboss.graphql.network.types import Count, RiderTotals
from pboss.inventory import impact as im
from pboss.inventory.model import Element


def _shown(ctx: Context, el: Element | None, cls: type) -> Any:
    """The element as its GraphQL type when the caller may see it and it is of `cls`'s kind."""
    if not ctx.sees(el) or el is None or KIND_TYPES.get(el.kind) is not cls:
        return None
    return to_type(el)


@strawberry.type(description="A service a write would take down, with its customer.")
class AffectedRider:
    service: Service | None = strawberry.field(description="null when hidden from the caller")
    customer: Customer | None = strawberry.field(description="null when hidden or none")
    product: str | None


@strawberry.type(
    description="The write would take live services down and their impact was not "
    "acknowledged (or the count acknowledged is stale); nothing was written. Send the "
    "`riders` count back as `acknowledgedRiders` (or `acceptImpact: true`) to go ahead."
)
class ImpactNotAcknowledged(Error):
    resources: list[strawberry.ID]
    action: str
    riders: int = strawberry.field(description="services affected: acknowledge this count")
    customers: int
    acknowledged: int | None = strawberry.field(description="the count given, if any")
    stale: bool = strawberry.field(description="a count was given but the riders changed since")
    totals: RiderTotals
    affected: list[AffectedRider] = strawberry.field(
        description=f"the first {im.LISTED} affected services, by id"
    )

    @classmethod
    def of(cls, ctx: Context, exc: im.ImpactNotAcknowledged) -> ImpactNotAcknowledged:
        """The caller's view of the refusal (riders it may not see are blanked)."""
        imp, t = exc.impact, exc.impact.totals
        return cls(
            message=str(exc),
            code="IMPACT_NOT_ACKNOWLEDGED",
            resources=list(imp.resource_ids),
            action=imp.action,
            riders=t.services,
            customers=t.customers,
            acknowledged=exc.acknowledged,
            stale=exc.stale,
            totals=RiderTotals(
                services=t.services,
                customers=t.customers,
                by_product=[Count(key=k, count=v) for k, v in t.by_product.items()],
                by_customer_type=[Count(key=k, count=v) for k, v in t.by_customer_type.items()],
                by_sla_tier=[Count(key=k, count=v) for k, v in t.by_sla_tier.items()],
            ),
            affected=[
                AffectedRider(
                    service=_shown(ctx, r.service, Service),
                    customer=_shown(ctx, r.customer, Customer),
                    product=getattr(r.service, "product", None),
                )
                for r in imp.riders
            ],
        )


def acknowledgement(
    acknowledged_riders: int | None, accept_impact: bool
) -> im.Acknowledgement | ValidationError:
    """The store's acknowledgement from a mutation's arguments, or why they are invalid."""
    if acknowledged_riders is not None and acknowledged_riders < 0:
        return ValidationError.single(
            "acknowledgedRiders", "must be 0 or more", "acknowledgedRiders"
        )
    return im.Acknowledgement(riders=acknowledged_riders, accept=accept_impact)
