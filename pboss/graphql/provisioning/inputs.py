"""Provisioning mutation inputs: an activation order as CRM sends it (sites by id or address)."""

from __future__ import annotations

import strawberry


@strawberry.input(description="An activation order as CRM sends it; crmOrderId is idempotent.")
class SubmitOrderInput:
    crm_order_id: str
    product: str
    customer: str = strawberry.field(description="CRM's customer id (created if new)")
    site: str | None = strawberry.field(default=None, description="FTTH or cable: the site")
    a_site: str | None = strawberry.field(default=None, description="leased line: A-end site")
    z_site: str | None = strawberry.field(default=None, description="leased line: Z-end site")
    address: str | None = strawberry.field(
        default=None,
        description="FTTH or cable: the site by address, found as availability finds it "
        "(instead of site)",
    )
    a_address: str | None = strawberry.field(
        default=None, description="leased line: the A-end site by address (instead of aSite)"
    )
    z_address: str | None = strawberry.field(
        default=None, description="leased line: the Z-end site by address (instead of zSite)"
    )
    bandwidth_2m: int = strawberry.field(default=1, description="leased line: n x 2 Mb/s")
    requested_date: str | None = None
    customer_name: str | None = None
    customer_type: str = strawberry.field(default="household", description="or enterprise")


#: Each site field of the input and the address field that may stand for it.
SITE_ADDRESSES = (("site", "address"), ("a_site", "a_address"), ("z_site", "z_address"))
