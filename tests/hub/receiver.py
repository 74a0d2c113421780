"""A real HTTP receiver for the event hub's tests and benchmark: a small FastAPI app on 127.0.0.1.

Every POST (any path: one path per listener), one event object or a batched listener's array of
them (whose count and first/last id headers must match the array), is checked with
`pboss.hub.signing.verify` against the secret configured for its path (or the default secret)
and recorded: event id, type, the
attempt header, whether the signature held, the order of arrival. Its behaviour can be switched
while it runs: answer the next N requests with a status (500), hang the next N beyond the
deliverer's timeout, answer every request after a delay (slow), redirect a path; stopping the
server makes its port refuse connections. `GET /_stats` sums it up (the benchmark's view).

In tests it runs on a thread (`ReceiverServer`); `python -m tests.hub.receiver --port P --secret S
[--light]` runs it as its own process (the benchmark), `--light` keeping only the counts, the
order check (bodies numbered in `event.n`) and the delivery delays (no bodies kept).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from pboss.hub.signing import (
    ATTEMPT_HEADER,
    EVENT_COUNT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    FIRST_EVENT_ID_HEADER,
    LAST_EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    BadSignature,
    verify,
)


@dataclass
class Hit:
    """One request as the receiver saw it."""

    path: str
    event_id: str
    event_type: str
    attempt: int
    valid: bool
    why: str
    status: int
    body: dict[str, Any] | list[dict[str, Any]] | None
    #: The ids of the events the request carried, in order (one, or a batch's array).
    event_ids: list[str] = field(default_factory=list)
    #: True when the body was a batch (a JSON array).
    batch: bool = False


@dataclass
class PathStats:
    """The light record of one path: counts, ids seen, order, delays (no bodies)."""

    received: int = 0
    invalid: int = 0
    duplicates: int = 0
    seen: set[str] = field(default_factory=set)
    delays: list[float] = field(default_factory=list)
    top: int = -1  # the highest `event.n` seen (the benchmark numbers its events)
    out_of_order: int = 0


class Receiver:
    """The app and what it has seen; thread-safe for the test reading it while it serves."""

    def __init__(self, secret: str = "", *, light: bool = False):
        self.default_secret = secret
        self.secrets: dict[str, str] = {}
        self.light = light
        self.lock = threading.Lock()
        self.hits: list[Hit] = []
        self.stats: dict[str, PathStats] = {}
        self.fail: dict[str, list[int]] = {}  # path -> statuses for the next requests
        self.hang: dict[str, list[float]] = {}  # path -> seconds to hang the next requests
        self.delay = 0.0
        self.redirects: dict[str, str] = {}
        self.app = self._build()

    # ---- switches --------------------------------------------------------------------------------

    def secret_for(self, path: str, secret: str) -> None:
        """Verify this path's requests with this secret."""
        self.secrets[path] = secret

    def fail_next(self, path: str, n: int, status: int = 500) -> None:
        """Answer the next `n` requests to `path` with `status` (recorded, not accepted)."""
        with self.lock:
            self.fail.setdefault(path, []).extend([status] * n)

    def hang_next(self, path: str, n: int, seconds: float) -> None:
        """Sleep `seconds` before answering the next `n` requests to `path`."""
        with self.lock:
            self.hang.setdefault(path, []).extend([seconds] * n)

    def redirect(self, path: str, to: str) -> None:
        """Answer every request to `path` with a 307 to `to`."""
        self.redirects[path] = to

    # ---- what was seen ---------------------------------------------------------------------------

    def received(self, path: str) -> list[Hit]:
        """Every request to `path`, in arrival order."""
        with self.lock:
            return [h for h in self.hits if h.path == path]

    def accepted(self, path: str) -> list[Hit]:
        """The requests to `path` answered 2xx, in arrival order."""
        return [h for h in self.received(path) if 200 <= h.status < 300]

    def accepted_ids(self, path: str) -> list[str]:
        """The ids of the events accepted on `path`, in arrival order (duplicates kept; a
        batch's in its array's order)."""
        return [eid for h in self.accepted(path) for eid in h.event_ids]

    # ---- the app ---------------------------------------------------------------------------------

    def _build(self) -> FastAPI:
        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/_stats")
        async def stats() -> JSONResponse:
            return JSONResponse(self.summary())

        @app.post("/{path:path}")
        async def receive(path: str, request: Request) -> Response:
            route = "/" + path
            raw = await request.body()
            if route in self.redirects:
                return RedirectResponse(self.redirects[route], status_code=307)
            with self.lock:
                hang = self.hang.get(route, [])
                wait = hang.pop(0) if hang else self.delay
                fails = self.fail.get(route, [])
                status = fails.pop(0) if fails else 200
            if wait:
                await asyncio.sleep(wait)
            self._record(route, request, raw, status)
            if status != 200:
                return Response(f"receiver told to fail ({status})", status_code=status)
            return Response(status_code=204)

        return app

    def _record(self, route: str, request: Request, raw: bytes, status: int) -> None:
        secret = self.secrets.get(route, self.default_secret)
        try:
            verify(secret, request.headers.get(SIGNATURE_HEADER), raw)
            valid, why = True, ""
        except BadSignature as exc:
            valid, why = False, str(exc)
        body = json.loads(raw) if raw else None
        batch = isinstance(body, list)
        if batch:
            items: list[dict[str, Any]] = list(body)
            ids = [str(e.get("eventId", "")) for e in items]
            told = (
                request.headers.get(EVENT_COUNT_HEADER),
                request.headers.get(FIRST_EVENT_ID_HEADER),
                request.headers.get(LAST_EVENT_ID_HEADER),
            )
            if valid and (not ids or told != (str(len(ids)), ids[0], ids[-1])):
                valid, why = False, f"batch headers {told} do not match the array"
        else:
            items = [body] if isinstance(body, dict) else []
            ids = [request.headers.get(EVENT_ID_HEADER, "")]
        event_id = ids[0] if ids else ""
        if self.light:
            now = time.time()
            with self.lock:
                st = self.stats.setdefault(route, PathStats())
                st.received += len(ids)
                st.invalid += 0 if valid else len(ids)
                for eid, item in zip(ids, items, strict=False):
                    if eid in st.seen:
                        st.duplicates += 1
                        continue
                    st.seen.add(eid)
                    n = (item.get("event") or {}).get("n")
                    if isinstance(n, int):
                        st.out_of_order += n < st.top
                        st.top = max(st.top, n)
                    at = item.get("eventTime")
                    if at:
                        st.delays.append(now - datetime.fromisoformat(at).timestamp())
            return
        hit = Hit(
            path=route,
            event_id=event_id,
            event_type=request.headers.get(EVENT_TYPE_HEADER, ""),
            attempt=int(request.headers.get(ATTEMPT_HEADER, "0") or 0),
            valid=valid,
            why=why,
            status=status,
            body=body,
            event_ids=ids,
            batch=batch,
        )
        with self.lock:
            self.hits.append(hit)

    def summary(self) -> dict[str, Any]:
        """Per path: received, unique, invalid signatures, duplicates, delay p50/p99 (s)."""
        with self.lock:
            out: dict[str, Any] = {}
            for route, st in self.stats.items():
                ds = sorted(st.delays)
                out[route] = {
                    "received": st.received,
                    "unique": len(st.seen),
                    "invalid": st.invalid,
                    "duplicates": st.duplicates,
                    "out_of_order": st.out_of_order,
                    "p50": _quantile(ds, 0.50),
                    "p99": _quantile(ds, 0.99),
                    "max": ds[-1] if ds else 0,
                }
            return out


def _quantile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values (0 for none)."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


class ReceiverServer:
    """A Receiver served by uvicorn on 127.0.0.1 in a background thread; stoppable, restartable
    on the same port (stopped, the port refuses connections)."""

    def __init__(self, receiver: Receiver, port: int):
        self.receiver = receiver
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        """The receiver's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReceiverServer:
        """Serve, and wait until the port accepts connections."""
        config = uvicorn.Config(
            self.receiver.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="receiver")
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the receiver did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving (connections to the port are refused afterwards)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None


def running(receiver: Receiver, port: int) -> Iterator[ReceiverServer]:
    """Serve for the length of a `with`-less fixture: yields the server, stops it after."""
    server = ReceiverServer(receiver, port).start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    """Run the receiver as its own process (the benchmark's)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--light", action="store_true")
    args = parser.parse_args()
    receiver = Receiver(args.secret, light=args.light)
    uvicorn.run(receiver.app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
