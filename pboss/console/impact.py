"""The impact page: who depends on a resource or a set of resources, down to services and
customers, as a picture (`/ui/impact/<id>.svg`, a stable URL other tools can embed, or
`/ui/impact.svg?id=..&id=..` for a set) and as a page (`/ui/impact?id=..`, `id` repeatable):
the totals by product, SLA tier and customer type, the platinum and gold customers first, the
picture, and every rider in a tree of `<details>` lists with counts at each level.

The data comes from `impact_tree.impact_view` (the store calls the API's resolvers make, with
their masking; it says why not through `ask`).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pboss.console.ask import context_for
from pboss.console.impact_svg import draw, summary
from pboss.console.impact_tree import MAX_RESOURCES, ImpactView, UnknownResources, impact_view
from pboss.console.render import PRIVATE_HEADERS, page, svg

router = APIRouter()

#: Premium customers listed open on the page; the rest are one click away (a closed <details>).
PREMIUM_LISTED = 20
_SPLIT = re.compile(r"[\s,]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BadRequest(Exception):
    """The page was asked for no resource or too many."""


def requested(ids: list[str], text: str | None) -> list[str]:
    """The resource ids of a request: each `id` parameter and the form's `ids` box (separated
    by spaces or commas), in order, each once."""
    out = [i.strip() for i in ids if i.strip()]
    if text:
        out += [i for i in _SPLIT.split(text) if i]
    return list(dict.fromkeys(out))


def svg_path(ids: list[str]) -> str:
    """The picture's stable URL: one resource by path, a set by query."""
    if len(ids) == 1:
        return f"/ui/impact/{quote(ids[0], safe='')}.svg"
    return "/ui/impact.svg?" + "&".join(f"id={quote(i, safe='')}" for i in ids)


def filename(ids: list[str]) -> str:
    """The download's file name: impact-<first id>[-and-N-more].svg, safe characters only."""
    stem = _UNSAFE.sub("_", ids[0]).strip("_") or "resource"
    more = f"-and-{len(ids) - 1}-more" if len(ids) > 1 else ""
    return f"impact-{stem[:80]}{more}.svg"


async def _view(request: Request, ids: list[str]) -> ImpactView:
    if not ids:
        raise BadRequest("Enter the id of at least one resource.")
    if len(ids) > MAX_RESOURCES:
        raise BadRequest(f"Give at most {MAX_RESOURCES} resources, got {len(ids)}.")
    return await impact_view(context_for(request), ids)


def _not_found(exc: UnknownResources) -> str:
    names = ", ".join(repr(i) for i in exc.ids[:10]) + (" …" if len(exc.ids) > 10 else "")
    return f"No resource {names} that you may see: check the id (ids are case-sensitive)."


@router.get("/ui/impact")
async def impact_page(
    request: Request, id: list[str] = Query(default=[]), ids: str | None = None
) -> Response:
    """The impact page, or the empty form without ids."""
    wanted = requested(id, ids)
    title = "Impact"
    if not wanted:
        return page(request, "impact.html", title, view=None, ids="", problem=None)
    try:
        view = await _view(request, wanted)
    except BadRequest as exc:
        return page(
            request, "impact.html", title, 400, view=None, ids=" ".join(wanted), problem=str(exc)
        )
    except UnknownResources as exc:
        return page(
            request,
            "impact.html",
            "Resource not found",
            404,
            view=None,
            ids=" ".join(wanted),
            problem=_not_found(exc),
        )
    return page(
        request,
        "impact.html",
        f"Impact of {', '.join(wanted[:3])}{' …' if len(wanted) > 3 else ''}",
        view=view,
        ids=" ".join(wanted),
        problem=None,
        picture=draw(view),
        summary=summary(view),
        svg_url=svg_path(wanted),
        filename=filename(wanted),
        tiers=_tiers(view),
        premium_listed=PREMIUM_LISTED,
    )


def _tiers(view: ImpactView) -> list[tuple[str, int]]:
    """Customers by SLA tier, premium first."""
    order = {"platinum": 0, "gold": 1, "standard": 2}
    return sorted(view.totals.by_sla_tier.items(), key=lambda kv: (order.get(kv[0], 3), kv[0]))


async def _svg(request: Request, ids: list[str], download: bool) -> Response:
    try:
        view = await _view(request, ids)
    except BadRequest as exc:
        return Response(str(exc), status_code=400, media_type="text/plain", headers=PRIVATE_HEADERS)
    except UnknownResources as exc:
        return Response(
            _not_found(exc), status_code=404, media_type="text/plain", headers=PRIVATE_HEADERS
        )
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + draw(view)
    return svg(body, filename(ids) if download else None)


@router.get("/ui/impact.svg")
async def impact_set_svg(
    request: Request, id: list[str] = Query(default=[]), download: bool = False
) -> Response:
    """The picture of a set of resources (`id` repeated)."""
    return await _svg(request, requested(id, None), download)


@router.get("/ui/impact/{name:path}")
async def impact_svg(request: Request, name: str, download: bool = False) -> Response:
    """The picture of one resource at its stable URL, `/ui/impact/<id>.svg` (the id URL-encoded;
    `?download=1` offers it as a file)."""
    if not name.endswith(".svg") or len(name) == len(".svg"):
        return Response(
            "Not found: the picture of a resource is /ui/impact/<id>.svg",
            status_code=404,
            media_type="text/plain",
            headers=PRIVATE_HEADERS,
        )
    return await _svg(request, [name[: -len(".svg")]], download)
