"""The GraphQL HTTP endpoint: who is calling (API key -> principal) and a strict request parser.

A request without a known key gets 401 (except a browser opening GraphiQL, when enabled); a body
that is valid JSON but not an object is a 400, not a crash inside the HTTP layer.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

try:
    import orjson
except ImportError:  # pragma: no cover - orjson comes with the `fast` extra
    orjson = None  # type: ignore[assignment]
from strawberry.fastapi import GraphQLRouter
from strawberry.http.base import HTTPException  # cross_web or strawberry.http, by version
from strawberry.schema import BaseSchema

from pboss.config import Settings
from pboss.graphql.auth import ANONYMOUS, Principal, key_from_headers
from pboss.graphql.context import Context


class Unauthenticated(Exception):
    """A GraphQL request without a known API key."""


class StrictRouter(GraphQLRouter):
    """Strawberry's FastAPI router, refusing bodies that are not one JSON object with a 400, and
    encoding answers with orjson when it is installed (the `fast` extra)."""

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


def _wants_ide(request: Request, settings: Settings) -> bool:
    """True for a browser opening GraphiQL (no operation in the request)."""
    return (
        settings.graphiql
        and request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


def make_context(state: dict[str, Any], principal: Principal) -> Context:
    """One request's context for this caller over the app-wide state (the view's and the lean
    path's alike)."""
    return Context(
        store=state["store"], principal=principal, settings=state["settings"], state=state
    )


def context_getter(state: dict[str, Any]) -> Any:
    """The per-request context factory over the app-wide state."""
    settings: Settings = state["settings"]

    async def get_context(request: Request) -> Context:
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
    return StrictRouter(
        schema,
        context_getter=context_getter(state),
        graphql_ide="graphiql" if settings.graphiql else None,
    )
