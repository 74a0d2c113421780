"""Status feedback from CRM (状态反馈): the report CRM sends and the mismatch pboss records.

Two operational records, registered with the inventory model by `register_kinds()` (called by
`bootstrap.register_kinds`, never by an import): a `CrmStatusReport` is one message of CRM's,
kept as sent and idempotent by CRM's message id; a `CrmMismatch` is one disagreement between
what CRM says and what pboss shows, one record per (rule, subject), reopened if the disagreement
comes back after it was resolved. Both hang off what they are about (the order, the port, or the
site of a business resource package) by an `ABOUT` edge, which no impact traversal follows (it is
not in `FAILURE_EDGES`, nor in the edges that make a port busy), so feedback never changes what a
resource's riders, trace, occupancy or deletability are.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from pboss.inventory.model import Category, Element, allow_edge, register_kind
from pboss.inventory.timestamps import stamp

#: The longest message id, customer id and note CRM may send (longer is refused, unwritten).
MAX_MESSAGE_ID = 200
MAX_CUSTOMER = 200
MAX_NOTE = 500
#: The longest element id (`Element.id`).
MAX_ID = 512
#: The largest count CRM may report for a package.
MAX_COUNT = 1_000_000


class SubjectKind(StrEnum):
    """What a report is about."""

    ORDER = "order"
    PORT = "port"
    PACKAGE = "package"


class OrderStatus(StrEnum):
    """What CRM says happened to an order on its side, in CRM's words."""

    SOLD = "sold"
    CONTRACT_SIGNED = "contractSigned"
    CUSTOMER_WITHDREW = "customerWithdrew"
    BILLING_STARTED = "billingStarted"
    CANCELLED = "cancelled"


class PortStatus(StrEnum):
    """What CRM says of a published port: sold (to a customer), the customer withdrew, or free."""

    SOLD = "sold"
    CUSTOMER_WITHDREW = "customerWithdrew"
    FREE = "free"


#: The TMF vocabulary for CRM's words, where one exists: an order's statuses as the TMF637
#: product status of what was sold, a port's as TMF639's resource usage state.
TMF_STATUS: dict[tuple[SubjectKind, str], str] = {
    (SubjectKind.ORDER, OrderStatus.SOLD): "created",
    (SubjectKind.ORDER, OrderStatus.CONTRACT_SIGNED): "pendingActive",
    (SubjectKind.ORDER, OrderStatus.BILLING_STARTED): "active",
    (SubjectKind.ORDER, OrderStatus.CUSTOMER_WITHDREW): "aborted",
    (SubjectKind.ORDER, OrderStatus.CANCELLED): "cancelled",
    (SubjectKind.PORT, PortStatus.SOLD): "busy",
    (SubjectKind.PORT, PortStatus.CUSTOMER_WITHDREW): "idle",
    (SubjectKind.PORT, PortStatus.FREE): "idle",
}

#: The status a package report carries (CRM reports its counts, not a word).
COUNTS = "counts"


class MismatchKind(StrEnum):
    """The disagreements pboss looks for; each names what CRM says and what pboss shows."""

    #: CRM sold the order (or signed its contract); pboss shows it failed or cancelled, or
    #: holding no resources (no held or confirmed reservation).
    SOLD_WITHOUT_RESOURCES = "soldWithoutResources"
    #: CRM started billing; pboss has no service in place for the order.
    BILLING_WITHOUT_SERVICE = "billingWithoutService"
    #: CRM says the customer withdrew (or the order was cancelled); pboss still has the service
    #: in place or a hold on resources: they would be stranded.
    WITHDRAWN_BUT_HELD = "withdrawnButHeld"
    #: CRM believes a port is sold; pboss shows it free.
    PORT_SOLD_BUT_FREE = "portSoldButFree"
    #: CRM believes a port is sold to one customer; pboss shows it serving (or held for)
    #: another, or used by the network itself.
    PORT_CUSTOMER_DIFFERS = "portCustomerDiffers"
    #: CRM says a port is free (or its customer withdrew); pboss shows it serving a customer
    #: or held for an order.
    PORT_FREE_BUT_USED = "portFreeButUsed"
    #: CRM's counts of a business resource package differ from pboss's.
    PACKAGE_COUNTS_DIFFER = "packageCountsDiffer"


#: The rules each kind of subject is checked against on every report about it.
RULES: dict[SubjectKind, tuple[MismatchKind, ...]] = {
    SubjectKind.ORDER: (
        MismatchKind.SOLD_WITHOUT_RESOURCES,
        MismatchKind.BILLING_WITHOUT_SERVICE,
        MismatchKind.WITHDRAWN_BUT_HELD,
    ),
    SubjectKind.PORT: (
        MismatchKind.PORT_SOLD_BUT_FREE,
        MismatchKind.PORT_CUSTOMER_DIFFERS,
        MismatchKind.PORT_FREE_BUT_USED,
    ),
    SubjectKind.PACKAGE: (MismatchKind.PACKAGE_COUNTS_DIFFER,),
}


class MismatchState(StrEnum):
    """An open mismatch waits for a report that agrees; a resolved one got it."""

    OPEN = "open"
    RESOLVED = "resolved"


class StatusMessage(BaseModel):
    """One message as CRM sends it (already checked for shape): its id, what it is about and
    what it says. `fingerprint` is what a resend under the same id must repeat exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: str = Field(min_length=1, max_length=MAX_MESSAGE_ID)
    subject_kind: SubjectKind
    #: CRM's order id, the port's id, or the package's id (`rule@site[/owner]`).
    subject: str = Field(min_length=1, max_length=512)
    status: str
    customer: str | None = Field(default=None, min_length=1, max_length=MAX_CUSTOMER)
    sold: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    reserved: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    capacity: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    reported_at: datetime | None = None
    note: str = Field(default="", max_length=MAX_NOTE)

    @model_validator(mode="after")
    def _status_fits_the_subject(self) -> StatusMessage:
        kind = self.subject_kind
        if kind == SubjectKind.ORDER:
            OrderStatus(self.status)
        elif kind == SubjectKind.PORT:
            PortStatus(self.status)
            if self.status == PortStatus.SOLD and not self.customer:
                raise ValueError("a port reported sold names its customer")
        elif self.status != COUNTS or self.sold is None:
            raise ValueError("a package report carries CRM's counts (at least sold)")
        if kind != SubjectKind.PACKAGE and {self.sold, self.reserved, self.capacity} != {None}:
            raise ValueError("counts are reported for a business resource package only")
        return self

    def fingerprint(self) -> dict[str, Any]:
        """Everything CRM said in this message (its time as sent), for the resend check."""
        raw = self.model_dump(exclude={"message_id"}, mode="json")
        return raw


class _CrmRecord(Element):
    """Common base: operational records (category `Provisioning`, the operational records'
    category, so the generic upsert and delete mutations refuse them), times stored as
    fixed-width UTC strings, nested data as JSON strings (Neo4j keeps no nested maps)."""

    category: ClassVar[Category] = Category.PROVISIONING

    @field_serializer("*", when_used="always", check_fields=False)
    def _stamp_datetimes(self, value: Any) -> Any:
        return stamp(value) if isinstance(value, datetime) else value


class CrmStatusReport(_CrmRecord):
    """One status message from CRM, as received; its id derives from CRM's message id."""

    kind: ClassVar[str] = "CrmStatusReport"
    message_id: str = Field(min_length=1, max_length=MAX_MESSAGE_ID)
    subject_kind: SubjectKind
    #: The pboss id of what it is about: the order's node id, the port's id, the package's id.
    subject: str
    #: CRM's own order id, for a report about an order.
    crm_order_id: str | None = None
    #: What CRM said (an `OrderStatus`, a `PortStatus`, or `counts`); not `status`, which is
    #: every element's lifecycle status.
    crm_status: str
    customer: str | None = None
    sold: int | None = None
    reserved: int | None = None
    capacity: int | None = None
    note: str = ""
    reported_at: datetime | None = None
    received_at: datetime
    received_by: str
    #: The message as sent (`StatusMessage.fingerprint`), compact JSON.
    fingerprint: str
    #: True when it agreed with pboss on every rule checked.
    agrees: bool = True
    #: Mismatch ids this report opened or found still open, and those it resolved.
    mismatches: list[str] = Field(default_factory=list)
    resolved: list[str] = Field(default_factory=list)

    def message(self) -> dict[str, Any]:
        """The message as CRM sent it (its fingerprint)."""
        return json.loads(self.fingerprint)


class CrmMismatch(_CrmRecord):
    """One disagreement between CRM and pboss about one subject, under one rule."""

    kind: ClassVar[str] = "CrmMismatch"
    rule: MismatchKind
    subject_kind: SubjectKind
    subject: str
    state: MismatchState = MismatchState.OPEN
    crm_says: str
    pboss_says: str
    detected_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
    #: CRM message ids: the one that opened it (last opened), the last that confirmed it, and
    #: the one that resolved it.
    opened_by: str
    seen_by: str
    resolved_by: str | None = None
    resolution: str | None = None
    #: How many times it was opened (a resolved mismatch that comes back is reopened).
    occurrences: int = Field(default=1, ge=1)
    #: The event scope: the sites and products it concerns.
    sites: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """True while no report agreeing on it has arrived."""
        return self.state == MismatchState.OPEN


def report_id_for(message_id: str) -> str:
    """The report's node id, derived from CRM's message id (the idempotency key)."""
    return f"CRMMSG-{message_id}"


def mismatch_id_for(rule: MismatchKind, subject: str) -> str:
    """The one record of a rule's disagreement about a subject (the subject by a digest when
    its id is too long to fit in an id)."""
    head = f"CRM-MISMATCH/{rule.value}/"
    if len(head) + len(subject) <= MAX_ID:
        return head + subject
    return head + "sha256:" + hashlib.sha256(subject.encode()).hexdigest()


#: The kinds this package adds to the inventory model.
KINDS: tuple[type[Element], ...] = (CrmStatusReport, CrmMismatch)
#: What a report or a mismatch may be ABOUT: an order, a port, or the site of a package.
ABOUT_TARGETS = ("Order", "SplitterPort", "Port", "Site")
EDGES: tuple[tuple[str, str, str], ...] = tuple(
    ("ABOUT", source, target)
    for source in ("CrmStatusReport", "CrmMismatch")
    for target in ABOUT_TARGETS
)


def register_kinds() -> None:
    """Add CrmStatusReport and CrmMismatch and their ABOUT edges to the model (idempotent)."""
    for cls in KINDS:
        register_kind(cls)
    for edge_type, source, target in EDGES:
        allow_edge(edge_type, source, target)
