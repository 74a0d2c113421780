"""The FastAPI application: GraphQL at /graphql, /healthz, /readyz and /metrics.

`create_app` opens the configured store (the embedded demo by default), wraps it so every store
call is timed, and serves the strawberry schema with per-request context: the caller's principal
from its API key, the store, settings, app-wide state and fresh DataLoaders.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pboss.bootstrap import load_demo_if_empty, open_store
from pboss.config import Settings, get_settings
from pboss.graphql.auth import load_keyring
from pboss.graphql.lean import LeanGraphQL
from pboss.graphql.limits import BodyLimit, graphql_error_body
from pboss.graphql.partners import PartnerNames
from pboss.graphql.router import Unauthenticated, graphql_router
from pboss.graphql.schema import build_schema
from pboss.graphql.sites import SiteIndex
from pboss.inventory.catalog import load_catalog
from pboss.inventory.store import GraphStore
from pboss.metrics import Metrics, instrument
from pboss.provisioning.runtime import start_sweeper

log = logging.getLogger(__name__)
ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics")
READY_TIMEOUT_S = 2.0


class HttpMetrics:
    """Counts and times every HTTP request by route (unknown paths pooled as `other`)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        route = path if path in ROUTES else "other"
        status = 500
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.http_requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.http_seconds.labels(route).observe(loop.time() - start)


def _add_routes(app: FastAPI, state: dict[str, Any]) -> None:
    metrics: Metrics = state["metrics"]
    store: GraphStore = state["store"]

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        loop = asyncio.get_running_loop()
        try:
            call = loop.run_in_executor(state["executor"], store.get, "__pboss_readyz__")
            await asyncio.wait_for(call, READY_TIMEOUT_S)
        except Exception as exc:  # any failure of the store means not ready
            body = {"status": "unavailable", "store": store.name, "error": type(exc).__name__}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", "store": store.name})

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        body = graphql_error_body(
            "missing or unknown API key: send Authorization: Bearer <key> or X-API-Key",
            "UNAUTHENTICATED",
        )
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


_frozen = False


#: The collector's youngest generation is collected after this many new container objects, not
#: 700: a riders page makes some two thousand, nearly all gone by the end of the request, and at
#: 700 a collection ran about once a request (~45 us of a ~0.9 ms warm request), at 10,000 once
#: in ten or so (~20 us a request).
GC_YOUNG_THRESHOLD = 10_000


def _freeze_startup_objects() -> None:
    """Once per process, move everything alive after start-up (schema, catalog, modules) out of
    the garbage collector's sight: its full collections, which otherwise walk all of it every few
    hundred requests, stop adding tens of ms to whichever request they land on (availability p99
    at 8 clients fell from ~100-110 ms to ~55 ms). And collect the young generation less often
    (`GC_YOUNG_THRESHOLD`)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()
        young, *older = gc.get_threshold()
        gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), *older)


def _seed(store: GraphStore, settings: Settings) -> None:
    """Load PBOSS_LOAD_DIR's bundles, then the demo network if the store is still empty."""
    if settings.load_dir is not None:
        from pboss.loaders.loader import load_directory

        report = load_directory(store, settings.load_dir)
        if report.refused:
            shown = "; ".join(str(i) for i in report.issues[:5])
            raise RuntimeError(f"{settings.load_dir}: invalid rows, nothing loaded: {shown}")
        log.info("loaded %s at start-up: %s", settings.load_dir, report.result)
    if settings.demo:
        load_demo_if_empty(store)


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """The pboss service on the configured store (or on `store`, which the caller then owns)."""
    settings = settings or get_settings()
    owned = store is None
    raw = open_store(settings) if store is None else store
    if owned:
        _seed(raw, settings)
    metrics = Metrics()
    executor = ThreadPoolExecutor(settings.store_threads, thread_name_prefix="pboss-store")
    state: dict[str, Any] = {
        "settings": settings,
        "store": instrument(raw, metrics),
        "catalog": getattr(raw, "catalog", None) or load_catalog(settings.catalog),
        "executor": executor,
        "keyring": load_keyring(settings, raw.name),
        "metrics": metrics,
        "site_index": SiteIndex(),
        "partner_names": PartnerNames(),
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = start_sweeper(state["store"], settings)
        state["provisioning"] = sweeper.service
        _freeze_startup_objects()
        try:
            yield
        finally:
            sweeper.stop()
            executor.shutdown(wait=False, cancel_futures=True)
            if owned:
                raw.close()

    app = FastAPI(
        title="pboss",
        description="Resource inventory and provisioning for broadband operators.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.pboss = state
    router = graphql_router(build_schema(settings, metrics), state)
    app.include_router(router, prefix="/graphql")
    _add_routes(app, state)
    # innermost: single JSON operations skip FastAPI's routing and strawberry's view; the body
    # limit and the HTTP metrics around it see every request alike
    app.add_middleware(LeanGraphQL, router=router, state=state, path="/graphql")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HttpMetrics, metrics=metrics)
    return app
