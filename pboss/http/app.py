"""The FastAPI application: GraphQL at /graphql, /healthz, /readyz and /metrics.

`create_app` opens the configured store (the embedded demo by default), wraps it so every store
call is timed, and serves the strawberry schema through one pipeline (`pboss.http.endpoint`):
the body limit and HTTP metrics (ASGI middleware) around strawberry's FastAPI router, whose
context factory decides who is calling, and whose schema extensions apply the document limits,
error masking and per-operation metrics. Each /graphql request runs in its own causal scope
(`pboss.http.consistency`: the `X-Pboss-Bookmark` header in and out), so any replica serves any
client with read-your-writes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pboss.assurance.repair import RepairService, start_repair_sweeper
from pboss.assurance.utilisation import start_utilisation_sweeper
from pboss.bootstrap import open_store, register_kinds, seed_store
from pboss.config import Settings, get_settings
from pboss.console.mount import mount_console
from pboss.crm.publisher import start_publisher
from pboss.crm.touch import Touches, TouchingStore
from pboss.graphql.assurance.access import assurance_of
from pboss.graphql.business.partners import PartnerNames
from pboss.graphql.connections import CursorSeal
from pboss.graphql.network.sites import SiteIndex
from pboss.graphql.schema import build_schema
from pboss.http.alarms import add_alarm_ingest
from pboss.http.auth import load_keyring, require_keys
from pboss.http.consistency import CausalConsistency
from pboss.http.endpoint import Unauthenticated, graphql_router
from pboss.http.graphiql import mount_graphiql_assets
from pboss.http.health import add_probes
from pboss.http.limits import BodyLimit, graphql_error_body
from pboss.hub.runner import DeliveryHandle, start_delivery
from pboss.hub.service import HubService
from pboss.inventory.catalog import load_catalog
from pboss.inventory.store import GraphStore
from pboss.metrics import Metrics, instrument
from pboss.provisioning.runtime import start_sweeper

log = logging.getLogger(__name__)
ROUTES = ("/graphql", "/healthz", "/readyz", "/metrics", "/alarms")


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
        route = path if path in ROUTES else "/ui" if path.startswith("/ui") else "other"
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


def _add_unauthenticated(app: FastAPI) -> None:
    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        body = graphql_error_body(
            "missing or unknown API key: send Authorization: Bearer <key> or X-API-Key",
            "UNAUTHENTICATED",
        )
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


def _seed(store: GraphStore, settings: Settings) -> list[str]:
    """Load PBOSS_LOAD_DIR's bundles, the demo network if the store is still empty, then the
    partner feeds (bootstrap.seed_store); logged, and returned for `pboss serve` to print."""
    lines = seed_store(store, settings)
    for line in lines:
        log.info("start-up: %s", line)
    return lines


def _start_delivery(state: dict[str, Any], settings: Settings) -> DeliveryHandle | None:
    """This process's event-hub deliverer when `hub_deliver` (any number of replicas may run
    one: leases share the listeners out); its handle is kept in the state as "hub"."""
    handle = None
    if settings.hub_deliver:
        handle = start_delivery(state["store"], settings, state["metrics"])
    state["hub"] = handle
    return handle


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """The pboss service on the configured store (or on `store`, which the caller then owns).

    Opening the store itself, it refuses (`NoApiKeys`) when no API key is configured and the
    development keys do not apply (any store but the embedded demo)."""
    settings = settings or get_settings()
    owned = store is None
    register_kinds()  # a store handed in was opened elsewhere: the app still serves every kind
    metrics = Metrics()
    keyring = load_keyring(settings, settings.store if store is None else store.name)
    if owned:
        require_keys(keyring, "Neo4j" if settings.store == "neo4j" else settings.store)
    raw = open_store(settings, metrics) if store is None else store
    try:
        loaded = _seed(raw, settings) if owned else []
    except BaseException:
        raw.close()  # a refused start-up load: the store we opened goes with it
        raise
    executor = ThreadPoolExecutor(settings.store_threads, thread_name_prefix="pboss-store")
    served = instrument(raw, metrics)
    touches = Touches() if settings.publish_resources else None  # writes CRM's figures follow
    state: dict[str, Any] = {
        "settings": settings,
        "loaded": loaded,  # what start-up loaded, one line each (`pboss serve` prints them)
        "store": served if touches is None else TouchingStore(served, touches),
        "catalog": getattr(raw, "catalog", None) or load_catalog(settings.catalog),
        "executor": executor,
        "keyring": keyring,
        "metrics": metrics,
        "site_index": SiteIndex(),
        "partner_names": PartnerNames(),
        "cursor_seal": CursorSeal.from_settings(
            settings.cursor_key.get_secret_value() if settings.cursor_key else None
        ),
    }
    state["hub_service"] = HubService(state["store"], settings)  # listeners' rules (graphql/hub)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = start_sweeper(state["store"], settings)
        state["provisioning"] = sweeper.service
        repair = RepairService(state["store"], state["catalog"], sweeper.service.clock)
        state["repair"] = repair  # graphql/assurance; its sweeper dispatches and watches SLAs
        repairs = start_repair_sweeper(repair, sweeper.service.settings.sweep_interval_seconds)
        utilisation = start_utilisation_sweeper(
            assurance_of(state), settings.utilisation_sweep_seconds
        )
        assurance = assurance_of(state)  # its batch correlator groups tickets and alarms
        assurance.start_correlator()
        publisher = start_publisher(served, state["catalog"], settings, touches)
        hub = _start_delivery(state, settings)
        try:
            yield
        finally:
            if hub is not None:
                hub.stop()  # records the last batches and releases the leases
            if publisher is not None:
                publisher.stop()
            sweeper.stop()
            repairs.stop()
            if utilisation is not None:
                utilisation.stop()
            assurance.stop_correlator()
            schema.close()
            ingest.shutdown(wait=False, cancel_futures=True)
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
    schema = build_schema(settings, metrics)
    router = graphql_router(schema, state)
    app.include_router(router, prefix="/graphql")
    add_probes(app, state)
    ingest = add_alarm_ingest(app, state)  # POST /alarms (pboss.http.alarms)
    if settings.graphiql_enabled or settings.console:
        mount_graphiql_assets(app)  # the console's GraphiQL uses the same assets
    if settings.console:
        mount_console(app, schema)  # /ui (pboss.console)
    _add_unauthenticated(app)
    app.add_middleware(CausalConsistency)  # X-Pboss-Bookmark in and out
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HttpMetrics, metrics=metrics)
    return app
