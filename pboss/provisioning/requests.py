"""What CRM sends to order a service, and the checks on it that need no store read.

Kept apart from the service so the request's shape and its messages live in one small place.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from pboss.provisioning.errors import InvalidRequest
from pboss.provisioning.model import Technology

__all__ = ["SITE_WORDS", "OrderRequest", "missing_sites", "order_id_for"]


class OrderRequest(BaseModel):
    """An activation order as CRM sends it."""

    crm_order_id: str = Field(min_length=1, max_length=200)
    product: str
    customer: str = Field(min_length=1)
    site: str | None = None
    a_site: str | None = None
    z_site: str | None = None
    bandwidth_2m: int = Field(default=1, ge=1, le=1008)
    requested_date: str | None = None
    customer_name: str | None = None
    customer_type: Literal["household", "enterprise"] = "household"


#: How a site field of a request is said in messages.
SITE_WORDS = {"site": "a site", "a_site": "an A-end site", "z_site": "a Z-end site"}


def missing_sites(request: OrderRequest, tech: Technology) -> None:
    """InvalidRequest naming the site fields this technology needs and the request lacks (a
    leased line: A- and Z-end, different; the others: the site)."""
    wanted = ("a_site", "z_site") if tech == Technology.MSTP else ("site",)
    missing = [f for f in wanted if not getattr(request, f)]
    what = "a leased line" if tech == Technology.MSTP else f"a {tech.value} order"
    if missing:
        needs = " and ".join(SITE_WORDS[f] for f in missing)
        raise InvalidRequest(
            f"{what} needs {needs}", [f"{SITE_WORDS[f]} is missing" for f in missing], missing
        )
    if tech == Technology.MSTP and request.a_site == request.z_site:
        raise InvalidRequest(
            "a leased line needs two different sites",
            [f"the A-end and the Z-end are both {request.a_site}"],
            ["z_site"],
        )


def order_id_for(crm_order_id: str) -> str:
    """The order's node id, derived from CRM's order id (the idempotency key)."""
    return f"ORD-{crm_order_id}"
