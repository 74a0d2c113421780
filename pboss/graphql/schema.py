"""The schema: `Query` and `Mutation` merged from per-domain classes, with the safety limits.

Domains add their classes to QUERY_TYPES / MUTATION_TYPES (see the marked place below). Limits:
depth, aliases and tokens per document, masked unexpected errors, introspection switchable off;
the request body limit is enforced before parsing, in `pboss.graphql.limits`.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.tools import merge_types

from pboss.config import Settings
from pboss.graphql.business import BusinessQuery
from pboss.graphql.errors import ERROR_TYPES
from pboss.graphql.execution import PlainLeafExecutionContext, plan_plain_leaves
from pboss.graphql.extensions import OperationMetrics, ValidationByDocument, should_mask
from pboss.graphql.mutations import InventoryMutation
from pboss.graphql.prepared import AcceptedQueries, AfterExecution
from pboss.graphql.provisioning import ProvisioningMutation, ProvisioningQuery
from pboss.graphql.queries import InventoryQuery, NetworkQuery
from pboss.graphql.types import ELEMENT_TYPES
from pboss.metrics import Metrics

log = logging.getLogger(__name__)

QUERY_TYPES: list[type] = [InventoryQuery, NetworkQuery, BusinessQuery]
MUTATION_TYPES: list[type] = [InventoryMutation]

# After a change to these lists, re-export the SDL: `pboss schema export`.
QUERY_TYPES.append(ProvisioningQuery)
MUTATION_TYPES.append(ProvisioningMutation)


class Schema(strawberry.Schema):
    """The strawberry schema, logging refused requests in one line and real failures in full,
    with the query texts it has accepted and what its extensions do after an operation, for
    running accepted queries past strawberry's pipeline (`pboss.graphql.prepared`)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.accepted = AcceptedQueries()
        self.after_execution = AfterExecution(self.extensions)

    def process_errors(self, errors: list[GraphQLError], execution_context: object = None) -> None:
        for error in errors:
            if should_mask(error):
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)
            else:
                log.info("refused: %s", error.message[:300])


def build_schema(
    settings: Settings | None = None, metrics: Metrics | None = None, *, fast: bool = True
) -> strawberry.Schema:
    """The executable schema with the limits the settings ask for (and metrics when given).

    `fast=False` executes with graphql-core's own field completion instead of the direct paths
    for plain fields (`pboss.graphql.execution`): the same answers, which tests compare.
    """
    settings = settings or Settings()
    rules = [depth_rule(settings.max_depth, None), alias_rule(settings.max_aliases)]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # the lean path runs accepted queries without these (`pboss.graphql.prepared`): whatever an
    # extension does after execution must be done there too (a test lists the ones it knows)
    extensions: list = [
        partial(MaxTokensLimiter, settings.max_tokens),
        partial(AddValidationRules, rules),
        partial(ParserCache, maxsize=512),
        ValidationByDocument,
        partial(MaskErrors, should_mask_error=should_mask),
    ]
    if metrics is not None:
        extensions.append(partial(OperationMetrics, metrics))
    schema = Schema(
        query=merge_types("Query", tuple(QUERY_TYPES)),
        mutation=merge_types("Mutation", tuple(MUTATION_TYPES)),
        types=[*ELEMENT_TYPES, *ERROR_TYPES],
        extensions=extensions,
        execution_context_class=PlainLeafExecutionContext if fast else None,
    )
    if fast:
        plan_plain_leaves(schema._schema)
    return schema


def schema_sdl() -> str:
    """The schema in SDL, as exported to schema.graphql."""
    return build_schema().as_str() + "\n"
