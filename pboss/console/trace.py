"""The trace page: a circuit's, service's or customer's path as a picture, `/ui/trace?id=…`, and
the same picture alone at a stable URL, `/ui/trace/<id>.svg` (`?download=1` to save it).

Everything comes from the API in the caller's context: the `trace` query (hops in path order with
owner, partner name, slots and capacity), then, only for the hops that are not healthy, the raised
alarms and open incidents on them in one aliased query (usually none; at most `MAX_FAULT_LOOKUPS`
hops). A partner key sees what the API shows it: customers are NotFound, other owners' hops absent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from pboss.console.ask import ask
from pboss.console.render import PRIVATE_HEADERS, page, svg
from pboss.console.trace_svg import HopBox, TracePicture, TraceRow, render_trace_svg
from pboss.console.validate import check_text

router = APIRouter()

#: Hops whose alarms and incidents one page looks up (two aliases each; the API allows 50).
MAX_FAULT_LOOKUPS = 12
DOWN_STATUSES = frozenset({"FAULTY", "RETIRED"})
DEGRADED_STATUSES = frozenset({"MAINTENANCE"})
OPEN_INCIDENTS = "[OPEN, CONFIRMED]"

TRACE_QUERY = """
fragment HopFields on Hop {
  position role status owner isPartner seq slots capacity used
  element { id kind name site { id name } }
  partner { id name }
}
fragment TraceFields on Trace {
  root { id kind name owner partner { name } ... on Service { product } }
  health impairedBy
  hops { ...HopFields }
}
query ConsoleTrace($id: ID!) {
  trace(id: $id) {
    __typename
    ... on Trace { ...TraceFields }
    ... on CustomerTrace { customer { id name } health traces { ...TraceFields } }
    ... on NotFound { message }
  }
}
"""


class TraceNotFound(Exception):
    """The id names nothing this caller may trace."""


def _fault_query(count: int) -> str:
    """One query for the raised alarms and open incidents on `count` resources ($r0, $r1…)."""
    params = ", ".join(f"$r{i}: ID!" for i in range(count))
    parts = []
    for i in range(count):
        parts.append(
            f"a{i}: alarms(resource: $r{i}, state: RAISED, first: 5) {{ "
            "... on AlarmConnection { totalCount edges { node { id probableCause severity } } } }"
        )
        parts.append(
            f"i{i}: incidents(resource: $r{i}, states: {OPEN_INCIDENTS}, first: 5) {{ "
            "totalCount edges { node { id state priority } } }"
        )
    return f"query ConsoleTraceFaults({params}) {{ {' '.join(parts)} }}"


def _health(status: str, impaired: bool, reasons: list[str]) -> str:
    """ok, degraded or faulty, from the hop's status, the trace's impairments and its alarms."""
    if status in DOWN_STATUSES or any(r.startswith("alarm") for r in reasons):
        return "faulty"
    if status in DEGRADED_STATUSES or impaired:
        return "degraded"
    return "ok"


async def _faults(request: Request, ids: list[str]) -> dict[str, list[str]]:
    """The reasons each of these hops is unhealthy: its raised alarms and open incidents."""
    ids = ids[:MAX_FAULT_LOOKUPS]
    if not ids:
        return {}
    data = await ask(request, _fault_query(len(ids)), {f"r{i}": rid for i, rid in enumerate(ids)})
    out: dict[str, list[str]] = {}
    for i, rid in enumerate(ids):
        reasons: list[str] = []
        alarms = data.get(f"a{i}") or {}
        for edge in alarms.get("edges", []):
            node = edge["node"]
            reasons.append(f"alarm {node['probableCause']} ({node['severity']}, {node['id']})")
        more = alarms.get("totalCount", 0) - len(alarms.get("edges", []))
        if more > 0:
            reasons.append(f"{more} more alarms")
        for edge in (data.get(f"i{i}") or {}).get("edges", []):
            node = edge["node"]
            reasons.append(f"incident {node['id']} {node['state']} {node['priority']}")
        out[rid] = reasons
    return out


def _row(trace: dict[str, Any], faults: dict[str, list[str]]) -> TraceRow:
    root = trace["root"]
    impaired = set(trace["impairedBy"])
    hops = []
    for hop in trace["hops"]:
        el = hop["element"]
        reasons = list(faults.get(el["id"], []))
        if hop["status"] in DOWN_STATUSES | DEGRADED_STATUSES:
            reasons.insert(0, f"status {hop['status']}")
        hops.append(
            HopBox(
                id=el["id"],
                kind=el["kind"],
                role=hop["role"],
                site=(el.get("site") or {}).get("name"),
                owner=hop["owner"],
                partner_name=(hop.get("partner") or {}).get("name"),
                status=hop["status"],
                slots=tuple(hop["slots"]) if hop.get("slots") else None,
                capacity=hop.get("capacity"),
                used=hop.get("used"),
                health=_health(hop["status"], el["id"] in impaired, reasons),
                reasons=tuple(reasons),
                name=el.get("name"),
            )
        )
    what = root.get("product") or root["kind"]
    name = f" {root['name']}" if root.get("name") and root["name"] != root["id"] else ""
    if root.get("owner", "self") != "self":
        what += f", {(root.get('partner') or {}).get('name') or root['owner']}"
    return TraceRow(
        id=root["id"],
        heading=f"{root['id']}{name} ({what})",
        health=trace["health"],
        hops=tuple(hops),
    )


async def trace_picture(request: Request, element_id: str) -> TracePicture:
    """The picture of one circuit, service or customer for this caller (TraceNotFound else)."""
    data = await ask(request, TRACE_QUERY, {"id": element_id})
    result = data["trace"]
    if result["__typename"] == "NotFound":
        raise TraceNotFound(result["message"])
    traces = result["traces"] if result["__typename"] == "CustomerTrace" else [result]
    unhealthy = list(
        dict.fromkeys(
            hop["element"]["id"]
            for t in traces
            for hop in t["hops"]
            if hop["status"] in DOWN_STATUSES | DEGRADED_STATUSES
            or hop["element"]["id"] in t["impairedBy"]
        )
    )
    faults = await _faults(request, unhealthy)
    rows = tuple(_row(t, faults) for t in traces)
    if result["__typename"] == "CustomerTrace":
        customer = result["customer"]
        title = f"Customer {customer['id']} {customer['name']}: {len(rows)} service(s)"
    else:
        title = f"Trace of {rows[0].heading}"
    notes = ()
    if len(unhealthy) > MAX_FAULT_LOOKUPS:
        notes = (f"alarms and incidents shown for the first {MAX_FAULT_LOOKUPS} unhealthy hops",)
    return TracePicture(title=title, rows=rows, notes=notes)


def svg_url(element_id: str) -> str:
    """The stable URL of an element's trace picture."""
    return f"/ui/trace/{quote(element_id, safe='')}.svg"


def file_name(element_id: str) -> str:
    """A safe download name for an element's picture (only letters, digits, - and _)."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in element_id)
    return f"trace-{safe}.svg"


@router.get("/ui/trace")
async def trace_page(request: Request, id: str | None = None) -> Response:
    """The trace page: a form for an id; with one, its picture and its hops as a table."""
    if id is None:
        return page(request, "trace.html", "Trace", picture=None, problem=None, query="")
    text, problem = check_text(id, "id")
    if problem:
        return page(
            request,
            "trace.html",
            "Trace",
            status_code=400,
            picture=None,
            problem=problem,
            query="",
        )
    try:
        picture = await trace_picture(request, text)
    except TraceNotFound as exc:
        return page(
            request,
            "trace.html",
            "Trace",
            status_code=404,
            picture=None,
            query=text,
            problem=f"Nothing to trace: {exc} Search for it on the Search page.",
        )
    return page(
        request,
        "trace.html",
        picture.title,
        picture=picture,
        svg_markup=render_trace_svg(picture),
        svg_url=svg_url(text),
        file_name=file_name(text),
        problem=None,
        query=text,
    )


@router.get("/ui/trace/{element_id:path}.svg")
async def trace_svg(request: Request, element_id: str, download: bool = False) -> Response:
    """The picture alone, embeddable (a stable URL); `download=1` offers it as a file."""
    text, problem = check_text(element_id, "id")
    if problem:
        return PlainTextResponse(problem, status_code=400, headers=PRIVATE_HEADERS)
    try:
        picture = await trace_picture(request, text)
    except TraceNotFound as exc:
        return PlainTextResponse(str(exc), status_code=404, headers=PRIVATE_HEADERS)
    return svg(render_trace_svg(picture), file_name(text) if download else None)
