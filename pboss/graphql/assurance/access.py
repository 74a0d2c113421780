"""Who may do what with tickets and alarms, and the app's one AssuranceService.

CRM opens tickets and moves their states; engineers and admins too, and they raise and clear
alarms by hand; the network's alarm sources (role `network`) raise and clear alarms and read
nothing else. Every operator role reads tickets and alarms; a partner key reads only those on
its own resources (scope `partners`), without customer, contact, service, path or address. The
service is made once, on first use, with the provisioning service's clock when the app has one.
"""

from __future__ import annotations

import threading
from typing import Any

from pboss.assurance.service import AssuranceService

TICKET_WRITE_ROLES = frozenset({"crm", "engineer", "admin"})
ALARM_WRITE_ROLES = frozenset({"network", "engineer", "admin"})
#: Who may POST /alarms (the bulk feed is the network's, or an admin's).
INGEST_ROLES = frozenset({"network", "admin"})
READ_ROLES = frozenset({"crm", "engineer", "admin", "partner"})
SERVICE_LOCK = threading.Lock()


def assurance_of(state: dict[str, Any]) -> AssuranceService:
    """The app's assurance service (made once on first use)."""
    svc = state.get("assurance")
    if svc is None:
        with SERVICE_LOCK:
            svc = state.get("assurance")
            if svc is None:
                clock = getattr(state.get("provisioning"), "clock", None)
                store = state["store"]
                svc = AssuranceService(store, clock) if clock else AssuranceService(store)
                state["assurance"] = svc
    return svc
