"""The /graphql endpoint: strawberry's FastAPI router, and the one place a request's context is
made.

Every operation, whatever its type and however it ends, runs through `GraphQLEndpoint` (the
public `strawberry.fastapi.GraphQLRouter`, with its documented JSON hooks) and gets its context
from `context_getter`: the caller's principal from its API key (a request without a known key is
refused with 401 before anything runs, except a browser opening GraphiQL), then `make_context`.
A field added to the context there reaches every resolver and extension.

The answer is capped: an encoded answer over `max_response_bytes` is replaced by one
RESPONSE_TOO_LARGE error. GraphQL over WebSocket is not offered yet (subscriptions come with the
events API): an upgrade is refused before it is accepted, with close code 1008 (policy
violation; the handshake answers 403), whoever asks.
"""

from __future__ import annotations

import logging
from typing import Any

from cross_web import HTTPException  # the exception strawberry's views answer as an HTTP error
from fastapi import Request, Response, WebSocketException, status
from fastapi.requests import HTTPConnection
from fastapi.responses import HTMLResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.schema import BaseSchema

try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with the `fast` extra
    orjson = None  # type: ignore[assignment]

from pboss.config import Settings
from pboss.graphql.context import Context
from pboss.graphql.permissions import ANONYMOUS, Principal
from pboss.http.auth import key_from_headers
from pboss.http.graphiql import graphiql_page
from pboss.http.limits import graphql_error_body

log = logging.getLogger(__name__)

#: Why a WebSocket upgrade on /graphql is refused (the close reason).
NO_WEBSOCKETS = "GraphQL over WebSocket is not offered: use HTTP POST /graphql"


class Unauthenticated(Exception):
    """A GraphQL request without a known API key (answered 401 by the app)."""


class GraphQLEndpoint(GraphQLRouter):
    """Strawberry's FastAPI router, refusing bodies that are not one JSON object with a 400,
    encoding answers with orjson when it is installed (the `fast` extra), replacing an answer
    over `max_response_bytes` by a RESPONSE_TOO_LARGE error, and rendering pboss's own GraphiQL
    page (assets served locally, an API key field) through strawberry's documented
    `render_graphql_ide` hook."""

    def __init__(self, *args: Any, max_response_bytes: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_response_bytes = max_response_bytes

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return graphiql_page()

    if orjson is not None:

        def encode_json(self, data: object) -> bytes:
            return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = self.decode_json(data)
        except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, absurd nesting
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """The JSON answer, or one RESPONSE_TOO_LARGE error when it is over the cap."""
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
            raise WebSocketException(status.WS_1008_POLICY_VIOLATION, NO_WEBSOCKETS)
        request: Request = connection  # type: ignore[assignment]
        principal = state["keyring"].principal(key_from_headers(request.headers))
        if principal is None:
            if not _wants_ide(request, settings):
                raise Unauthenticated
            principal = ANONYMOUS
        return make_context(state, principal)

    return get_context


def graphql_router(schema: BaseSchema, state: dict[str, Any]) -> GraphQLRouter:
    """The /graphql router: GraphiQL when the settings allow it, context from the API key."""
    settings: Settings = state["settings"]
    return GraphQLEndpoint(
        schema,
        context_getter=context_getter(state),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        subscription_protocols=(),
        max_response_bytes=settings.max_response_bytes,
    )
