"""Status feedback queries: the mismatches (filtered, paged, with totals) and what CRM said about
one subject. CRM, engineers and admins read them; partner keys are refused (the feedback is
about the operator's sales and customers)."""

from __future__ import annotations

import strawberry

from pboss.crm.feedback_model import MismatchKind
from pboss.crm.feedback_reads import feedback_of, list_mismatches
from pboss.graphql.connections import decode_cursor, page_size
from pboss.graphql.context import Context, Info
from pboss.graphql.crm.types import (
    MISMATCH_CURSOR,
    CrmMismatchesResult,
    CrmMismatchKind,
    CrmStatusReportsResult,
    connection_of,
    subject_feedback_of,
)
from pboss.graphql.errors import Forbidden, NotFound
from pboss.inventory import errors as inv

#: Roles that read status feedback.
READ_ROLES = frozenset({"crm", "engineer", "admin"})


def read_refused(ctx: Context) -> Forbidden | None:
    """Forbidden unless the caller's role reads status feedback."""
    if ctx.principal.role in READ_ROLES:
        return None
    return Forbidden.of("read CRM status feedback", ctx.principal.role)


@strawberry.type
class CrmQuery:
    """Mismatches between CRM's feedback and pboss, and the feedback about one subject."""

    @strawberry.field(
        description="Mismatches by id: open only (open: true), resolved only (false) or both "
        "(omitted), of these kinds (all when omitted); totalCount counts the filtered list."
    )
    async def crm_mismatches(
        self,
        info: Info,
        open: bool | None = None,
        kind: list[CrmMismatchKind] | None = None,  # type: ignore[valid-type]
        first: int = 50,
        after: str | None = None,
    ) -> CrmMismatchesResult:
        ctx = info.context
        refusal = read_refused(ctx)
        if refusal is not None:
            return refusal
        size = page_size(first)
        start = decode_cursor(MISMATCH_CURSOR, after)
        kinds = [MismatchKind(k) for k in kind] if kind else None
        page = await ctx.call(
            list_mismatches, ctx.store, open=open, kinds=kinds, first=size, after=start
        )
        return connection_of(page)

    @strawberry.field(
        description="What CRM reported about one subject (its order id or CRM's order id, a "
        "port id, a package id), newest first, with its mismatches open and resolved."
    )
    async def crm_status_reports(
        self, info: Info, subject: strawberry.ID, first: int = 50
    ) -> CrmStatusReportsResult:
        ctx = info.context
        refusal = read_refused(ctx)
        if refusal is not None:
            return refusal
        size = page_size(first)
        try:
            found = await ctx.call(feedback_of, ctx.store, ctx.catalog, str(subject), first=size)
        except inv.NotFound as exc:
            return NotFound.of(exc.element_id, exc.kind)
        return subject_feedback_of(found)
