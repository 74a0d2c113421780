"""GraphQL types of status feedback: CRM's report as recorded, a mismatch, the answers of the
two mutations and the two queries, with their builders from the capability's records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from pboss.crm import feedback_model as fm
from pboss.crm.feedback import Recorded
from pboss.crm.feedback_reads import MismatchPage, SubjectFeedback
from pboss.graphql.connections import PageInfo, encode_cursor
from pboss.graphql.errors import Forbidden, NotFound, ValidationError
from pboss.graphql.provisioning.types import Conflict

CrmMismatchKind = strawberry.enum(
    fm.MismatchKind,
    name="CrmMismatchKind",
    description="Which rule CRM and pboss disagree on (docs/api.md: Status feedback from CRM).",
)
CrmMismatchState = strawberry.enum(
    fm.MismatchState, name="CrmMismatchState", description="Open until a report agrees."
)
CrmSubjectKind = strawberry.enum(
    fm.SubjectKind, name="CrmSubjectKind", description="What a CRM report is about."
)
#: The cursor prefix of the mismatch list.
MISMATCH_CURSOR = "crmMismatch"


@strawberry.type(description="One status message from CRM, as pboss recorded it.")
class CrmStatusReport:
    id: strawberry.ID
    message_id: str
    subject_kind: CrmSubjectKind  # type: ignore[valid-type]
    subject: str = strawberry.field(
        description="pboss's id of what it is about: the order id, the port id, the package id."
    )
    crm_order_id: str | None
    status: str = strawberry.field(description="CRM's word (or `counts` for a package).")
    tmf_status: str | None = strawberry.field(
        description="The TMF word for it, where one exists (TMF637 product / TMF639 usage)."
    )
    customer: str | None
    sold: int | None
    reserved: int | None
    capacity: int | None
    note: str
    reported_at: datetime | None
    received_at: datetime
    received_by: str
    agrees: bool = strawberry.field(description="True when it agreed with pboss on every rule.")
    mismatch_ids: list[strawberry.ID] = strawberry.field(
        description="The mismatches of its subject it opened or found still open."
    )
    resolved_ids: list[strawberry.ID] = strawberry.field(description="The mismatches it resolved.")


def report_of(r: fm.CrmStatusReport) -> CrmStatusReport:
    """The API view of a recorded report."""
    return CrmStatusReport(
        id=strawberry.ID(r.id),
        message_id=r.message_id,
        subject_kind=fm.SubjectKind(r.subject_kind),
        subject=r.subject,
        crm_order_id=r.crm_order_id,
        status=r.crm_status,
        tmf_status=fm.TMF_STATUS.get((fm.SubjectKind(r.subject_kind), r.crm_status)),
        customer=r.customer,
        sold=r.sold,
        reserved=r.reserved,
        capacity=r.capacity,
        note=r.note,
        reported_at=r.reported_at,
        received_at=r.received_at,
        received_by=r.received_by,
        agrees=r.agrees,
        mismatch_ids=[strawberry.ID(i) for i in r.mismatches],
        resolved_ids=[strawberry.ID(i) for i in r.resolved],
    )


@strawberry.type(description="A disagreement between what CRM says and what pboss shows.")
class CrmMismatch:
    id: strawberry.ID
    kind: CrmMismatchKind  # type: ignore[valid-type]
    state: CrmMismatchState  # type: ignore[valid-type]
    subject_kind: CrmSubjectKind  # type: ignore[valid-type]
    subject: str
    crm_says: str
    pboss_says: str
    detected_at: datetime = strawberry.field(description="When it was (last) opened.")
    last_seen_at: datetime = strawberry.field(description="The last report that found it.")
    resolved_at: datetime | None
    opened_by: str = strawberry.field(description="CRM's message id that (last) opened it.")
    seen_by: str
    resolved_by: str | None
    resolution: str | None
    occurrences: int = strawberry.field(description="How many times it was opened.")
    sites: list[str]
    products: list[str]


def mismatch_of(m: fm.CrmMismatch) -> CrmMismatch:
    """The API view of a mismatch record."""
    return CrmMismatch(
        id=strawberry.ID(m.id),
        kind=fm.MismatchKind(m.rule),
        state=fm.MismatchState(m.state),
        subject_kind=fm.SubjectKind(m.subject_kind),
        subject=m.subject,
        crm_says=m.crm_says,
        pboss_says=m.pboss_says,
        detected_at=m.detected_at,
        last_seen_at=m.last_seen_at,
        resolved_at=m.resolved_at,
        opened_by=m.opened_by,
        seen_by=m.seen_by,
        resolved_by=m.resolved_by,
        resolution=m.resolution,
        occurrences=m.occurrences,
        sites=list(m.sites),
        products=list(m.products),
    )


@strawberry.type(
    description="A CRM message recorded and reconciled (or, with duplicate, answered from the "
    "record of the same message received before)."
)
class CrmStatusRecorded:
    duplicate: bool
    report: CrmStatusReport
    mismatches: list[CrmMismatch] = strawberry.field(
        description="Its subject's mismatches this report left open (new, reopened or still)."
    )
    resolved: list[CrmMismatch] = strawberry.field(description="Those it resolved.")


def recorded_of(rec: Recorded) -> CrmStatusRecorded:
    """The API view of what one message came to."""
    return CrmStatusRecorded(
        duplicate=rec.duplicate,
        report=report_of(rec.report),
        mismatches=[mismatch_of(m) for m in rec.mismatches],
        resolved=[mismatch_of(m) for m in rec.resolved],
    )


ReportCrmStatusPayload = Annotated[
    CrmStatusRecorded | NotFound | Conflict | ValidationError | Forbidden,
    strawberry.union("ReportCrmStatusPayload"),
]
CrmStatusItemResult = Annotated[
    CrmStatusRecorded | NotFound | Conflict | ValidationError,
    strawberry.union("CrmStatusItemResult"),
]


@strawberry.type(
    description="A bulk report's answers, one per message in the order sent; each was its own "
    "transaction (a refused one wrote nothing and stopped none of the others)."
)
class CrmStatusBatch:
    results: list[CrmStatusItemResult]
    recorded: int = strawberry.field(description="Messages recorded now (not resends).")
    duplicates: int
    refused: int


ReportCrmStatusesPayload = Annotated[
    CrmStatusBatch | ValidationError | Forbidden, strawberry.union("ReportCrmStatusesPayload")
]


@strawberry.type(description="How many mismatches there are of one kind in one state.")
class CrmMismatchTotal:
    kind: CrmMismatchKind  # type: ignore[valid-type]
    state: CrmMismatchState  # type: ignore[valid-type]
    count: int


@strawberry.type
class CrmMismatchEdge:
    cursor: str
    node: CrmMismatch


@strawberry.type(
    description="Mismatches by id; totalCount counts those matching the filter, totals every "
    "mismatch by kind and state."
)
class CrmMismatchConnection:
    edges: list[CrmMismatchEdge]
    page_info: PageInfo
    total_count: int
    totals: list[CrmMismatchTotal]


def connection_of(page: MismatchPage) -> CrmMismatchConnection:
    """The API view of a page of mismatches."""
    edges = [
        CrmMismatchEdge(cursor=encode_cursor(MISMATCH_CURSOR, m.id), node=mismatch_of(m))
        for m in page.items
    ]
    totals = [
        CrmMismatchTotal(kind=fm.MismatchKind(k), state=fm.MismatchState(s), count=n)
        for (k, s), n in sorted(page.totals.items())
    ]
    info = PageInfo(
        has_next_page=page.next_cursor is not None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return CrmMismatchConnection(edges=edges, page_info=info, total_count=page.total, totals=totals)


CrmMismatchesResult = Annotated[
    CrmMismatchConnection | Forbidden, strawberry.union("CrmMismatchesResult")
]


@strawberry.type(description="What CRM said about one subject, newest first, and its mismatches.")
class CrmSubjectFeedback:
    subject: str
    subject_kind: CrmSubjectKind  # type: ignore[valid-type]
    reports: list[CrmStatusReport]
    report_count: int
    mismatches: list[CrmMismatch]


def subject_feedback_of(f: SubjectFeedback) -> CrmSubjectFeedback:
    """The API view of a subject's feedback."""
    return CrmSubjectFeedback(
        subject=f.subject,
        subject_kind=f.subject_kind,
        reports=[report_of(r) for r in f.reports],
        report_count=f.report_count,
        mismatches=[mismatch_of(m) for m in f.mismatches],
    )


CrmStatusReportsResult = Annotated[
    CrmSubjectFeedback | NotFound | Forbidden, strawberry.union("CrmStatusReportsResult")
]
