"""The statistics reports, field KPIs, partner scorecards and the customer's rating over GraphQL.

Reports answer as tables (columns, rows, total, and the same table as CSV), so the console and a
download show the figures the API does. The operator's roles read every report; a partner key
reads only its own scorecard, its own KPIs and its own line of partner usage (no customer data is
in any of them). CRM rates jobs.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from pboss.field import kpis, reports
from pboss.field.ratings import rate
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Forbidden, NotFound, UserInputError, ValidationError
from pboss.graphql.provisioning.access import service_of
from pboss.graphql.provisioning.types import InvalidState, WorkOrder, error_of, work_order_of
from pboss.inventory import errors as inv
from pboss.provisioning import errors as prov

#: Roles that read every report.
REPORT_ROLES = frozenset({"crm", "engineer", "admin"})
#: Most rows a report answers with (its CSV holds the same rows; totalCount counts all).
MAX_ROWS = 5000


@strawberry.enum(description="What a utilisation report is about.")
class UtilisationKind(Enum):
    OLT = "OLT"
    PON_PORT = "PonPort"
    SPLITTER = "Splitter"
    TRUNK_SECTION = "TrunkSection"
    PARTNER_LINK = "PartnerLink"
    PARTNER_POOL = "PartnerAccess"


@strawberry.enum(description="How field KPIs are grouped.")
class KpiGroup(Enum):
    CREW = "crew"
    PARTNER = "partner"
    PRODUCT = "product"


@strawberry.type(description="A report as a table: its columns, rows (plain values in column "
                 "order), how many rows it has in all, and the same rows as CSV.")  # fmt: skip
class ReportTable:
    name: str
    columns: list[str]
    rows: JSON
    total_count: int
    truncated: bool
    csv: str


@strawberry.type(description="Field KPIs of one crew, partner or product in one month.")
class FieldKpi:
    key: str
    month: str
    jobs: int = strawberry.field(description="Work orders closed (done or failed) in the month.")
    done: int
    on_time_rate: float | None = strawberry.field(description="Closed jobs done within SLA.")
    median_hours: float | None
    p90_hours: float | None
    first_time_right_rate: float | None = strawberry.field(
        description="Done jobs with no trouble ticket for the customer within 30 days."
    )
    shifts: int | None
    jobs_per_shift: float | None
    average_rating: float | None
    ratings: int
    score: float | None = strawberry.field(
        description="Scorecard score out of 100 (on-time 50, first-time-right 30, rating 20)."
    )


def _table(report: reports.Report, first: int) -> ReportTable:
    if not 1 <= first <= MAX_ROWS:
        raise UserInputError(f"first must be 1..{MAX_ROWS}")
    shown = reports.Report(report.name, report.columns, report.rows[:first])
    return ReportTable(
        name=report.name,
        columns=list(report.columns),
        rows=[list(r) for r in shown.rows],
        total_count=len(report.rows),
        truncated=len(report.rows) > first,
        csv=shown.csv(),
    )


def _kpi(row: kpis.KpiRow) -> FieldKpi:
    return FieldKpi(
        key=row.key, month=row.month, jobs=row.jobs, done=row.done,
        on_time_rate=row.on_time_rate, median_hours=row.median_hours, p90_hours=row.p90_hours,
        first_time_right_rate=row.first_time_right_rate, shifts=row.shifts,
        jobs_per_shift=row.jobs_per_shift, average_rating=row.average_rating,
        ratings=len(row.ratings), score=row.score,
    )  # fmt: skip


def _operator_only(ctx: Context, what: str) -> None:
    if ctx.principal.role not in REPORT_ROLES:
        raise UserInputError(f"{what} is not allowed for this role", "FORBIDDEN")


def _month(month: str) -> str:
    try:
        kpis.month_window(month)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    return month


@strawberry.type
class FieldReportQuery:
    """Utilisation, take-up, partner usage, SLA attainment, open work, KPIs and scorecards."""

    @strawberry.field(description="Resources of one kind, fullest first (at one site, or all; "
                      "at or above minShare of their capacity taken).")  # fmt: skip
    async def utilisation_report(
        self, info: Info, kind: UtilisationKind, site: strawberry.ID | None = None,
        min_share: float = 0.0, first: int = 500,
    ) -> ReportTable:  # fmt: skip
        ctx = info.context
        _operator_only(ctx, "reading utilisation")
        site_id = str(site) if site else None
        report = await ctx.call(reports.utilisation, ctx.store, kind.value, site_id, min_share)
        return _table(report, first)

    @strawberry.field(description="Households passed against connected, per building/estate.")
    async def take_up_report(
        self, info: Info, region: strawberry.ID | None = None, first: int = 500
    ) -> ReportTable:
        ctx = info.context
        _operator_only(ctx, "reading take-up")
        report = await ctx.call(reports.take_up, ctx.store, str(region) if region else None)
        return _table(report, first)

    @strawberry.field(description="Per partner: links (lines, VC-12) and pools (households); "
                      "a partner key sees its own line only.")  # fmt: skip
    async def partner_usage_report(self, info: Info, first: int = 500) -> ReportTable:
        ctx = info.context
        report = await ctx.call(reports.partner_usage, ctx.store)
        if ctx.principal.is_partner:
            mine = [r for r in report.rows if r[0] == ctx.principal.partner_id]
            report = reports.Report(report.name, report.columns, mine)
        else:
            _operator_only(ctx, "reading partner usage")
        return _table(report, first)

    @strawberry.field(description="Per product and partner: work closed in the month (YYYY-MM), "
                      "on time, late, failed, and the attainment rate.")  # fmt: skip
    async def sla_attainment_report(self, info: Info, month: str, first: int = 500) -> ReportTable:
        ctx = info.context
        _operator_only(ctx, "reading SLA attainment")
        report = await ctx.call(reports.sla_attainment, ctx.store, _month(month))
        return _table(report, first)

    @strawberry.field(description="Open work orders by purpose, assignee and age (hours).")
    async def open_work_by_age_report(self, info: Info, first: int = 500) -> ReportTable:
        ctx = info.context
        _operator_only(ctx, "reading open work")
        now = service_of(ctx).clock()  # the app's one clock (tests move it)
        report = await ctx.call(reports.open_work_by_age, ctx.store, now)
        return _table(report, first)

    @strawberry.field(description="Field KPIs of a month (YYYY-MM) per crew, partner or product; "
                      "a partner key gets its own partner line and crews only.")  # fmt: skip
    async def field_kpis(self, info: Info, month: str, group_by: KpiGroup) -> list[FieldKpi]:
        ctx = info.context
        rows = await ctx.call(kpis.kpis, ctx.store, _month(month), group_by.value)
        if ctx.principal.is_partner:
            rows = await _partners_own(ctx, rows, group_by)
        else:
            _operator_only(ctx, "reading field KPIs")
        return [_kpi(r) for r in rows]

    @strawberry.field(description="Partner scorecards of a month (YYYY-MM), best first; the "
                      "operator's own crews as `self`; a partner key gets its own.")  # fmt: skip
    async def partner_scorecards(self, info: Info, month: str) -> list[FieldKpi]:
        ctx = info.context
        rows = await ctx.call(kpis.scorecards, ctx.store, _month(month))
        if ctx.principal.is_partner:
            rows = [r for r in rows if r.key == ctx.principal.partner_id]
        else:
            _operator_only(ctx, "reading scorecards")
        return [_kpi(r) for r in rows]


async def _partners_own(
    ctx: Context, rows: list[kpis.KpiRow], group: KpiGroup
) -> list[kpis.KpiRow]:
    """A partner's share of KPI rows: its own partner line, or its own crews."""
    partner = ctx.principal.partner_id
    if group == KpiGroup.PARTNER:
        return [r for r in rows if r.key == partner]
    if group == KpiGroup.CREW:
        crews = await ctx.call(ctx.store.get_many, [r.key for r in rows])
        return [r for r in rows if (c := crews.get(r.key)) is not None and c.owner == partner]
    raise UserInputError("a partner key reads KPIs by partner or crew", "FORBIDDEN")


RateWorkOrderPayload = Annotated[
    WorkOrder | InvalidState | NotFound | ValidationError | Forbidden,
    strawberry.union("RateWorkOrderPayload"),
]


@strawberry.type
class FieldReportMutation:
    """CRM's report of the customer's rating."""

    @strawberry.mutation(description="The customer's rating (1-5) and comment of an accepted job, "
                         "sent by CRM once; the same rating again changes nothing.")  # fmt: skip
    async def rate_work_order(
        self, info: Info, work_order_id: strawberry.ID, rating: int, comment: str | None = None
    ) -> RateWorkOrderPayload:
        ctx = info.context
        if ctx.principal.role not in REPORT_ROLES - {"engineer"}:
            return Forbidden.of("rate work orders", ctx.principal.role)
        try:
            wo, _ = await ctx.call(
                rate, ctx.store, str(work_order_id), rating, comment, actor=ctx.principal.actor,
                clock=service_of(ctx).clock,
            )  # fmt: skip
        except (inv.NotFound, prov.InvalidState) as exc:
            return error_of(exc)
        except ValueError as exc:
            return ValidationError.single(f"WorkOrder {work_order_id}", str(exc), "rating")
        finally:
            ctx.loaders.forget()
        return work_order_of(wo)
