"""The events a cutover plan emits as it moves through its states (TMF688-style envelopes).

Approval carries what CRM needs to notify customers ahead of time: the window and every affected
customer with its services. Every event is scoped by the plan's sites, products and partners, so
a partner whose resources the plan touches hears of it (through its partner view,
`pboss.hub.views`, without household data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pboss.cutover.impact import Impact
from pboss.cutover.model import CutoverPlan
from pboss.inventory.events import NewEvent
from pboss.inventory.timestamps import utc

#: Event type per plan event.
CUTOVER_EVENT_TYPES: dict[str, str] = {
    "approved": "CutoverPlanApprovedEvent",
    "scheduled": "CutoverPlanScheduledEvent",
    "completed": "CutoverPlanCompletedEvent",
    "rolledBack": "CutoverPlanRolledBackEvent",
    "cancelled": "CutoverPlanCancelledEvent",
}


def plan_event(plan: CutoverPlan, event: str, now: datetime, seq: int) -> NewEvent:
    """The event of one plan change; approval lists the affected customers."""
    event_type = CUTOVER_EVENT_TYPES[event]
    event_id = f"{plan.id}:{event}:{seq}"
    body: dict[str, Any] = {
        "@type": "CutoverPlan",
        "id": plan.id,
        "state": str(plan.state),
        "move": str(plan.move),
        "reason": plan.reason,
        "windowStart": utc(plan.window_start).isoformat(),
        "windowEnd": utc(plan.window_end).isoformat(),
        "source": plan.source,
        "target": plan.target,
        "partners": plan.partners,
    }
    impact = Impact.loads(plan.impact)
    body["affected"] = impact.partner_view()
    if event == "approved":
        by_customer: dict[str, dict[str, Any]] = {}
        for s in impact.services:
            if not s.customer:
                continue
            c = by_customer.setdefault(
                s.customer,
                {"id": s.customer, "name": s.customer_name, "slaTier": s.sla_tier, "services": []},
            )
            c["services"].append(
                {"id": s.service, "product": s.product, "outageMinutes": s.outage_minutes}
            )
        body["affectedCustomers"] = [by_customer[k] for k in sorted(by_customer)]
    return NewEvent(
        id=event_id,
        type=event_type,
        at=now,
        subject=plan.id,
        body={
            "eventId": event_id,
            "eventTime": utc(now).isoformat(),
            "eventType": event_type,
            "event": {"cutoverPlan": body},
        },
        sites=plan.sites,
        products=plan.products,
        partners=plan.partners,
    )
