"""Reports at /ui/reports: utilisation, take-up, SLA attainment and partner scorecards as charts,
each with its numbers as a table (the chart's text alternative) and as a CSV download.

Every chart is one `Chart`: the rows it plots, taken from the API's report tables (asked of the
in-process GraphQL schema in the caller's context, so a partner key reads only what the API lets
it: its own scorecard; utilisation, take-up and SLA attainment are the operator's). The picture
(`/ui/reports/<name>.svg`), the table and the CSV (`/ui/reports/<name>.csv`) are all made from
those same rows, so the download holds exactly the chart's numbers. Filters are GET parameters:
`period` (a month, YYYY-MM; default this month), `site`, `partner` ("self" for the operator's own
crews and resources) and `kind` (what the utilisation chart is about). The charts are drawn on the
server by `pboss.console.charts` (matplotlib SVG; its docstring says why).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from pboss.console.ask import ConsoleQueryError, caller, context_for
from pboss.console.charts import Series, bar_chart
from pboss.console.render import PRIVATE_HEADERS, csv_download, page, svg
from pboss.graphql.provisioning.access import service_of

router = APIRouter()

#: How many bars a chart shows at most (the fullest, the largest); its note says of how many.
TOP = 25
#: Most rows asked of a report table (the API's own ceiling).
MAX_ROWS = 5000
#: What the utilisation chart can be about: the API's UtilisationKind, as the form names it.
KINDS: dict[str, str] = {
    "OLT": "OLTs",
    "PON_PORT": "PON ports",
    "SPLITTER": "splitters",
    "TRUNK_SECTION": "trunk sections",
    "PARTNER_LINK": "partner links",
    "PARTNER_POOL": "partner access pools",
}
DEFAULT_KIND = "PON_PORT"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class BadFilter(Exception):
    """The report filters cannot be used: what is wrong with each, to show the user."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


class Refused(Exception):
    """The API would not give this caller a report (its role or partner may not read it)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Filters:
    """The report filters of one request, checked."""

    period: str
    site: str | None
    partner: str | None
    kind: str

    def query(self) -> str:
        """The filters as a query string (for the chart's picture and CSV links)."""
        values = {"period": self.period, "site": self.site, "partner": self.partner}
        values["kind"] = self.kind
        return urlencode({k: v for k, v in values.items() if v})


@dataclass(frozen=True)
class Chart:
    """One chart: the rows it plots (also its table and CSV) and how they are drawn."""

    name: str
    title: str
    note: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    labels: list[str]
    series: list[Series]
    axis: str
    percent: bool = False
    limit: float | None = None

    def csv(self) -> str:
        """The chart's rows as CSV: a header, then one line per bar."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(("" if v is None else v for v in row) for row in self.rows)
        return out.getvalue()

    def svg(self) -> str:
        """The chart as an SVG document."""
        return bar_chart(
            self.title, self.labels, self.series, self.axis, percent=self.percent, limit=self.limit
        )

    def description(self) -> str:
        """The chart in words (the picture's alt text)."""
        if not self.rows:
            return f"{self.title}: no data for these filters."
        shown = []
        for label, n in zip(self.labels[:5], range(5), strict=False):
            values = ", ".join(f"{s.name} {_fmt(s.values[n], self.percent)}" for s in self.series)
            shown.append(f"{label}: {values}")
        more = f"; {len(self.rows) - 5} more in the table" if len(self.rows) > 5 else ""
        return f"Bar chart, {self.title}. " + "; ".join(shown) + more + "."


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.1f}%" if percent else f"{value:g}"


@dataclass(frozen=True)
class Unavailable:
    """A chart the caller may not see, or that the API could not answer: why."""

    name: str
    title: str
    messages: list[str]


# --- asking the API -------------------------------------------------------------------------


async def _ask(request: Request, document: str, variables: dict[str, Any]) -> Any:
    """Run one query for the caller: its data, Refused when the API forbids it, or
    ConsoleQueryError for any other error."""
    schema = request.app.state.pboss_schema
    result = await schema.execute(document, variables, context_for(request))
    if result.errors:
        messages = [error.message for error in result.errors]
        codes = {(error.extensions or {}).get("code") for error in result.errors}
        if "FORBIDDEN" in codes:
            raise Refused(messages)
        raise ConsoleQueryError(messages)
    return result.data


TABLE = "{ columns rows totalCount truncated }"


async def _table(
    request: Request, field: str, args: str, variables: dict[str, Any], first: int = MAX_ROWS
) -> Any:
    """One of the API's report tables (its first `first` rows; totalCount counts all)."""
    document = f"query Report{args} {{ report: {field} }}"
    data = await _ask(request, document, {**variables, "first": first})
    return data["report"]


async def partner_names(request: Request) -> dict[str, str]:
    """The partners this caller may see, by id (their names), plus "self" (our own)."""
    own = caller(request).partner_id
    if own is not None:  # a partner filters on itself only (its list hides the operator's rows)
        mine = await _ask(
            request,
            "query Own($id: ID!) { element(id: $id) { ... on Partner { name } } }",
            {"id": own},
        )
        return {own: mine["element"].get("name") or own}
    data = await _ask(
        request,
        'query Partners { elements(kind: "Partner", first: 500) { edges { node { id name } } } }',
        {},
    )
    names = {"self": "own (operator)"}
    names.update({e["node"]["id"]: e["node"]["name"] for e in data["elements"]["edges"]})
    return names


async def _site_exists(request: Request, site: str) -> bool:
    data = await _ask(
        request,
        "query Site($id: ID!) { element(id: $id) { __typename } }",
        {"id": site},
    )
    return data["element"]["__typename"] == "Site"


def this_month(request: Request) -> str:
    """The current month by the app's clock (the one the API's reports use)."""
    return service_of(context_for(request)).clock().strftime("%Y-%m")


async def check_filters(
    request: Request,
    partners: dict[str, str],
    period: str | None,
    site: str | None,
    partner: str | None,
    kind: str | None,
) -> Filters:
    """The request's filters, checked: BadFilter naming each one that cannot be used."""
    problems = []
    period = (period or "").strip() or this_month(request)
    if not MONTH.match(period):
        problems.append(f"period must be a month written YYYY-MM (e.g. 2026-11), not {period!r}")
    kind = (kind or "").strip().upper() or DEFAULT_KIND
    if kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    site = (site or "").strip() or None
    if site is not None and not await _site_exists(request, site):
        problems.append(f"site {site!r} is not a site you can see")
    partner = (partner or "").strip() or None
    own = caller(request).partner_id
    if own is not None and partner not in (None, own):
        problems.append(f"a partner key sees only its own partner ({own}), not {partner!r}")
    elif partner is not None and partner not in partners:
        problems.append(f"partner must be one of {', '.join(partners)}, not {partner!r}")
    if problems:
        raise BadFilter(problems)
    return Filters(period=period, site=site, partner=partner or own, kind=kind)


# --- the charts -------------------------------------------------------------------------------


def _of(partner: str | None, partners: dict[str, str]) -> str:
    return f" of {partners.get(partner, partner)}" if partner else ""


async def utilisation_chart(request: Request, f: Filters, partners: dict[str, str]) -> Chart:
    """The fullest resources of the chosen kind (at the site, of the partner), by share taken."""
    table = await _table(
        request,
        "utilisationReport(kind: $kind, site: $site, first: $first) " + TABLE,
        "($kind: UtilisationKind!, $site: ID, $first: Int!)",
        {"kind": f.kind, "site": f.site},
        # the API answers fullest first: without a partner to filter on, the top rows suffice
        first=MAX_ROWS if f.partner else TOP,
    )
    cols = table["columns"]
    at = {c: cols.index(c) for c in cols}
    rows = [r for r in table["rows"] if f.partner in (None, r[at["owner"]])]
    total = len(rows) if f.partner else table["totalCount"]
    shown = rows[:TOP]
    columns = ("id", "name", "site", "owner", "capacity", "used", "held", "free", "share")
    out = [tuple(r[at[c]] for c in columns) for r in shown]
    what = KINDS[f.kind]
    where = f" at {f.site}" if f.site else ""
    return Chart(
        name="utilisation",
        title=f"Utilisation: fullest {what}{where}{_of(f.partner, partners)}",
        note=f"The {len(out)} fullest of {total} {what}{where}{_of(f.partner, partners)}, "
        "by share of capacity used or held; now (not by period).",
        columns=columns,
        rows=out,
        labels=[f"{r[0]} {r[1]}".strip() for r in out],
        series=[Series("share taken", [float(r[-1]) for r in out])],
        axis="share of capacity used or held",
        percent=True,
        limit=1.0,
    )


async def take_up_chart(request: Request, f: Filters, partners: dict[str, str]) -> Chart:
    """The buildings and estates with most households passed, by share connected."""
    if f.partner not in (None, "self") and caller(request).partner_id is None:
        raise Refused(["take-up is the operator's own households; it has no partner filter"])
    table = await _table(request, "takeUpReport(first: $first) " + TABLE, "($first: Int!)", {})
    cols = table["columns"]
    at = {c: cols.index(c) for c in cols}
    rows = [r for r in table["rows"] if f.site in (None, r[at["site"]])]
    rows.sort(key=lambda r: (-r[at["households"]], r[at["site"]]))
    columns = ("site", "name", "site_type", "region", "households", "connected", "take_up")
    out = [tuple(r[at[c]] for c in columns) for r in rows[:TOP]]
    where = f" at {f.site}" if f.site else ""
    return Chart(
        name="take-up",
        title=f"Take-up: households connected{where}",
        note=f"The {len(out)} buildings and estates with most households passed, of "
        f"{len(rows)}{where}; now (not by period).",
        columns=columns,
        rows=out,
        labels=[f"{r[1]} ({r[0]})" for r in out],
        series=[Series("take-up", [float(r[-1]) for r in out])],
        axis="share of households passed that are connected",
        percent=True,
        limit=1.0,
    )


async def sla_chart(request: Request, f: Filters, partners: dict[str, str]) -> Chart:
    """Work closed in the period per product and partner: on time, late, failed."""
    table = await _table(
        request,
        "slaAttainmentReport(month: $month, first: $first) " + TABLE,
        "($month: String!, $first: Int!)",
        {"month": f.period},
    )
    cols = table["columns"]
    at = {c: cols.index(c) for c in cols}
    rows = [r for r in table["rows"] if f.partner in (None, r[at["partner"]])]
    rows.sort(key=lambda r: (-r[at["closed"]], r[at["product"]], r[at["partner"]]))
    columns = ("product", "partner", "closed", "on_time", "late", "failed", "attainment")
    out = [tuple(r[at[c]] for c in columns) for r in rows[:TOP]]
    return Chart(
        name="sla",
        title=f"SLA attainment {f.period}{_of(f.partner, partners)}",
        note=f"Work orders closed in {f.period} per product and who did them "
        f"({len(out)} of {len(rows)} lines); attainment = on time / closed. Not by site.",
        columns=columns,
        rows=out,
        labels=[f"{r[0]} · {partners.get(r[1], r[1])}" for r in out],
        series=[
            Series("on time", [r[3] for r in out]),
            Series("late", [r[4] for r in out]),
            Series("failed", [r[5] for r in out]),
        ],
        axis="work orders closed",
    )


SCORECARD = "{ key jobs done onTimeRate firstTimeRightRate averageRating score }"


async def scorecard_chart(request: Request, f: Filters, partners: dict[str, str]) -> Chart:
    """Partner scorecards of the period (the operator's own crews as "self"), best first."""
    data = await _ask(
        request,
        f"query Scorecards($month: String!) {{ partnerScorecards(month: $month) {SCORECARD} }}",
        {"month": f.period},
    )
    cards = [c for c in data["partnerScorecards"] if f.partner in (None, c["key"])]
    columns = ("partner", "jobs", "done", "on_time_rate", "first_time_right_rate",
               "average_rating", "score")  # fmt: skip
    keys = ("key", "jobs", "done", "onTimeRate", "firstTimeRightRate", "averageRating", "score")
    out = [tuple(c[k] for k in keys) for c in cards[:TOP]]
    return Chart(
        name="scorecards",
        title=f"Partner scorecards {f.period}{_of(f.partner, partners)}",
        note=f"Score out of 100 (on time 50, first time right 30, rating 20) of the work closed "
        f"in {f.period}; best first. Not by site.",
        columns=columns,
        rows=out,
        labels=[f"{partners.get(r[0], r[0])} ({r[0]})" for r in out],
        series=[Series("score", [r[-1] or 0.0 for r in out])],
        axis="score (out of 100)",
        limit=100.0,
    )


Builder = Callable[[Request, Filters, dict[str, str]], Awaitable[Chart]]
#: The page's charts in order: (name, title, how it is built).
CHARTS: tuple[tuple[str, str, Builder], ...] = (
    ("utilisation", "Utilisation", utilisation_chart),
    ("take-up", "Take-up", take_up_chart),
    ("sla", "SLA attainment", sla_chart),
    ("scorecards", "Partner scorecards", scorecard_chart),
)
BUILDERS = {name: build for name, _, build in CHARTS}


# --- the routes -------------------------------------------------------------------------------


@router.get("/ui/reports")
async def reports_page(
    request: Request,
    period: str | None = None,
    site: str | None = None,
    partner: str | None = None,
    kind: str | None = None,
) -> Response:
    """The reports page: the filters, then every chart the caller may see."""
    principal = caller(request)
    partners = await partner_names(request)
    form = {"period": period or "", "site": site or "", "partner": partner or "",
            "kind": (kind or DEFAULT_KIND).upper()}  # fmt: skip
    context: dict[str, Any] = {
        "kinds": KINDS, "partners": partners, "form": form, "principal": principal,
        "errors": [], "charts": [], "query": "",
    }  # fmt: skip
    try:
        filters = await check_filters(request, partners, period, site, partner, kind)
    except BadFilter as exc:
        context["errors"] = exc.messages
        return page(request, "reports.html", "Reports", status_code=400, **context)
    form.update(period=filters.period, partner=filters.partner or "", kind=filters.kind)

    async def one(name: str, title: str, build: Builder) -> Chart | Unavailable:
        try:
            return await build(request, filters, partners)
        except (Refused, ConsoleQueryError) as exc:
            return Unavailable(name, title, exc.messages)

    # the four reports' reads overlap (each runs on the store's threads)
    charts = await asyncio.gather(*(one(*spec) for spec in CHARTS))
    context.update(charts=charts, query=filters.query())
    return page(request, "reports.html", "Reports", **context)


async def _one_chart(
    request: Request,
    name: str,
    period: str | None,
    site: str | None,
    partner: str | None,
    kind: str | None,
) -> Chart | Response:
    """One chart for its picture or CSV, or the plain-text answer saying why not."""
    build = BUILDERS.get(name)
    if build is None:
        return _plain(f"no report chart {name!r}; there are {', '.join(BUILDERS)}", 404)
    partners = await partner_names(request)
    try:
        filters = await check_filters(request, partners, period, site, partner, kind)
        return await build(request, filters, partners)
    except BadFilter as exc:
        return _plain("; ".join(exc.messages), 400)
    except Refused as exc:
        return _plain("; ".join(exc.messages), 403)
    except ConsoleQueryError as exc:
        return _plain("; ".join(exc.messages), 400)


def _plain(text: str, status: int) -> Response:
    return PlainTextResponse(text, status_code=status, headers=PRIVATE_HEADERS)


@router.get("/ui/reports/{name}.csv")
async def chart_csv(
    request: Request,
    name: str,
    period: str | None = None,
    site: str | None = None,
    partner: str | None = None,
    kind: str | None = None,
) -> Response:
    """A chart's numbers as CSV (exactly the rows it plots)."""
    chart = await _one_chart(request, name, period, site, partner, kind)
    if isinstance(chart, Response):
        return chart
    return csv_download(chart.csv(), f"{_filename(chart, period, site, partner, kind)}.csv")


@router.get("/ui/reports/{name}.svg")
async def chart_svg(
    request: Request,
    name: str,
    period: str | None = None,
    site: str | None = None,
    partner: str | None = None,
    kind: str | None = None,
    download: str | None = None,
) -> Response:
    """A chart as SVG (drawn in a worker thread); `download=1` offers it as a file."""
    chart = await _one_chart(request, name, period, site, partner, kind)
    if isinstance(chart, Response):
        return chart
    body = await run_in_threadpool(chart.svg)
    filename = f"{_filename(chart, period, site, partner, kind)}.svg" if download else None
    return svg(body, filename)


def _filename(chart: Chart, *parts: str | None) -> str:
    """A download's name: the chart and its filters, in safe characters."""
    words = [chart.name, *(p for p in parts if p)]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(words))
