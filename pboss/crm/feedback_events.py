"""The durable events of status feedback: a mismatch found (or changed) and a mismatch resolved.

Emitted into the transaction that records the CRM report (`GraphTx.emit`), so an event exists
exactly when its mismatch record changed. The body follows the TMF notification envelope
(`eventId`, `eventTime`, `eventType`, `event`), with the mismatch as `event.crmStatusMismatch`.
The event's subject is what the mismatch is about (the order id, the port id, the package id),
so a listener filtering on an order's id hears of its mismatches; its scope names the sites and
products concerned. Only the operator's roles receive these types (`pboss.hub.catalog`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pboss.crm.feedback_model import CrmMismatch
from pboss.hub.catalog import CRM_MISMATCH, CRM_MISMATCH_RESOLVED
from pboss.inventory.events import NewEvent
from pboss.inventory.timestamps import utc


def mismatch_body(m: CrmMismatch) -> dict[str, Any]:
    """The mismatch as events and the API show it (camelCase, times ISO-8601 UTC)."""
    out: dict[str, Any] = {
        "@type": "CrmStatusMismatch",
        "id": m.id,
        "kind": str(m.rule),
        "state": str(m.state),
        "subjectKind": str(m.subject_kind),
        "subject": m.subject,
        "crmSays": m.crm_says,
        "pbossSays": m.pboss_says,
        "detectedAt": utc(m.detected_at).isoformat(),
        "openedBy": m.opened_by,
        "occurrences": m.occurrences,
    }
    if m.resolved_at is not None:
        out["resolvedAt"] = utc(m.resolved_at).isoformat()
        out["resolvedBy"] = m.resolved_by
        out["resolution"] = m.resolution
    return out


def mismatch_event(m: CrmMismatch, at: datetime) -> NewEvent:
    """The event of a mismatch as it now stands: resolved, or found (opened, reopened, changed)."""
    eid = str(uuid.uuid4())
    etype = CRM_MISMATCH if m.is_open else CRM_MISMATCH_RESOLVED
    when = utc(at)
    body = {
        "eventId": eid,
        "eventTime": when.isoformat(),
        "eventType": etype,
        "event": {"crmStatusMismatch": mismatch_body(m)},
    }
    return NewEvent(
        id=eid,
        type=etype,
        at=when,
        subject=m.subject,
        body=body,
        sites=list(m.sites),
        products=list(m.products),
    )
