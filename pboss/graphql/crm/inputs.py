"""Status feedback inputs: one CRM message about an order, a port or a package, and how it
becomes the capability's `StatusMessage` (GraphQL already refused unknown enum values; the
rest of the shape is checked here, before anything is written)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from pydantic import ValidationError as PydanticError

from pboss.crm import feedback_model as fm
from pboss.crm.feedback_model import StatusMessage, SubjectKind

CrmOrderStatus = strawberry.enum(
    fm.OrderStatus,
    name="CrmOrderStatus",
    description="What CRM says happened to an order on its side (TMF637 product status: sold "
    "created, contractSigned pendingActive, billingStarted active, customerWithdrew aborted, "
    "cancelled cancelled).",
)
CrmPortStatus = strawberry.enum(
    fm.PortStatus,
    name="CrmPortStatus",
    description="What CRM says of a published port (TMF639 usage: sold busy, else idle).",
)


@strawberry.input(description="CRM's word on one of its orders.")
class CrmOrderStatusInput:
    crm_order_id: str = strawberry.field(description="CRM's order id, as submitted.")
    status: CrmOrderStatus  # type: ignore[valid-type]


@strawberry.input(description="CRM's word on one published port (a splitter output, an NE port).")
class CrmPortStatusInput:
    port: strawberry.ID
    status: CrmPortStatus  # type: ignore[valid-type]
    customer: str | None = strawberry.field(
        default=None, description="CRM's customer id: required with SOLD, optional otherwise."
    )


@strawberry.input(description="CRM's own counts of one business resource package.")
class CrmPackageCountsInput:
    package: strawberry.ID = strawberry.field(
        description="The package id as businessResources shows it (rule@site[/owner])."
    )
    sold: int = strawberry.field(description="Units CRM counts as sold (in service).")
    reserved: int = strawberry.field(default=0, description="Units CRM counts as reserved.")
    capacity: int | None = strawberry.field(
        default=None, description="The capacity CRM believes the package has (checked if given)."
    )


@strawberry.input(
    description="One status message from CRM about exactly one of: an order, a port, a package. "
    "messageId is CRM's idempotency key: the same message again is answered from the record, "
    "the same id with other content is a Conflict."
)
class CrmStatusReportInput:
    message_id: str = strawberry.field(description=f"1 to {fm.MAX_MESSAGE_ID} characters.")
    order: CrmOrderStatusInput | None = None
    port: CrmPortStatusInput | None = None
    package: CrmPackageCountsInput | None = None
    reported_at: datetime | None = strawberry.field(
        default=None, description="When it happened in CRM (kept as sent)."
    )
    note: str = strawberry.field(default="", description=f"At most {fm.MAX_NOTE} characters.")


#: Where each `StatusMessage` field sits in the input, per subject kind (for error messages).
_FIELD_PATHS = {
    "message_id": "messageId",
    "reported_at": "reportedAt",
    "note": "note",
    "customer": "port.customer",
    "sold": "package.sold",
    "reserved": "package.reserved",
    "capacity": "package.capacity",
}
_SUBJECT_PATHS = {
    SubjectKind.ORDER: "order.crmOrderId",
    SubjectKind.PORT: "port.port",
    SubjectKind.PACKAGE: "package.package",
}


def to_message(given: CrmStatusReportInput) -> StatusMessage | list[tuple[str | None, str]]:
    """The capability's message, or the problems as (input field, reason)."""
    subjects = [
        (k, v)
        for k, v in (
            (SubjectKind.ORDER, given.order),
            (SubjectKind.PORT, given.port),
            (SubjectKind.PACKAGE, given.package),
        )
        if v is not None
    ]
    if len(subjects) != 1:
        return [(None, "give exactly one of order, port and package")]
    kind, sub = subjects[0]
    fields: dict[str, object] = {
        "message_id": given.message_id,
        "subject_kind": kind,
        "reported_at": given.reported_at,
        "note": given.note,
    }
    if isinstance(sub, CrmOrderStatusInput):
        fields.update(subject=sub.crm_order_id, status=fm.OrderStatus(sub.status).value)
    elif isinstance(sub, CrmPortStatusInput):
        fields.update(subject=str(sub.port), status=fm.PortStatus(sub.status).value)
        fields["customer"] = sub.customer
    elif isinstance(sub, CrmPackageCountsInput):
        fields.update(subject=str(sub.package), status=fm.COUNTS, sold=sub.sold)
        fields.update(reserved=sub.reserved, capacity=sub.capacity)
    try:
        return StatusMessage.model_validate(fields)
    except PydanticError as exc:
        out: list[tuple[str | None, str]] = []
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else None
            path = _SUBJECT_PATHS[kind] if name == "subject" else _FIELD_PATHS.get(name or "")
            out.append((path, str(e["msg"]).removeprefix("Value error, ")))
        return out
