"""The queues page (`/ui/queues`): orders, work orders, incidents and cutover plans as tables, each
asked through its GraphQL list query with the filters that query takes, as GET parameters (a
filtered view is a link), paged by the API's cursors, with the API's totals. A partner key gets
exactly what the API gives it: its own work, incidents and plans, no orders, no household data.

Every parameter is checked before anything is asked: a wrong one answers 400 with the reason on
the page (never a 500, never a silently ignored filter).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pboss.console.ask import ask, caller
from pboss.console.render import page
from pboss.graphql.provisioning.access import PROVISIONING_ROLES

router = APIRouter()

DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_PLANS = 500

ORDER_STATES = (
    "ACKNOWLEDGED",
    "IN_PROGRESS",
    "HELD",
    "PENDING",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
)
WORK_STATES = ("OPEN", "HELD", "DONE", "FAILED", "CANCELLED")
INCIDENT_STATES = ("OPEN", "CONFIRMED", "RESOLVED", "CLOSED", "CANCELLED")
PRIORITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
CUTOVER_STATES = (
    "DRAFT",
    "APPROVED",
    "SCHEDULED",
    "IN_PROGRESS",
    "COMPLETED",
    "ROLLED_BACK",
    "CANCELLED",
)
PURPOSES = ("construction", "repair")
YES_NO = ("yes", "no")


class BadQueueRequest(Exception):
    """A queue parameter the page cannot use: its message, shown with a 400."""


@dataclass(frozen=True)
class Filter:
    """One filter of a tab: a GET parameter, its label, and its choices (free text without)."""

    name: str
    label: str
    choices: tuple[str, ...] = ()
    hint: str = ""

    def read(self, params: Mapping[str, str]) -> str | None:
        """The filter's value from the query string (None when not given), checked."""
        value = (params.get(self.name) or "").strip()
        if not value:
            return None
        if self.choices and value not in self.choices:
            allowed = ", ".join(self.choices)
            raise BadQueueRequest(f"{self.label}: {value!r} is not one of {allowed}.")
        if len(value) > 200:
            raise BadQueueRequest(f"{self.label}: at most 200 characters.")
        return value


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and, when it leads somewhere, the link."""

    text: str
    href: str | None = None
    cls: str = ""


@dataclass
class Table:
    """One tab's answer: headings, rows, totals, and the next page's cursor."""

    headings: tuple[str, ...]
    rows: list[list[list[Cell]]] = field(default_factory=list)
    totals: list[tuple[str, int]] = field(default_factory=list)
    next_after: str | None = None
    notice: str | None = None


def _link(path: str, **params: str) -> str:
    return path + "?" + urlencode(params)


def _site_cells(sites: list[str | None]) -> list[Cell]:
    return [Cell(s, _link("/ui/map", site=s)) for s in sites if s]


def _when(value: str | None) -> str:
    """An API timestamp shown to the minute (UTC)."""
    return value[:16].replace("T", " ") if value else ""


ORDERS = """
query QueueOrders($first: Int!, $after: String, $text: String) {
  orders(first: $first, after: $after, text: $text) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id crmOrderId product technology siteId aSiteId zSiteId customerId state
                   createdAt updatedAt } }
  }
}
"""
WORK_ORDERS = """
query QueueWork($first: Int!, $after: String, $state: WorkOrderState, $site: ID, $purpose: String,
                $partner: String, $crew: ID, $inJeopardy: Boolean, $breached: Boolean,
                $unassigned: Boolean) {
  workOrders(first: $first, after: $after, state: $state, site: $site, purpose: $purpose,
             partner: $partner, crew: $crew, inJeopardy: $inJeopardy, breached: $breached,
             unassigned: $unassigned) {
    totals { total open held inJeopardy breached } pageInfo { hasNextPage endCursor }
    edges { node { id purpose state site product assignee assigneeType crewId orderId incidentId
                   dueAt jeopardy breached slaTier } }
  }
}
"""
INCIDENTS = """
query QueueIncidents($first: Int!, $after: String, $states: [IncidentState!], $site: String,
                     $resource: ID, $partner: String, $priority: IncidentPriority) {
  incidents(first: $first, after: $after, states: $states, site: $site, resource: $resource,
            partner: $partner, priority: $priority) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id state priority suspected sites products partners createdAt dueAt
                   jeopardy breached } }
  }
}
"""
CUTOVERS = """
query QueueCutovers($states: [CutoverState!], $first: Int!) {
  cutoverPlans(states: $states, first: $first) {
    id name move state windowStart windowEnd source target partners riders createdBy
  }
}
"""


def _yes_no(value: str | None) -> bool | None:
    return None if value is None else value == "yes"


async def _orders(request: Request, v: dict[str, Any], first: int, after: str | None) -> Table:
    table = Table(("Order", "CRM order", "Product", "Sites", "Customer", "State", "Updated"))
    if caller(request).role not in PROVISIONING_ROLES:
        table.notice = "This key's role does not read orders (the API gives it none)."
        return table
    data = (await ask(request, ORDERS, {"first": first, "after": after, "text": v.get("text")}))[
        "orders"
    ]
    for edge in data["edges"]:
        o = edge["node"]
        table.rows.append(
            [
                [Cell(o["id"], _link("/ui/search", q=o["id"]))],
                [Cell(o["crmOrderId"])],
                [Cell(o["product"]), Cell(o["technology"], cls="muted")],
                _site_cells([o["siteId"], o["aSiteId"], o["zSiteId"]]),
                [Cell(o["customerId"], _link("/ui/trace", id=o["customerId"]))],
                [Cell(o["state"], cls=f"state state-{o['state'].lower()}")],
                [Cell(_when(o["updatedAt"]))],
            ]
        )
    table.totals = [("orders", data["totalCount"])]
    table.next_after = data["pageInfo"]["endCursor"] if data["pageInfo"]["hasNextPage"] else None
    return table


async def _work_orders(request: Request, v: dict[str, Any], first: int, after: str | None) -> Table:
    table = Table(("Work order", "Purpose", "State", "Site", "Product", "Assignee", "Due", "For"))
    variables = {
        "first": first,
        "after": after,
        "state": v.get("state"),
        "site": v.get("site"),
        "purpose": v.get("purpose"),
        "partner": v.get("partner"),
        "crew": v.get("crew"),
        "inJeopardy": _yes_no(v.get("jeopardy")),
        "breached": _yes_no(v.get("breached")),
        "unassigned": _yes_no(v.get("unassigned")),
    }
    data = (await ask(request, WORK_ORDERS, variables))["workOrders"]
    for edge in data["edges"]:
        w = edge["node"]
        flags = [Cell(w["state"], cls=f"state state-{w['state'].lower()}")]
        if w["breached"]:
            flags.append(Cell("breached", cls="flag flag-breached"))
        elif w["jeopardy"]:
            flags.append(Cell("in jeopardy", cls="flag flag-jeopardy"))
        about = []
        if w["orderId"]:
            about.append(Cell(f"order {w['orderId']}", _link("/ui/search", q=w["orderId"])))
        if w["incidentId"]:
            about.append(
                Cell(f"incident {w['incidentId']}", _link("/ui/search", q=w["incidentId"]))
            )
        table.rows.append(
            [
                [Cell(w["id"], _link("/ui/search", q=w["id"]))],
                [Cell(w["purpose"])],
                flags,
                _site_cells([w["site"]]),
                [Cell(w["product"] or "")],
                [Cell(w["assignee"]), Cell(w["assigneeType"], cls="muted")],
                [Cell(_when(w["dueAt"]))],
                about,
            ]
        )
    t = data["totals"]
    table.totals = [
        ("work orders", t["total"]),
        ("open", t["open"]),
        ("held", t["held"]),
        ("in jeopardy", t["inJeopardy"]),
        ("breached", t["breached"]),
    ]
    table.next_after = data["pageInfo"]["endCursor"] if data["pageInfo"]["hasNextPage"] else None
    return table


async def _incidents(request: Request, v: dict[str, Any], first: int, after: str | None) -> Table:
    table = Table(("Incident", "State", "Priority", "Suspected", "Sites", "Products", "Due"))
    state = v.get("state")
    states = ["OPEN", "CONFIRMED"] if state == "open" else ([state] if state else None)
    variables = {
        "first": first,
        "after": after,
        "states": states,
        "site": v.get("site"),
        "resource": v.get("resource"),
        "partner": v.get("partner"),
        "priority": v.get("priority"),
    }
    data = (await ask(request, INCIDENTS, variables))["incidents"]
    for edge in data["edges"]:
        i = edge["node"]
        flags = [Cell(i["state"], cls=f"state state-{i['state'].lower()}")]
        if i["breached"]:
            flags.append(Cell("breached", cls="flag flag-breached"))
        elif i["jeopardy"]:
            flags.append(Cell("in jeopardy", cls="flag flag-jeopardy"))
        table.rows.append(
            [
                [Cell(i["id"], _link("/ui/impact", id=i["suspected"]))],
                flags,
                [Cell(i["priority"], cls=f"priority priority-{i['priority'].lower()}")],
                [Cell(i["suspected"], _link("/ui/impact", id=i["suspected"]))],
                _site_cells(i["sites"]),
                [Cell(", ".join(i["products"]))] + [Cell(p, cls="muted") for p in i["partners"]],
                [Cell(_when(i["dueAt"]))],
            ]
        )
    table.totals = [("incidents", data["totalCount"])]
    table.next_after = data["pageInfo"]["endCursor"] if data["pageInfo"]["hasNextPage"] else None
    return table


async def _cutovers(request: Request, v: dict[str, Any], first: int, after: str | None) -> Table:
    table = Table(("Plan", "Move", "State", "Window (UTC)", "Source", "Target", "Riders"))
    state = v.get("state")
    plans = (
        await ask(request, CUTOVERS, {"states": [state] if state else None, "first": MAX_PLANS})
    )["cutoverPlans"]
    for p in plans:
        table.rows.append(
            [
                [Cell(p["id"], _link("/ui/impact", id=p["source"])), Cell(p["name"], cls="muted")],
                [Cell(p["move"])],
                [Cell(p["state"], cls=f"state state-{p['state'].lower()}")],
                [Cell(f"{_when(p['windowStart'])} to {_when(p['windowEnd'])}")],
                [Cell(p["source"], _link("/ui/impact", id=p["source"]))],
                [Cell(p["target"], _link("/ui/impact", id=p["target"]))] if p["target"] else [],
                [Cell(str(len(p["riders"])))],
            ]
        )
    table.totals = [("cutover plans", len(plans))]
    if len(plans) == MAX_PLANS:
        table.notice = f"The API lists at most {MAX_PLANS} plans: narrow by state."
    return table


@dataclass(frozen=True)
class Tab:
    """One queue: its parameter, heading, filters and how its table is asked."""

    key: str
    label: str
    filters: tuple[Filter, ...]
    fetch: Callable[..., Any]
    pages: bool = True


TABS: tuple[Tab, ...] = (
    Tab(
        "orders",
        "Orders",
        (Filter("text", "Text", hint="id, CRM order id or other text the order holds"),),
        _orders,
    ),
    Tab(
        "work-orders",
        "Work orders",
        (
            Filter("state", "State", WORK_STATES),
            Filter("purpose", "Purpose", PURPOSES),
            Filter("site", "Site", hint="site id"),
            Filter("partner", "Partner", hint="partner id, e.g. P-TT"),
            Filter("crew", "Crew", hint="crew id"),
            Filter("jeopardy", "In jeopardy", YES_NO),
            Filter("breached", "Breached", YES_NO),
            Filter("unassigned", "Unassigned", YES_NO),
        ),
        _work_orders,
    ),
    Tab(
        "incidents",
        "Incidents",
        (
            Filter("state", "State", ("open", *INCIDENT_STATES), hint="open: open or confirmed"),
            Filter("priority", "Priority", PRIORITIES),
            Filter("site", "Site", hint="site id"),
            Filter("resource", "Resource", hint="a resource id on the incident"),
            Filter("partner", "Partner", hint="partner id, e.g. P-TT"),
        ),
        _incidents,
    ),
    Tab("cutover", "Cutover plans", (Filter("state", "State", CUTOVER_STATES),), _cutovers, False),
)
BY_KEY = {t.key: t for t in TABS}


def _page_size(params: Mapping[str, str]) -> int:
    raw = (params.get("first") or "").strip()
    if not raw:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadQueueRequest(f"Rows per page: a whole number from 1 to {MAX_PAGE}, not {raw!r}.")
    return int(raw)


@router.get("/ui/queues")
async def queues(request: Request) -> Response:
    """One queue's table with its filters, totals and paging; tabs for the others."""
    who = caller(request)  # LoginRequired first
    params = request.query_params
    key = params.get("tab") or "work-orders"
    tab = BY_KEY.get(key)
    base = {"tabs": TABS, "principal": who}
    if tab is None:
        known = ", ".join(t.key for t in TABS)
        problem = f"Unknown queue {key!r}: choose one of {known}."
        return page(request, "queues.html", "Queues", 400, tab=None, problem=problem, **base)
    try:
        values = {f.name: f.read(params) for f in tab.filters}
        first = _page_size(params)
    except BadQueueRequest as bad:
        return page(
            request, "queues.html", "Queues", 400, tab=tab, problem=str(bad), values={}, **base
        )
    after = params.get("after") or None
    table: Table = await tab.fetch(request, values, first, after)
    kept = {k: v for k, v in values.items() if v}
    kept["tab"] = tab.key
    if params.get("first"):
        kept["first"] = str(first)
    return page(
        request,
        "queues.html",
        "Queues",
        tab=tab,
        values=values,
        table=table,
        first=first,
        paged=after is not None,
        first_page=_link("/ui/queues", **kept),
        next_page=_link("/ui/queues", **kept, after=table.next_after) if table.next_after else None,
        problem=None,
        **base,
    )
