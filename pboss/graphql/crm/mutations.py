"""Status feedback mutations: `reportCrmStatus` and its bulk form `reportCrmStatuses`.

Roles: CRM (whose feedback it is) and admins report; engineers read it (queries) but may not
report; partner keys are refused. Bad input (exactly one subject, sizes, counts, a port sold
without a customer) is refused before anything is written, as a ValidationError naming the
input field; unknown enum values never reach the resolver (GraphQL refuses the document). The
bulk form is all or nothing for its shape (too many messages, or any malformed one, refuses the
whole call) and item by item for the rest: each message is its own transaction and gets its own
answer, so an unknown order (NotFound) or a reused message id (Conflict) writes nothing of its
own and stops none of the others.
"""

from __future__ import annotations

import threading

import strawberry

from pboss.crm import feedback as fb
from pboss.crm.feedback import FeedbackService, Recorded
from pboss.crm.feedback_model import StatusMessage
from pboss.graphql.context import Context, Info
from pboss.graphql.crm.inputs import CrmStatusReportInput, to_message
from pboss.graphql.crm.types import (
    CrmStatusBatch,
    ReportCrmStatusesPayload,
    ReportCrmStatusPayload,
    recorded_of,
)
from pboss.graphql.errors import Forbidden, Issue, NotFound, ValidationError
from pboss.graphql.provisioning.types import Conflict
from pboss.inventory import errors as inv
from pboss.provisioning import errors as prov

#: Roles that report CRM status (read access: `queries.READ_ROLES`).
WRITE_ROLES = frozenset({"crm", "admin"})
_SERVICE_LOCK = threading.Lock()


def service_of(ctx: Context) -> FeedbackService:
    """The app's feedback service (made once on first use, on the app's store and catalog)."""
    svc = ctx.state.get("crm_feedback")
    if svc is None:
        with _SERVICE_LOCK:
            svc = ctx.state.get("crm_feedback")
            if svc is None:
                svc = FeedbackService(ctx.store, catalog=ctx.catalog)
                ctx.state["crm_feedback"] = svc
    return svc


def write_refused(ctx: Context) -> Forbidden | None:
    """Forbidden unless the caller's role reports CRM status."""
    role = ctx.principal.role
    if role in WRITE_ROLES:
        return None
    detail = "engineers read status feedback; CRM reports it" if role == "engineer" else ""
    return Forbidden.of("report CRM status", role, detail)


def _invalid(problems: list[tuple[str | None, str]], index: int | None = None) -> ValidationError:
    item = "input" if index is None else f"inputs[{index}]"
    issues = [Issue(item=item, field=f, reason=r, index=index) for f, r in problems]
    said = "; ".join(f"{item}.{f}: {r}" if f else f"{item}: {r}" for f, r in problems)
    return ValidationError(
        message=f"the CRM status report is malformed: {said}",
        code="VALIDATION_FAILED",
        issues=issues,
    )


def answer_of(result: Recorded | inv.PbossError) -> object:
    """The GraphQL answer to one message: recorded, or its typed refusal."""
    if isinstance(result, Recorded):
        return recorded_of(result)
    if isinstance(result, inv.NotFound):
        return NotFound.of(result.element_id, result.kind)
    if isinstance(result, prov.Conflict):
        return Conflict(message=result.message, code="CONFLICT", reasons=result.reasons)
    if isinstance(result, prov.InvalidRequest):
        problems: list[tuple[str | None, str]] = [(None, r) for r in result.reasons]
        return _invalid([(None, result.message), *problems])
    raise result


_EXPECTED = (inv.NotFound, prov.Conflict, prov.InvalidRequest)


@strawberry.type
class CrmMutation:
    """CRM reports what happened on its side; pboss records, reconciles and reports mismatches."""

    @strawberry.mutation(
        description="Record one CRM status message about an order, a port or a package and "
        "reconcile it with pboss; disagreements open mismatches (crmMismatches), with events."
    )
    async def report_crm_status(
        self, info: Info, input: CrmStatusReportInput
    ) -> ReportCrmStatusPayload:
        ctx = info.context
        refusal = write_refused(ctx)
        if refusal is not None:
            return refusal
        message = to_message(input)
        if not isinstance(message, StatusMessage):
            return _invalid(message)
        try:
            result: Recorded | inv.PbossError = await ctx.call(
                service_of(ctx).report, message, actor=ctx.principal.actor
            )
        except _EXPECTED as exc:
            result = exc
        finally:
            ctx.loaders.forget()
        return answer_of(result)  # type: ignore[return-value]

    @strawberry.mutation(
        description=f"Up to {fb.MAX_BATCH} CRM status messages, each its own transaction with "
        "its own answer (in order); a malformed one refuses the whole call before anything."
    )
    async def report_crm_statuses(
        self, info: Info, inputs: list[CrmStatusReportInput]
    ) -> ReportCrmStatusesPayload:
        ctx = info.context
        refusal = write_refused(ctx)
        if refusal is not None:
            return refusal
        if not 1 <= len(inputs) <= fb.MAX_BATCH:
            reason = f"give 1 to {fb.MAX_BATCH} messages, got {len(inputs)}"
            return ValidationError.single("inputs", reason)
        messages: list[StatusMessage] = []
        problems: list[Issue] = []
        for i, given in enumerate(inputs):
            message = to_message(given)
            if isinstance(message, StatusMessage):
                messages.append(message)
            else:
                problems += _invalid(message, i).issues
        if problems:
            return ValidationError(
                message=f"{len(problems)} problem(s) in the messages; nothing was recorded: "
                + "; ".join(f"{p.item}.{p.field or ''}: {p.reason}" for p in problems[:20]),
                code="VALIDATION_FAILED",
                issues=problems,
            )
        try:
            results = await ctx.call(
                service_of(ctx).report_many, messages, actor=ctx.principal.actor
            )
        finally:
            ctx.loaders.forget()
        recorded = [r for r in results if isinstance(r, Recorded)]
        return CrmStatusBatch(
            results=[answer_of(r) for r in results],  # type: ignore[misc]
            recorded=sum(1 for r in recorded if not r.duplicate),
            duplicates=sum(1 for r in recorded if r.duplicate),
            refused=len(results) - len(recorded),
        )
