"""Schema extensions: per-operation metrics, validation cached by document, and the rule for
which errors are masked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

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


#: Validation results kept by `ValidationByDocument` before it starts afresh.
MAX_VALIDATIONS = 512
_VALIDATED: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[GraphQLError]]] = {}


class ValidationByDocument(SchemaExtension):
    """Validates each parsed document once, as strawberry's `ValidationCache` does, but finds it
    by identity: the parser cache hands back the same document for the same query text, and
    `ValidationCache`'s LRU key hashes the whole syntax tree again on every request (≈ 65 µs of a
    riders request's GraphQL, warm loop). Each answer keeps its schema and document, so their
    ids are not reused; past `MAX_VALIDATIONS` answers the cache starts afresh. A query text whose
    document passes is recorded with the schema's accepted queries (`pboss.graphql.prepared`)."""

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        schema, document = ctx.schema._schema, ctx.graphql_document
        rules = tuple(ctx.validation_rules)
        key = (id(schema), id(document), rules)
        hit = _VALIDATED.get(key)
        if hit is None:
            if len(_VALIDATED) >= MAX_VALIDATIONS:
                _VALIDATED.clear()
            errors = validate_document(schema, document, rules)  # type: ignore[arg-type]
            hit = _VALIDATED[key] = ((schema, document), errors)
        ctx.pre_execution_errors = hit[1]
        accepted = getattr(ctx.schema, "accepted", None)
        if not hit[1] and accepted is not None and ctx.query is not None:
            accepted.add(ctx.query, document, rules)
        yield
