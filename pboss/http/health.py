"""Probes and scraping: /healthz (the process answers), /readyz (the store answers within
`READY_TIMEOUT_S`) and /metrics (Prometheus text)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pboss.inventory.store import GraphStore
from pboss.metrics import Metrics

READY_TIMEOUT_S = 2.0


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
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
