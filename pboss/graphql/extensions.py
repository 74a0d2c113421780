"""Schema extensions: per-operation metrics, and the rule for which errors are masked.

Limits (depth, aliases, tokens), the parser and validation caches, masking and the
introspection switch are strawberry's own extensions, assembled in `pboss.graphql.schema`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from pboss.inventory.errors import PbossError
from pboss.metrics import Metrics


def should_mask(error: GraphQLError) -> bool:
    """Mask resolver failures nobody meant the caller to read (a bug, a store outage); keep
    validation, syntax and limit errors, and errors raised for the caller (UserInputError)."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError | PbossError):
        return False
    return error.path is not None


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
