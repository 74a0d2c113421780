"""`POST /alarms`: bulk alarm ingest from the network, NDJSON in, NDJSON out.

Authenticated by the same API keys as /graphql (401 without one), for the roles `network` and
`admin` (403 otherwise); the body passes the app's body limit (`PBOSS_MAX_BODY_BYTES`, 413) and
may carry at most `ingest.MAX_LINES` lines. Each line is one raise or clear
(`pboss.assurance.ingest`) applied in its own transaction, in order: a bad line (unparseable,
an unknown resource, ...) writes nothing and does not stop the good ones; the answer has one
line per input line with its number, its outcome or its typed error. Lines run on this
endpoint's own store threads (`INGEST_THREADS`), a chunk at a time, never on the threads that
serve GraphQL's store calls, so an alarm storm queues here while ordinary queries go on.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from pboss.assurance.alarms import AlarmOp
from pboss.assurance.ingest import MAX_LINES, LineError, parse_line, result_row
from pboss.graphql.assurance.access import INGEST_ROLES, assurance_of
from pboss.http.auth import key_from_headers
from pboss.http.limits import graphql_error_body

#: Threads applying ingested alarms (shared by all ingest requests of this process).
INGEST_THREADS = 2
#: Lines applied per trip to an ingest thread.
CHUNK = 50
NDJSON = "application/x-ndjson"


def _refuse(status: int, message: str, code: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(graphql_error_body(message, code), status_code=status, headers=headers)


def add_alarm_ingest(app: FastAPI, state: dict[str, Any]) -> ThreadPoolExecutor:
    """Add POST /alarms over the app's state; returns its executor (the app shuts it down)."""
    executor = ThreadPoolExecutor(INGEST_THREADS, thread_name_prefix="pboss-alarms")

    @app.post("/alarms", include_in_schema=False)
    async def ingest(request: Request) -> Response:
        principal = state["keyring"].principal(key_from_headers(request.headers))
        if principal is None:
            return _refuse(401, "missing or unknown API key", "UNAUTHENTICATED")
        if principal.role not in INGEST_ROLES:
            return _refuse(403, f"role {principal.role} may not send alarms", "FORBIDDEN")
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(400, "the body must be UTF-8 NDJSON", "BAD_REQUEST")
        lines = text.splitlines()
        if len(lines) > MAX_LINES:
            return _refuse(413, f"{len(lines)} lines, at most {MAX_LINES} a request", "TOO_MANY")
        parsed = [(n, parse_line(n, t)) for n, t in enumerate(lines, 1)]
        rows: dict[int, dict[str, Any]] = {}
        ops: list[tuple[int, AlarmOp]] = []
        for n, item in parsed:
            if isinstance(item, LineError):
                rows[n] = item.row()
            elif item is not None:
                ops.append((n, item))
        service = assurance_of(state)
        loop = asyncio.get_running_loop()
        for start in range(0, len(ops), CHUNK):
            chunk = ops[start : start + CHUNK]
            apply = partial(service.apply_alarms, [o for _, o in chunk], actor=principal.actor)
            results = await loop.run_in_executor(executor, apply)
            for (n, _), result in zip(chunk, results, strict=True):
                rows[n] = result_row(n, result)
        body = "".join(json.dumps(rows[n], ensure_ascii=False) + "\n" for n in sorted(rows))
        failed = sum(1 for r in rows.values() if not r["ok"])
        headers = {"X-Alarm-Lines": str(len(rows)), "X-Alarm-Failed": str(failed)}
        return Response(body, media_type=NDJSON, headers=headers)

    return executor
