"""Mount the console on the app: its pages' routers, its static assets and its error pages."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from strawberry import Schema

from pboss.console import graphiql, impact, login, queues, reports, search, sitemap, trace
from pboss.console.ask import ConsoleQueryError
from pboss.console.render import STATIC_DIR, STATIC_PATH, page

#: Every page's router, in the order they are matched.
ROUTERS = (
    login.router,
    search.router,
    trace.router,
    impact.router,
    sitemap.router,
    queues.router,
    reports.router,
    graphiql.router,
)


def mount_console(app: FastAPI, schema: Schema) -> None:
    """Serve the console at /ui over `schema` (run in process for each page's caller)."""
    app.state.pboss_schema = schema
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="console-static")
    login.add_login_handler(app)

    @app.exception_handler(ConsoleQueryError)
    async def query_failed(request: Request, exc: ConsoleQueryError) -> Response:
        return page(request, "error.html", "Not shown", status_code=400, messages=exc.messages)
