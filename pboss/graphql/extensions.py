"""Schema extensions: per-operation metrics, the cost limit, and which errors are masked.

The token limit, the parser and validation caches, masking and the introspection switch are
strawberry's own extensions; depth and aliases are our validation rule
(`pboss.graphql.document_limits`); all assembled in `pboss.graphql.schema`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError, OperationType, get_operation_ast
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from pboss.graphql.document_limits import CostModel, cost_limit_for
from pboss.inventory.errors import PbossError
from pboss.metrics import Metrics

#: Strawberry's refusals of a request before anything runs (no query, an unknown operation, an
#: operation type the transport does not take): meant for the caller.
REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def should_mask(error: GraphQLError) -> bool:
    """Mask failures nobody meant the caller to read (a bug, a store outage), whether raised by
    a resolver (with a path) or by a subscription's stream between events (without one); keep
    validation, syntax and limit errors, strawberry's refusals of the request, and errors raised
    for the caller (UserInputError)."""
    original = error.original_error
    meant = (GraphQLError, PbossError, *REQUEST_ERRORS)
    return original is not None and not isinstance(original, meant)


class OperationMetrics(SchemaExtension):
    """Counts each GraphQL operation by name, type and outcome, and times it."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        start = time.perf_counter()
        yield
        ctx = self.execution_context
        try:
            name, kind = ctx.operation_name, ctx.operation_type.value
        except Exception:  # no parsable document: a syntax or size error
            name, kind = None, None
        result = ctx.result
        failed = bool(ctx.pre_execution_errors) or result is None or bool(result.errors)
        record_operation(self.metrics, name, kind, failed, time.perf_counter() - start)


def record_operation(
    metrics: Metrics, name: str | None, kind: str | None, failed: bool, seconds: float
) -> None:
    """Count and time one operation (`kind` None: no parsable document, counted as invalid)."""
    label, kind = (metrics.operation_label(name), kind) if kind else ("invalid", "unknown")
    metrics.operations.labels(label, kind, "error" if failed else "ok").inc()
    metrics.operation_seconds.labels(label, kind).observe(seconds)


#: Costs above this are reported as "over" it (JSON clients read integers up to 2^53 exactly).
COST_SHOWN_UP_TO = 10**15


class CostLimit(SchemaExtension):
    """Refuses, before anything resolves, an operation whose estimated cost (with its variables)
    is over the caller's role's limit: a `COST_LIMIT_EXCEEDED` error naming both figures."""

    def __init__(self, model: CostModel, limits: dict[str, int]):
        self.model = model
        self.limits = limits

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        operation = get_operation_ast(document, ctx.operation_name) if document else None
        if document is not None and operation is not None:
            role = getattr(getattr(ctx.context, "principal", None), "role", None)
            limit = cost_limit_for(self.limits, role)
            cost = self.model.cost(document, operation, ctx.variables)
            if cost > limit:
                error = cost_error(cost, limit, role)
                if operation.operation == OperationType.SUBSCRIPTION:
                    raise error  # strawberry subscribes whatever result is set: raising refuses
                ctx.result = ExecutionResult(data=None, errors=[error])
        yield


def cost_error(cost: int, limit: int, role: str | None) -> GraphQLError:
    """The refusal of an operation over its cost limit (docs/api.md, Limits)."""
    shown = str(cost) if cost <= COST_SHOWN_UP_TO else f"over {COST_SHOWN_UP_TO}"
    return GraphQLError(
        f"query cost {shown} exceeds the limit of {limit} for role {role or 'unknown'}: ask for "
        "smaller pages (first, limit) or fewer nested lists",
        extensions={
            "code": "COST_LIMIT_EXCEEDED",
            "cost": min(cost, COST_SHOWN_UP_TO),
            "limit": limit,
        },
    )
