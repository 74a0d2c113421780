"""How hub resolvers reach the hub: the app's `HubService` (`state["hub_service"]`, made once on
first use when the app did not set one) and the caller it is asked for, from the request's
principal. (`state["hub"]` is the delivery worker's handle, pboss/hub/runner.py.)
"""

from __future__ import annotations

import threading

from pboss.graphql.context import Context
from pboss.hub.service import Caller, HubService

HUB_LOCK = threading.Lock()


def hub_of(ctx: Context) -> HubService:
    """The app's hub service (made once on first use when the app did not set one)."""
    hub = ctx.state.get("hub_service")
    if hub is None:
        with HUB_LOCK:
            hub = ctx.state.get("hub_service")
            if hub is None:
                hub = HubService(ctx.store, ctx.settings)
                ctx.state["hub_service"] = hub
    return hub


def caller_of(ctx: Context) -> Caller:
    """The hub's caller for this request: the key's role, name and partner."""
    p = ctx.principal
    return Caller(role=p.role, name=p.actor, partner_id=p.partner_id)


#: GraphQL argument path of each field name the hub service refuses.
FIELD_PATHS = {
    "subjects": "filter.subjects",
    "sites": "filter.sites",
    "products": "filter.products",
    "partner": "filter.partner",
}


def field_path(field: str) -> str:
    """The registerListener input path of a field the hub service names."""
    return FIELD_PATHS.get(field, field)
