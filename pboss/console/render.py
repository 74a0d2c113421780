"""How console pages answer: HTML from the Jinja2 templates in `templates/`, SVG pictures, CSV
downloads, each with headers that keep the page to its own origin and out of shared caches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from pboss.console.nav import NAV

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Where `static/` is served; templates refer to it as `/ui/static/...`.
STATIC_PATH = "/ui/static"

#: Nothing but this origin: no CDN, no inline script, no framing by other sites.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
PRIVATE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def page(
    request: Request, template: str, title: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """One console page: `template` (which extends `base.html`) with the nav and `context`."""
    values = {"title": title, "nav": NAV, "path": request.url.path, **context}
    return templates.TemplateResponse(
        request, template, values, status_code=status_code, headers=PRIVATE_HEADERS
    )


def svg(body: str, filename: str | None = None) -> Response:
    """An SVG picture; with `filename`, offered as a download under that name."""
    headers = dict(PRIVATE_HEADERS)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type="image/svg+xml; charset=utf-8", headers=headers)


def csv_download(body: str, filename: str) -> Response:
    """A CSV download (UTF-8 with a byte-order mark, so spreadsheet tools read Chinese right)."""
    headers = dict(PRIVATE_HEADERS)
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8", headers=headers)
