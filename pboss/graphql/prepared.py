"""Accepted queries run straight through graphql-core, past strawberry's per-request pipeline.

Strawberry's `Schema.execute` builds, on every request, an execution context, a fresh instance of
every schema extension and a context manager for each of their hooks, around graphql-core's
`execute` (≈ 90 µs of a riders request's 250 µs of GraphQL in a warm loop). For a query text the
schema has already parsed and validated without error (limits and rules included:
`ValidationByDocument` records it here), none of that can change the outcome before execution:
the same text parses to the same document, which passes the same rules. So the lean path runs
such queries with `execute_accepted`: graphql-core's `execute` with the schema's execution
context, then what the schema's extensions do after it, through the same code: errors logged
by the schema and masked by the schema's `MaskErrors`, the operation counted and timed by
`record_operation` (its time is execution's: the text's parse and validation are done).
Mutations, operations the document does not name, texts not yet accepted, requests with
operation extensions and schemas with other extensions go through `schema.execute` as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, GraphQLError, OperationType, execute, get_operation_ast
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.types import ExecutionResult

from pboss.graphql.extensions import OperationMetrics, ValidationByDocument, record_operation
from pboss.metrics import Metrics

if TYPE_CHECKING:
    from pboss.graphql.schema import Schema

#: Query texts kept per schema before the record starts afresh (one per distinct text).
MAX_ACCEPTED = 512


class AcceptedQueries:
    """The query texts one schema has parsed and validated without error, with their documents.

    Keyed by the exact text, so a text is either known to pass every pre-execution check or
    goes the whole way through strawberry; bounded (cleared when full). Texts are accepted under
    one set of validation rules: should the schema ever validate under another (rules that
    depend on the request), the record empties and accepts nothing more, since a text accepted
    for one request would then not be checked for the next."""

    def __init__(self, limit: int = MAX_ACCEPTED):
        self.limit = limit
        self.documents: dict[str, DocumentNode] = {}
        self.rules: tuple[Any, ...] | None = None
        self.closed = False

    def add(self, query: str, document: DocumentNode, rules: tuple[Any, ...]) -> None:
        """Record a text that passed parsing (with its limits) and validation under `rules`."""
        if self.rules is None:
            self.rules = rules
        elif rules != self.rules:
            self.closed = True
            self.documents.clear()
        if self.closed:
            return
        if query not in self.documents and len(self.documents) >= self.limit:
            self.documents.clear()
        self.documents[query] = document

    def get(self, query: str) -> DocumentNode | None:
        """The document of an accepted text (None: not accepted, or forgotten)."""
        return self.documents.get(query)


#: The schema extensions whose work the prepared path does or does not need: the limits and
#: caches act before execution (an accepted text has passed them), masking and metrics after it
#: (`AfterExecution`). A schema with any other extension runs every query through strawberry.
KNOWN_EXTENSIONS = (
    MaxTokensLimiter,
    AddValidationRules,
    ParserCache,
    ValidationByDocument,
    MaskErrors,
    OperationMetrics,
)


class AfterExecution:
    """What a schema's extensions do once an operation has run, from its own extension
    factories: mask errors as its `MaskErrors` is configured to, and count and time the
    operation in its `OperationMetrics`' metrics (each only if the schema has one). `complete`
    is False when the schema has an extension not in `KNOWN_EXTENSIONS`."""

    def __init__(self, extensions: Iterable[SchemaExtension | Callable[[], SchemaExtension]]):
        made = [e if isinstance(e, SchemaExtension) else e() for e in extensions]
        self.complete = all(type(e) in KNOWN_EXTENSIONS for e in made)
        self.masker = next((e for e in made if isinstance(e, MaskErrors)), None)
        self.metrics: Metrics | None = next(
            (e.metrics for e in made if isinstance(e, OperationMetrics)), None
        )

    def mask(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        """The errors as the schema's `MaskErrors` leaves them."""
        masker = self.masker
        if masker is None:
            return errors
        return [masker.anonymise_error(e) if masker.should_mask_error(e) else e for e in errors]


async def execute_accepted(
    schema: Schema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: Any,
) -> ExecutionResult | None:
    """Run a query of an accepted document as `schema.execute` would (None: not a query this
    path runs, e.g. a mutation or an operation name the document lacks)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    started = time.perf_counter()
    try:
        result: Any = execute(
            schema._schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=schema.execution_context_class,
            is_awaitable=optimized_is_awaitable,
        )
        if optimized_is_awaitable(result):
            result = await result
        data, errors = result.data, result.errors
    except Exception as exc:  # as strawberry answers a failure of `execute` itself: no data
        data, errors = None, [GraphQLError(str(exc), original_error=exc)]
    if errors:
        schema.process_errors(errors)
        errors = schema.after_execution.mask(errors)
    metrics = schema.after_execution.metrics
    if metrics is not None:  # timed from execution: the text's parse and validation are done
        name = operation_name or (operation.name.value if operation.name else None)
        seconds = time.perf_counter() - started
        record_operation(metrics, name, "query", bool(errors), seconds)
    return ExecutionResult(data=data, errors=errors)
