"""The common GraphQL request answered without FastAPI's routing and strawberry's HTTP view.

Nearly every call is one operation POSTed to /graphql as a JSON object, with a known API key.
`LeanGraphQL` (ASGI middleware, inside the metrics and body-limit middleware) answers exactly
those by calling `schema.execute` itself, as strawberry's view would: the same context, the same
allowed operation types, the same 400s for an unknown operation name, the same JSON and headers.
That skips FastAPI's route matching and dependency solving and the view's request adapters
(≈ 0.2-0.3 ms of a riders request's CPU). Everything else is handed on, body replayed, to the
app and its view unchanged: GET, GraphiQL, batches, multipart uploads, streaming `Accept`
headers, other content types, bodies that are not one well-formed operation (the view's 400s),
and requests without a known key (its 401). Schema extensions (limits, masking, introspection
switch, operation metrics) run inside `schema.execute`, so both paths share them; a query text
the schema has already accepted runs past strawberry's pipeline with the same outcome
(`pboss.graphql.prepared`).
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from starlette.background import BackgroundTasks
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from pboss.graphql.auth import key_from_headers
from pboss.graphql.prepared import execute_accepted
from pboss.graphql.router import StrictRouter, make_context
from pboss.graphql.schema import Schema

_JSON = "application/json"
_POST_OPERATIONS = OperationType.from_http("POST")


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name, the first of repeated ones (as Starlette's
    `Headers.get` reads them)."""
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key not in out:
            out[key] = value.decode("latin-1")
    return out


def _is_json(content_type: str) -> bool:
    """True for exactly `application/json`, parameters allowed: what the view surely reads as
    JSON (any other spelling is left to the view to judge)."""
    return content_type == _JSON or content_type.startswith(_JSON + ";")


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive giving the messages already read first, then the connection's own."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _operation(data: Any) -> tuple[str, dict | None, str | None, dict | None] | None:
    """(query, variables, operation name, extensions) of a well-formed single operation, or None
    when the view must judge the body (a batch, a missing or odd member)."""
    if not isinstance(data, dict):
        return None
    query, variables = data.get("query"), data.get("variables")
    name, extensions = data.get("operationName"), data.get("extensions")
    if (
        not isinstance(query, str)
        or not isinstance(variables, dict | None)
        or not isinstance(name, str | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return query, variables, name, extensions


class LeanGraphQL:
    """Answers single JSON operations POSTed to `path` with a known key; hands on the rest."""

    #: Tests switch the lean path off to compare it with the view's answers.
    enabled = True

    def __init__(self, app: ASGIApp, router: StrictRouter, state: dict[str, Any], path: str):
        self.app = app
        self.router = router
        self.schema = router.schema
        self.state = state
        self.path = path
        self.keyring = state["keyring"]
        # incremental delivery (@defer) answers with a stream, which only the view sends
        self.usable = not self.schema.config.enable_experimental_incremental_execution
        # accepted queries run past strawberry's pipeline where the schema records them, every
        # extension's work is known and its error processing is the plain one
        self.prepared = (
            isinstance(self.schema, Schema)
            and self.schema.after_execution.complete
            and not (self.schema.config.disable_field_suggestions or self.schema.directives)
        )
        #: Requests answered here (tests check which path took a request).
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
            or scope.get("root_path")
            or not (self.enabled and self.usable)
        ):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        principal = self.keyring.principal(key_from_headers(headers))
        if (
            principal is None
            or not _is_json(headers.get("content-type", ""))
            or self.router._get_stream_transport_from_headers(headers) is not None
        ):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = _replay(messages, receive)
        try:
            operation = _operation(self.router.decode_json(b"".join(chunks)))
        except Exception:  # bad JSON, bad UTF-8, absurd nesting: the view's 400
            operation = None
        if operation is None or messages[-1]["type"] != "http.request":
            await self.app(scope, replayed, send)
            return
        self.served += 1
        await self._execute(scope, replayed, send, principal, operation)

    async def _execute(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        principal: Any,
        operation: tuple[str, dict | None, str | None, dict | None],
    ) -> None:
        """Run the operation as strawberry's view does and send its answer."""
        query, variables, name, extensions = operation
        context = make_context(self.state, principal)
        # what strawberry's FastAPI dependency gives the context: the request, background tasks
        # and the sub-response whose status and headers the answer takes (FastAPI's blank one)
        sub = Response()
        del sub.headers["content-length"]
        sub.status_code = None  # type: ignore[assignment]
        tasks = BackgroundTasks()
        context.request = Request(scope, receive)
        context.background_tasks = tasks
        context.response = sub
        document = self.schema.accepted.get(query) if self.prepared else None
        result = None
        if document is not None and extensions is None:
            result = await execute_accepted(self.schema, document, variables, name, context)
        try:
            if result is None:
                result = await self.schema.execute(
                    query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=name,
                    allowed_operation_types=_POST_OPERATIONS,
                    operation_extensions=extensions,
                )
        except CannotGetOperationTypeError as exc:
            await PlainTextResponse(exc.as_http_error_reason(), status_code=400)(
                scope, receive, send
            )
            return
        except InvalidOperationTypeError as exc:
            await PlainTextResponse(exc.as_http_error_reason("POST"), status_code=400)(
                scope, receive, send
            )
            return
        if not isinstance(result, ExecutionResult | GraphQLExecutionResult):
            raise TypeError(f"a single JSON answer was expected, got {type(result).__name__}")
        response = Response(
            self.router.encode_json(process_result(result)),
            media_type=_JSON,
            status_code=sub.status_code or 200,
            background=tasks if tasks.tasks else None,
        )
        response.headers.raw.extend(sub.headers.raw)
        await response(scope, receive, send)
