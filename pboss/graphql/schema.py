"""The schema: `Query` and `Mutation` merged from per-domain classes, with the safety limits.

Domains add their classes to QUERY_TYPES / MUTATION_TYPES (see the marked place below). Limits:
depth, aliases and tokens per document, masked unexpected errors, introspection switchable off;
the request body limit is enforced before parsing, in `pboss.http.limits`.
"""

from __future__ import annotations

import logging
from functools import partial

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from pboss.config import Settings
from pboss.graphql.business.queries import BusinessQuery
from pboss.graphql.errors import ERROR_TYPES
from pboss.graphql.extensions import OperationMetrics, should_mask
from pboss.graphql.inventory.mutations import InventoryMutation
from pboss.graphql.inventory.queries import InventoryQuery
from pboss.graphql.inventory.types import ELEMENT_TYPES
from pboss.graphql.network.queries import NetworkQuery
from pboss.graphql.provisioning.mutations import ProvisioningMutation
from pboss.graphql.provisioning.queries import ProvisioningQuery
from pboss.metrics import Metrics

log = logging.getLogger(__name__)

QUERY_TYPES: list[type] = [InventoryQuery, NetworkQuery, BusinessQuery]
MUTATION_TYPES: list[type] = [InventoryMutation]

# After a change to these lists, re-export the SDL: `pboss schema export`.
QUERY_TYPES.append(ProvisioningQuery)
MUTATION_TYPES.append(ProvisioningMutation)


#: Documents kept parsed, and validation results kept, by query text (strawberry's LRU caches).
CACHE_SIZE = 512


class Schema(strawberry.Schema):
    """The strawberry schema, logging refused requests in one line and real failures in full
    (`process_errors`, strawberry's documented hook for error logging)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if should_mask(error):
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)
            else:
                log.info("refused: %s", error.message[:300])


def build_schema(settings: Settings | None = None, metrics: Metrics | None = None) -> Schema:
    """The executable schema with the limits the settings ask for (and metrics when given)."""
    settings = settings or Settings()
    extensions: list = [
        partial(MaxTokensLimiter, settings.max_tokens),
        partial(QueryDepthLimiter, max_depth=settings.max_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
        partial(ParserCache, maxsize=CACHE_SIZE),
        partial(ValidationCache, maxsize=CACHE_SIZE),
        partial(MaskErrors, should_mask_error=should_mask),
    ]
    if not settings.introspection:
        extensions.append(partial(AddValidationRules, [NoSchemaIntrospectionCustomRule]))
    if metrics is not None:
        extensions.append(partial(OperationMetrics, metrics))
    return Schema(
        query=merge_types("Query", tuple(QUERY_TYPES)),
        mutation=merge_types("Mutation", tuple(MUTATION_TYPES)),
        types=[*ELEMENT_TYPES, *ERROR_TYPES],
        extensions=extensions,
    )


def schema_sdl() -> str:
    """The schema in SDL, as exported to schema.graphql."""
    return build_schema().as_str() + "\n"
