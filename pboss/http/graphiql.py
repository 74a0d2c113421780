"""GraphiQL served by pboss itself, so that it works on an intranet with no internet.

The browser builds of GraphiQL and React are vendored in `static/graphiql/` (pinned versions from
the npm registry, their sha256 in `ASSETS.json`; `scripts/update-graphiql-assets.sh` refreshes
them) and shipped in the wheel. The page is pboss's own (`index.html`, `pboss-graphiql.js`): a
key bar whose API key goes as `Authorization: Bearer <key>` with every request, introspection
included, and that says plainly when the server answers 401. A Content-Security-Policy keeps the
page to its own origin.
"""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static" / "graphiql"
#: Where the assets are served; the page refers to them relatively (`static/graphiql/...`).
ASSETS_PATH = "/static/graphiql"

#: Nothing but this origin: no CDN, no inline script, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@functools.cache
def _page_html() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def graphiql_page() -> HTMLResponse:
    """The GraphiQL page, never cached (it names the assets of this release)."""
    return HTMLResponse(
        _page_html(),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def mount_graphiql_assets(app: FastAPI) -> None:
    """Serve the vendored GraphiQL, React and page assets under `ASSETS_PATH`."""
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC_DIR), name="graphiql-assets")
