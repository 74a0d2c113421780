"""Refuse oversized requests before anything parses them (ASGI middleware, no buffering).

The body is counted as it streams, so a chunked upload without Content-Length is cut off too;
the refusal is a 413 shaped like a GraphQL error, so clients read it the same way.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(Exception):
    """The body grew past the limit while streaming."""


def graphql_error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    """A JSON body shaped like a GraphQL error response."""
    return {"errors": [{"message": message, "extensions": {"code": code, **extra}}]}


async def _refuse(send: Send, size: int | None, limit: int, what: str) -> None:
    shown = f"{size} bytes" if size is not None else "more bytes"
    message = f"request {what} too large: {shown}, the limit is {limit} bytes"
    body = json.dumps(graphql_error_body(message, "REQUEST_TOO_LARGE", limit=limit)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies (and query strings) over `max_bytes` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        query = scope.get("query_string", b"")
        if len(query) > limit:
            await _refuse(send, len(query), limit, "query string")
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = None
            if size is None or size > limit:
                await _refuse(send, size, limit, "body")
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _refuse(send, None, limit, "body")
