"""Who may provision, and how resolvers call the provisioning service: the role checked, the
blocking call run on the store threads, expected failures typed, loaders emptied after a write.

CRM, engineers and admins provision; a partner key sees and updates only the construction
orders assigned to it. The service comes from `info.context.state["provisioning"]` (set by the
app, see pboss/provisioning/runtime.py), or is made on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pboss.graphql.context import Context
from pboss.graphql.errors import Forbidden, NotFound
from pboss.graphql.provisioning.types import EXPECTED, error_of
from pboss.inventory import errors as inv
from pboss.provisioning.service import ProvisioningService

PROVISIONING_ROLES = frozenset({"crm", "engineer", "admin"})
SERVICE_LOCK = threading.Lock()


def service_of(ctx: Context) -> ProvisioningService:
    """The app's provisioning service (made once on first use when the app did not set one)."""
    svc = ctx.state.get("provisioning")
    if svc is None:
        with SERVICE_LOCK:
            svc = ctx.state.get("provisioning")
            if svc is None:
                svc = ProvisioningService(ctx.store, catalog=ctx.catalog)
                ctx.state["provisioning"] = svc
    return svc


def refused(ctx: Context, action: str) -> Forbidden | None:
    """Forbidden unless the caller's role provisions."""
    if ctx.principal.role in PROVISIONING_ROLES:
        return None
    return Forbidden.of(action, ctx.principal.role)


async def attempt(
    ctx: Context,
    action: str,
    wrap: Callable[[Any], Any],
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Check the role, run a blocking service call off the event loop, type its failures."""
    refusal = refused(ctx, action)
    if refusal is not None:
        return refusal
    try:
        return wrap(await ctx.call(fn, *args, **kwargs))
    except EXPECTED as exc:
        return error_of(exc)


async def write(
    ctx: Context,
    action: str,
    wrap: Callable[[Any], Any],
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """`attempt` for a write: the request's loaders forget what they cached before it."""
    try:
        return await attempt(ctx, action, wrap, fn, *args, **kwargs)
    finally:
        ctx.loaders.forget()


async def hidden_from_partner(ctx: Context, svc: ProvisioningService, work_order_id: str) -> Any:
    """For a partner key: NotFound unless the construction order is assigned to it."""
    try:
        wo = await ctx.call(svc.work_order, work_order_id)
    except inv.NotFound:
        wo = None
    if wo is None or wo.assignee != ctx.principal.partner_id:
        return NotFound.of(work_order_id, "WorkOrder")
    return None
