"""Which event types the hub knows and which roles may receive each.

A type is readable by the roles named here; a partner receives a type only where a partner view
of it exists (`pboss.hub.views`), and then only events whose scope names that partner.
Capabilities add their types here as they gain events (tickets, cutover plans, ...).
"""

from __future__ import annotations

from pboss.assurance.events import INCIDENT_EVENT_TYPES
from pboss.assurance.record_events import ALARM_EVENT_TYPES, TICKET_EVENT_TYPES
from pboss.assurance.repair_events import OPERATOR_REPAIR_TYPES, PARTNER_REPAIR_TYPES
from pboss.cutover.events import CUTOVER_EVENT_TYPES
from pboss.provisioning.events import ORDER_EVENT_TYPES

#: The roles of the operator's own systems and staff.
OPERATOR_ROLES = frozenset({"crm", "engineer", "admin"})
#: Roles that may register listeners (partners only for their own events).
LISTENER_ROLES = frozenset({*OPERATOR_ROLES, "partner"})

#: A business resource package's figures changed in a way CRM sells against (`pboss.crm`).
BUSINESS_RESOURCE_CHANGED = "BusinessResourceChangedEvent"
#: A disagreement between CRM's status feedback and pboss's state was found (or changed), and
#: one was resolved by a report that agrees (`pboss.crm.feedback`); the operator's roles only.
CRM_MISMATCH = "CrmStatusMismatchEvent"
CRM_MISMATCH_RESOLVED = "CrmStatusMismatchResolvedEvent"
CRM_FEEDBACK_EVENT_TYPES = (CRM_MISMATCH, CRM_MISMATCH_RESOLVED)

#: Event type -> roles that may receive it.
EVENT_ROLES: dict[str, frozenset[str]] = {
    **{t: frozenset({*OPERATOR_ROLES, "partner"}) for t in ORDER_EVENT_TYPES},
    # a partner receives those about its own pools (scope partners), in its view (hub.views)
    BUSINESS_RESOURCE_CHANGED: frozenset({*OPERATOR_ROLES, "partner"}),
    **{t: OPERATOR_ROLES for t in CRM_FEEDBACK_EVENT_TYPES},
    # a partner hears of plans touching its resources, through its view (hub.views)
    **{t: frozenset({*OPERATOR_ROLES, "partner"}) for t in CUTOVER_EVENT_TYPES.values()},
    # tickets and alarms (pboss.assurance): a partner hears of those on its own resources,
    # through its view (hub.views: no customer, contact or path)
    **{t: frozenset({*OPERATOR_ROLES, "partner"}) for t in TICKET_EVENT_TYPES},
    **{t: frozenset({*OPERATOR_ROLES, "partner"}) for t in ALARM_EVENT_TYPES},
    # incidents (pboss.assurance.incidents): the operator's roles (no partner view yet)
    **{t: OPERATOR_ROLES for t in INCIDENT_EVENT_TYPES},
    # repair work (pboss.assurance.repair_events): tickets' and incidents' state to the operator;
    # a repair dispatched to a partner, and its SLA alerts, to that partner too (hub.views)
    **{t: OPERATOR_ROLES for t in OPERATOR_REPAIR_TYPES},
    **{t: frozenset({*OPERATOR_ROLES, "partner"}) for t in PARTNER_REPAIR_TYPES},
}


def known_types() -> list[str]:
    """Every event type the hub delivers, sorted."""
    return sorted(EVENT_ROLES)


def visible_types(role: str) -> list[str]:
    """The event types a role may receive, sorted."""
    return sorted(t for t, roles in EVENT_ROLES.items() if role in roles)


def register_event_type(event_type: str, roles: frozenset[str]) -> None:
    """Add (or widen) an event type: who may receive it (idempotent)."""
    EVENT_ROLES[event_type] = EVENT_ROLES.get(event_type, frozenset()) | roles
