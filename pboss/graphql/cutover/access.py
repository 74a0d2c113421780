"""Who may do what with cutover plans, and how resolvers call the cutover service.

Engineers and admins plan, approve, schedule, execute, roll back and cancel; CRM reads plans
(to notify customers); a partner key reads only plans touching its resources, without household
data. The service comes from `info.context.state["cutover"]`, or is made on first use with the
provisioning service's clock when the app has one (one injectable clock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pboss.cutover.model import CutoverPlan
from pboss.cutover.service import CutoverService
from pboss.graphql.context import Context
from pboss.graphql.cutover.types import EXPECTED, error_of, plan_of
from pboss.graphql.errors import Forbidden

WRITE_ROLES = frozenset({"engineer", "admin"})
READ_ROLES = frozenset({"crm", "engineer", "admin", "partner"})
SERVICE_LOCK = threading.Lock()


def service_of(ctx: Context) -> CutoverService:
    """The app's cutover service (made once on first use)."""
    svc = ctx.state.get("cutover")
    if svc is None:
        with SERVICE_LOCK:
            svc = ctx.state.get("cutover")
            if svc is None:
                prov = ctx.state.get("provisioning")
                clock = getattr(prov, "clock", None)
                svc = CutoverService(ctx.store, clock) if clock else CutoverService(ctx.store)
                ctx.state["cutover"] = svc
    return svc


def visible(ctx: Context, plan: CutoverPlan) -> bool:
    """True when this caller may read the plan (a partner: only plans on its resources)."""
    if ctx.principal.is_partner:
        return ctx.principal.partner_id in plan.partners
    return ctx.principal.role in READ_ROLES


def shown(ctx: Context) -> Callable[[CutoverPlan], Any]:
    """The plan as this caller sees it."""
    partner = ctx.principal.partner_id if ctx.principal.is_partner else None
    return lambda p: plan_of(p, partner)


async def write(ctx: Context, action: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Check the role, run a blocking service call off the event loop, type its failures; the
    request's loaders forget what they cached."""
    if ctx.principal.role not in WRITE_ROLES:
        return Forbidden.of(action, ctx.principal.role)
    try:
        return plan_of(await ctx.call(fn, *args, **kw))
    except EXPECTED as exc:
        return error_of(exc)
    finally:
        ctx.loaders.forget()
