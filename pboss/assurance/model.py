"""Assurance kinds: the trouble ticket (TMF621), the alarm (TMF642), the incident grouping them.

They are operational records (category Provisioning, so generic element writes refuse them)
hanging off the network by edges no impact traversal follows (design.md §9): a ticket is `ABOUT`
the service, customer or site it was opened for and `GROUPED_IN` an incident; an alarm is `ON` its
resource; an incident `SUSPECTS` its likely common cause. Histories, candidates and impact are
stored flat as JSON strings (Neo4j keeps no nested maps). `register_kinds()` adds them, explicitly.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_serializer

from pboss.inventory.model import Category, Element, allow_edge, register_kind
from pboss.inventory.timestamps import stamp

#: The network kinds an alarm may be raised on and an incident may suspect.
RESOURCE_KINDS: tuple[str, ...] = (
    "Site", "OLT", "PonPort", "Splitter", "SplitterPort", "ONT", "NE", "Port", "TrunkSection",
    "PartnerLink", "Circuit", "PartnerAccess", "Service",
)  # fmt: skip


class Symptom(StrEnum):
    """What the customer reports (the ticket's symptom category)."""

    NO_SYNC = "noSync"
    SLOW = "slow"
    INTERMITTENT = "intermittent"
    TV = "tv"
    VOICE = "voice"
    LEASED_LINE_DOWN = "leasedLineDown"


class Priority(StrEnum):
    """TMF621 ticket priority, also an incident's (the highest of its tickets)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


#: Priorities from most to least urgent (an incident takes the first any of its tickets has).
PRIORITY_ORDER: tuple[Priority, ...] = tuple(Priority)


class TicketState(StrEnum):
    """TMF621 trouble-ticket states."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "inProgress"
    HELD = "held"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


_T = TicketState
#: The legal ticket-state changes; closed and cancelled are final (a resolved ticket may reopen).
TICKET_TRANSITIONS: dict[TicketState, frozenset[TicketState]] = {
    _T.ACKNOWLEDGED: frozenset({_T.IN_PROGRESS, _T.HELD, _T.RESOLVED, _T.CANCELLED}),
    _T.IN_PROGRESS: frozenset({_T.HELD, _T.RESOLVED, _T.CANCELLED}),
    _T.HELD: frozenset({_T.IN_PROGRESS, _T.RESOLVED, _T.CANCELLED}),
    _T.RESOLVED: frozenset({_T.CLOSED, _T.IN_PROGRESS}),
    _T.CLOSED: frozenset(),
    _T.CANCELLED: frozenset(),
}
#: Tickets still open (correlated, dispatched, on an SLA clock).
OPEN_TICKET_STATES = frozenset({_T.ACKNOWLEDGED, _T.IN_PROGRESS, _T.HELD})


class Severity(StrEnum):
    """TMF642 perceived severity of a raised alarm."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INDETERMINATE = "indeterminate"


class AlarmType(StrEnum):
    """TMF642 (X.733) alarm types."""

    COMMUNICATIONS = "communicationsAlarm"
    QUALITY_OF_SERVICE = "qualityOfServiceAlarm"
    PROCESSING_ERROR = "processingErrorAlarm"
    EQUIPMENT = "equipmentAlarm"
    ENVIRONMENTAL = "environmentalAlarm"


class AlarmState(StrEnum):
    """A TMF642 alarm is raised until cleared."""

    RAISED = "raised"
    CLEARED = "cleared"


class IncidentState(StrEnum):
    """Where an incident stands: open while correlating, confirmed by an engineer, resolved when
    the cause is repaired (its tickets resolve), closed; cancelled when absorbed or dismissed."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


_I = IncidentState
#: The legal incident-state changes; closed and cancelled are final.
INCIDENT_TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    _I.OPEN: frozenset({_I.CONFIRMED, _I.RESOLVED, _I.CANCELLED}),
    _I.CONFIRMED: frozenset({_I.RESOLVED, _I.CANCELLED}),
    _I.RESOLVED: frozenset({_I.CLOSED, _I.OPEN}),
    _I.CLOSED: frozenset(),
    _I.CANCELLED: frozenset(),
}
#: Incidents that still gather tickets and alarms.
ACTIVE_INCIDENT_STATES = frozenset({_I.OPEN, _I.CONFIRMED})


class Entry(BaseModel):
    """One entry of an assurance record's history: what happened, who did it, when and why."""

    at: datetime
    event: str
    state: str | None = None
    actor: str = ""
    note: str = ""

    def dumps(self) -> str:
        """The stored form: one JSON string per entry."""
        raw = self.model_dump(mode="json")
        raw["at"] = stamp(self.at)
        return json.dumps(raw, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str) -> Entry:
        """Parse a stored entry."""
        return cls.model_validate(json.loads(raw))


class _Record(Element):
    """Common base: an operational record with timestamps stored as fixed-width UTC strings."""

    category: ClassVar[Category] = Category.PROVISIONING

    @field_serializer("*", when_used="always", check_fields=False)
    def _stamp_datetimes(self, value: Any) -> Any:
        return stamp(value) if isinstance(value, datetime) else value

    history: list[str] = Field(default_factory=list)

    def entries(self) -> list[Entry]:
        """The record's history, oldest first."""
        return [Entry.loads(h) for h in self.history]


class TroubleTicket(_Record):
    """A fault report (故障申告) CRM opened for a customer, a service or an address; `id` derives
    from CRM's ticket id, its idempotency key (`ticket_id`)."""

    kind: ClassVar[str] = "TroubleTicket"
    crm_ticket_id: str = Field(min_length=1, max_length=200)
    subject: Literal["customer", "service", "address"]
    customer: str | None = None
    service: str | None = None
    address: str | None = None
    symptom: Symptom
    priority: Priority = Priority.MEDIUM
    description: str = Field(default="", max_length=4000)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=64)
    state: TicketState = TicketState.ACKNOWLEDGED
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    #: The resources the service depends on (its trace), customer end first.
    path: list[str] = Field(default_factory=list)
    product: str | None = None
    sla_tier: str | None = None
    sites: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)
    incident: str | None = None
    #: Set while the ticket waits for the batch correlator (`pending.py`): since when; None after.
    correlate_due: datetime | None = None
    work_order: str | None = None
    due_at: datetime | None = None
    jeopardy: bool = False
    breached: bool = False


class Alarm(_Record):
    """A network alarm (TMF642) on one resource, raised until cleared; `id` derives from the
    source's alarm id, else from resource, type and probable cause: a repeat is the same alarm."""

    kind: ClassVar[str] = "Alarm"
    source_alarm_id: str | None = Field(default=None, max_length=200)
    resource: str
    alarm_type: AlarmType
    probable_cause: str = Field(min_length=1, max_length=200)
    specific_problem: str = Field(default="", max_length=2000)
    severity: Severity
    state: AlarmState = AlarmState.RAISED
    raised_at: datetime
    cleared_at: datetime | None = None
    #: `network` for alarms sent in, `utilisation` for pboss's own capacity thresholds.
    origin: Literal["network", "utilisation"] = "network"
    #: The resource's status before this alarm set it faulty (restored on clear), if it did.
    previous_status: str | None = None
    incident: str | None = None
    #: Set while the raise or clear waits for the batch correlator (`pending.py`); None after.
    correlate_due: datetime | None = None
    sites: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)


def alarm_id(resource: str, alarm_type: str, probable_cause: str, source_id: str | None) -> str:
    """The stable id of an alarm: from the source's own id when it sends one, else from what it
    is about, so a repeated raise or a clear finds the same alarm."""
    key = f"src\x1f{source_id}" if source_id else f"{resource}\x1f{alarm_type}\x1f{probable_cause}"
    return "AL-" + hashlib.sha256(key.encode()).hexdigest()[:20]


class Incident(_Record):
    """Tickets and alarms grouped on their likely common cause (`suspected`), with the evidence,
    the candidates considered and the full impact."""

    kind: ClassVar[str] = "Incident"
    state: IncidentState = IncidentState.OPEN
    suspected: str
    confirmed_by: str | None = None
    #: JSON: the candidates considered, their score parts and why each lost.
    candidates: str = "[]"
    tickets: list[str] = Field(default_factory=list)
    alarms: list[str] = Field(default_factory=list)
    #: JSON: riders, totals by product and SLA tier, gold customers first.
    impact: str = "{}"
    priority: Priority = Priority.MEDIUM
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    estimated_restoration: datetime | None = None
    work_order: str | None = None
    due_at: datetime | None = None
    jeopardy: bool = False
    breached: bool = False
    escalation: int = Field(default=0, ge=0)
    sites: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    partners: list[str] = Field(default_factory=list)


#: The kinds this package adds to the inventory model.
KINDS: tuple[type[Element], ...] = (TroubleTicket, Alarm, Incident)
#: Their edges (type, from kind, to kind); none is followed by impact or trace.
EDGES: tuple[tuple[str, str, str], ...] = (
    *(("ABOUT", "TroubleTicket", t) for t in ("Service", "Customer", "Site")),
    ("GROUPED_IN", "TroubleTicket", "Incident"),
    ("GROUPED_IN", "Alarm", "Incident"),
    *(("ON", "Alarm", t) for t in RESOURCE_KINDS),
    *(("SUSPECTS", "Incident", t) for t in RESOURCE_KINDS),
)


def register_kinds() -> None:
    """Add TroubleTicket, Alarm and Incident and their edges to the inventory model (idempotent)."""
    for cls in KINDS:
        register_kind(cls)
    for edge_type, source, target in EDGES:
        allow_edge(edge_type, source, target)
