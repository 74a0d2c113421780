"""Probes and scraping: /healthz (the process answers), /readyz (the store answers within
`READY_TIMEOUT_S`) and /metrics (Prometheus text; open, or behind `PBOSS_METRICS_KEY` or an
admin API key, see `Settings.metrics_public`)."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pboss.config import Settings
from pboss.http.auth import key_from_headers
from pboss.inventory.store import GraphStore
from pboss.metrics import Metrics

READY_TIMEOUT_S = 2.0


def may_scrape(request: Request, state: dict[str, Any]) -> bool:
    """True when /metrics may answer this request: it is open, or the request carries the
    metrics key or an admin API key (as a bearer token or X-API-Key)."""
    settings: Settings = state["settings"]
    if settings.metrics_public:
        return True
    key = key_from_headers(request.headers)
    if not key:
        return False
    if settings.metrics_key is not None and hmac.compare_digest(
        key.encode(), settings.metrics_key.get_secret_value().encode()
    ):
        return True
    principal = state["keyring"].principal(key)
    return principal is not None and principal.role == "admin"


def add_probes(app: FastAPI, state: dict[str, Any]) -> None:
    """Add /healthz, /readyz and /metrics to the app, over its app-wide state."""
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
    async def prometheus(request: Request) -> Response:
        if not may_scrape(request, state):
            return JSONResponse(
                {"error": "/metrics needs PBOSS_METRICS_KEY or an admin API key as a bearer token"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
