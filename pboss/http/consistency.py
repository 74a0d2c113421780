"""Read-your-writes across replicas: the `X-Pboss-Bookmark` header in and out (ASGI middleware).

Each /graphql request is served in its own causal scope (`pboss.inventory.consistency`), seeded
from the bookmark token the client sent. Every store call of the request reads after those
bookmarks; after a write commits, the scope holds the write's own bookmark. The answer then
carries the scope's token in `X-Pboss-Bookmark` (and the GraphQL body in
`extensions.bookmark`, `GraphQLEndpoint.process_result`) whenever the request wrote, or came with
a bookmark (echoed, so a client may simply keep the last token it was given). A client sending
it back gets, on any replica, reads at least as new as its writes; a client sending none may be
served by followers that lag a little. A malformed token is refused with 400 `BAD_BOOKMARK`
before anything runs. The embedded store ignores bookmarks, and so does a WebSocket.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pboss.http.limits import graphql_error_body
from pboss.inventory import consistency
from pboss.inventory.consistency import InvalidBookmark, causal_scope, decode

#: The header's name as ASGI carries it (lower case bytes).
_HEADER = consistency.HEADER.lower().encode()
#: The error code of a refused bookmark token (400, or in the body when the database refuses it).
BAD_BOOKMARK = "BAD_BOOKMARK"


async def _refuse(send: Send, message: str) -> None:
    """Answer 400 with one BAD_BOOKMARK error shaped like a GraphQL answer."""
    body = json.dumps(graphql_error_body(message, BAD_BOOKMARK)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CausalConsistency:
    """Serve each /graphql HTTP request in a causal scope; return its bookmark in the header."""

    def __init__(self, app: ASGIApp, path: str = "/graphql"):
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.path):
            await self.app(scope, receive, send)
            return
        sent = [value for name, value in scope.get("headers", []) if name == _HEADER]
        token = sent[0].decode("latin-1").strip() if sent else ""
        try:
            if len(sent) > 1:
                raise InvalidBookmark(f"{consistency.HEADER}: sent {len(sent)} times, send it once")
            bookmarks = decode(token) if token else frozenset()
        except InvalidBookmark as exc:
            await _refuse(send, str(exc))
            return
        with causal_scope(bookmarks) as request:

            async def with_bookmark(message: Message) -> None:
                if message["type"] == "http.response.start" and (request.wrote or bookmarks):
                    out = request.token()
                    if out is not None:
                        headers = [*message.get("headers", []), (_HEADER, out.encode())]
                        message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, with_bookmark)


__all__ = ["BAD_BOOKMARK", "CausalConsistency"]
