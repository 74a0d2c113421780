"""The /graphql endpoint: strawberry's FastAPI router, and the one place a request's context is
made.

Every operation, whatever its type and however it ends, runs through `GraphQLEndpoint` (the
public `strawberry.fastapi.GraphQLRouter`, with its documented JSON hooks) and gets its context
from `context_getter`: the caller's principal from its API key (a request without a known key is
refused with 401 before anything runs, except a browser opening GraphiQL), then `make_context`.
A field added to the context there reaches every resolver and extension.

After a write, the answer's `extensions.bookmark` is the request's bookmark token, the same as
its `X-Pboss-Bookmark` header (`http/consistency.py`), for clients that see only the body.

The answer is capped: an encoded answer over `max_response_bytes` is replaced by one
RESPONSE_TOO_LARGE error. GraphQL over WebSocket (graphql-transport-ws, strawberry's own) serves
subscriptions only (`eventStream`); queries and mutations go over HTTP. A WebSocket's key comes
from the handshake's headers (an unknown one is refused before the upgrade, close code 1008,
the handshake answering 403) or, since browsers cannot set headers, from `connection_init`'s
payload `{"apiKey": ...}` (`on_ws_connect`); a connection with no known key either way is closed
with 4403 before any operation runs.
"""

from __future__ import annotations

import logging
from typing import Any

from cross_web import HTTPException  # the exception strawberry's views answer as an HTTP error
from fastapi import Request, Response, WebSocketException, status
from fastapi.requests import HTTPConnection
from fastapi.responses import HTMLResponse
from graphql import ExecutionResult
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with the `fast` extra
    orjson = None  # type: ignore[assignment]

from pboss.config import Settings
from pboss.graphql.context import Context
from pboss.graphql.permissions import ANONYMOUS, Principal
from pboss.http.auth import key_from_headers
from pboss.http.consistency import BAD_BOOKMARK
from pboss.http.graphiql import graphiql_page
from pboss.http.limits import graphql_error_body
from pboss.inventory import consistency
from pboss.inventory.consistency import InvalidBookmark
from pboss.inventory.errors import StoreUnavailable

log = logging.getLogger(__name__)

#: Why a WebSocket upgrade on /graphql is refused (the close reason).
UNKNOWN_KEY = "unknown API key: send a known key as Authorization: Bearer <key> or X-API-Key"
#: The payload of a `connection_init` refused for want of a known key.
NO_KEY = {
    "code": "UNAUTHENTICATED",
    "message": "missing or unknown API key: send it in the handshake's Authorization header "
    'or in connection_init\'s payload as {"apiKey": "<key>"}',
}


class Unauthenticated(Exception):
    """A GraphQL request without a known API key (answered 401 by the app)."""


#: The extension code of an error raised because the store could not be reached.
STORE_UNAVAILABLE = "STORE_UNAVAILABLE"


def _store_was_away(response: Any) -> bool:
    """True when the store being away is all that went wrong and nothing was answered: every
    error is STORE_UNAVAILABLE and no top-level field has data (then it is a 503)."""
    if not isinstance(response, dict) or not response.get("errors"):
        return False
    codes = {(e.get("extensions") or {}).get("code") for e in response["errors"]}
    data = response.get("data")
    return codes == {STORE_UNAVAILABLE} and (data is None or all(v is None for v in data.values()))


class GraphQLEndpoint(GraphQLRouter):
    """Strawberry's FastAPI router, refusing bodies that are not one JSON object with a 400,
    encoding answers with orjson when it is installed (the `fast` extra), replacing an answer
    over `max_response_bytes` by a RESPONSE_TOO_LARGE error, and rendering pboss's own GraphiQL
    page (assets served locally, an API key field) through strawberry's documented
    `render_graphql_ide` hook. An error raised because the store is away gets
    `extensions {code: STORE_UNAVAILABLE, retryAfter}`, and an operation that could answer
    nothing for that reason is a 503 with `Retry-After`, so clients retry."""

    #: seconds a client should wait before retrying while the store is away (settings)
    retry_after: int = 2

    def __init__(self, *args: Any, max_response_bytes: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_response_bytes = max_response_bytes

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page()

    async def on_ws_connect(self, context: Context) -> object:
        """Authenticate a WebSocket at `connection_init`: a key in its payload (`apiKey`) must
        be known and then decides who is calling; without one, the handshake's key must have
        (strawberry's documented hook; ConnectionRejectionError closes with 4403)."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        key = params.get("apiKey")
        if key is not None:
            principal = context.state["keyring"].principal(key if isinstance(key, str) else None)
            if principal is None:
                raise ConnectionRejectionError(NO_KEY)
            context.principal = principal
        if context.principal is ANONYMOUS:
            raise ConnectionRejectionError(NO_KEY)
        return UNSET

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        data = await super().process_result(request, result)
        for error, out in zip(result.errors or [], data.get("errors") or [], strict=False):
            if isinstance(error.original_error, StoreUnavailable):
                extensions = {"code": STORE_UNAVAILABLE, "retryAfter": self.retry_after}
                out["extensions"] = {**(out.get("extensions") or {}), **extensions}
            elif isinstance(error.original_error, InvalidBookmark):
                out["extensions"] = {**(out.get("extensions") or {}), "code": BAD_BOOKMARK}
        scope = consistency.current()  # the request's (http/consistency.py)
        if scope is not None and scope.wrote and (token := scope.token()) is not None:
            data["extensions"] = {**(data.get("extensions") or {}), "bookmark": token}
        return data

    if orjson is not None:

        def encode_json(self, data: object) -> str:
            # text, not bytes: strawberry sends bytes over a WebSocket as binary frames, which
            # graphql-transport-ws clients (browsers) drop; text is one copy more over HTTP
            return orjson.dumps(data).decode()

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = self.decode_json(data)
        except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd nesting
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """The JSON answer, or one RESPONSE_TOO_LARGE error when it is over the cap; a 503 with
        `Retry-After` when the store being away is why nothing was answered."""
        if _store_was_away(response_data):
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(self.retry_after)
        response = super().create_response(response_data, sub_response)
        limit, size = self.max_response_bytes, len(response.body)
        if limit is not None and size > limit:
            log.info("refused: response of %d bytes over the limit of %d", size, limit)
            message = (
                f"response too large: {size} bytes, the limit is {limit} bytes; ask for "
                "smaller pages (first, limit) or fewer fields"
            )
            body = graphql_error_body(message, "RESPONSE_TOO_LARGE", size=size, limit=limit)
            response = super().create_response({"data": None, **body}, sub_response)
        return response


def _wants_ide(request: Request, settings: Settings) -> bool:
    """True for a browser opening GraphiQL (no operation in the request)."""
    return (
        settings.graphiql_enabled
        and request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


def make_context(state: dict[str, Any], principal: Principal) -> Context:
    """One request's context for this caller over the app-wide state."""
    return Context(
        store=state["store"], principal=principal, settings=state["settings"], state=state
    )


def context_getter(state: dict[str, Any]) -> Any:
    """The per-request context factory over the app-wide state: who is calling, decided once."""
    settings: Settings = state["settings"]

    async def get_context(connection: HTTPConnection) -> Context:
        if connection.scope["type"] == "websocket":
            key = key_from_headers(connection.headers)
            principal = state["keyring"].principal(key)
            if key is not None and principal is None:
                raise WebSocketException(status.WS_1008_POLICY_VIOLATION, UNKNOWN_KEY)
            # no key in the handshake: connection_init must bring one (`on_ws_connect`)
            return make_context(state, principal or ANONYMOUS)
        request: Request = connection  # type: ignore[assignment]
        principal = state["keyring"].principal(key_from_headers(request.headers))
        if principal is None:
            if not _wants_ide(request, settings):
                raise Unauthenticated
            principal = ANONYMOUS
        return make_context(state, principal)

    return get_context


#: Subscriptions one WebSocket may run at once.
MAX_SUBSCRIPTIONS = 10


def graphql_router(schema: BaseSchema, state: dict[str, Any]) -> GraphQLRouter:
    """The /graphql router: GraphiQL when the settings allow it, context from the API key."""
    settings: Settings = state["settings"]
    router = GraphQLEndpoint(
        schema,
        context_getter=context_getter(state),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS,
        max_response_bytes=settings.max_response_bytes,
    )
    router.retry_after = settings.store_retry_after
    return router
