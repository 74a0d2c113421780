"""The schema: `Query`, `Mutation` and `Subscription` merged from per-domain classes, with the
safety limits.

Domains add their classes to QUERY_TYPES / MUTATION_TYPES / SUBSCRIPTION_TYPES (see the marked
place below). Limits: tokens per document (strawberry's), depth and aliases
(`document_limits.shape_rule`, linear in the document), the estimated cost per role
(`extensions.CostLimit`), masked unexpected errors, introspection switchable off; the request
body and response size limits are enforced in `pboss.http`. Every query and mutation runs on a
worker event loop (`pboss.graphql.loops`), never on the loop that answers health checks; a
subscription (WebSocket only, `stream`) runs on the server's loop but does its store reads on the
store threads and sends one event at a time, and its document passed the same limits.
docs/api.md lists every limit.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncGenerator, Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSchema, GraphQLSyntaxError
from graphql import build_schema as schema_from_sdl
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from pboss.config import Settings
from pboss.graphql.assurance.alarms import AlarmMutation, AlarmQuery
from pboss.graphql.assurance.incident_actions import IncidentActionMutation
from pboss.graphql.assurance.incidents import IncidentMutation, IncidentQuery
from pboss.graphql.assurance.tickets import TicketMutation, TicketQuery
from pboss.graphql.business.queries import BusinessQuery
from pboss.graphql.crm.mutations import CrmMutation
from pboss.graphql.crm.queries import CrmQuery
from pboss.graphql.cutover.mutations import CutoverMutation
from pboss.graphql.cutover.queries import CutoverQuery
from pboss.graphql.document_limits import CostModel, shape_rule
from pboss.graphql.errors import ERROR_TYPES
from pboss.graphql.events.queries import EventsQuery
from pboss.graphql.events.subscriptions import EventsSubscription
from pboss.graphql.extensions import CostLimit, OperationMetrics, should_mask
from pboss.graphql.hub.mutations import HubMutation
from pboss.graphql.hub.queries import HubQuery
from pboss.graphql.inventory.edges import EdgeMutation
from pboss.graphql.inventory.mutations import InventoryMutation
from pboss.graphql.inventory.queries import InventoryQuery
from pboss.graphql.inventory.types import ELEMENT_TYPES
from pboss.graphql.loops import WorkerLoops
from pboss.graphql.network.queries import NetworkQuery
from pboss.graphql.provisioning.mutations import ProvisioningMutation
from pboss.graphql.provisioning.queries import ProvisioningQuery
from pboss.metrics import Metrics

log = logging.getLogger(__name__)

QUERY_TYPES: list[type] = [InventoryQuery, NetworkQuery, BusinessQuery]
MUTATION_TYPES: list[type] = [InventoryMutation]
SUBSCRIPTION_TYPES: list[type] = [EventsSubscription]

# After a change to these lists, re-export the SDL: `pboss schema export`.
QUERY_TYPES.append(ProvisioningQuery)
MUTATION_TYPES.append(ProvisioningMutation)
MUTATION_TYPES.append(EdgeMutation)
QUERY_TYPES.append(EventsQuery)
QUERY_TYPES.append(CrmQuery)
MUTATION_TYPES.append(CrmMutation)
QUERY_TYPES.append(HubQuery)
MUTATION_TYPES.append(HubMutation)
QUERY_TYPES.append(CutoverQuery)
MUTATION_TYPES.append(CutoverMutation)
QUERY_TYPES.append(IncidentQuery)
MUTATION_TYPES.append(IncidentMutation)
QUERY_TYPES += [TicketQuery, AlarmQuery]
MUTATION_TYPES += [TicketMutation, AlarmMutation]
MUTATION_TYPES.append(IncidentActionMutation)


#: Documents kept parsed, and validation results kept, by query text (strawberry's LRU caches).
CACHE_SIZE = 512


class Schema(strawberry.Schema):
    """The strawberry schema, running each operation on its worker loops when it has them, and
    logging refused requests in one line and real failures in full (`process_errors`,
    strawberry's documented hook for error logging)."""

    def __init__(self, *args: Any, loops: WorkerLoops | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.loops = loops

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Parse, validate and execute one operation, on a worker loop when there are some."""
        work = super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )
        if self.loops is None:
            return await work
        return await self.loops.run(work)

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        """Stream a subscription's results (the WebSocket transport's entry). Only
        subscriptions by default: queries and mutations go over HTTP POST, where they run on
        the worker loops and their answers are capped in size. A document the token limit
        refuses while parsing comes back as the error it is instead of escaping the stream as a
        crash (strawberry would log it and complete the operation without a word)."""
        source = await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types or (OperationType.SUBSCRIPTION,),
        )
        return syntax_errors_answered(source)

    def close(self) -> None:
        """Stop the worker loops (the app's shutdown calls it)."""
        if self.loops is not None:
            self.loops.close()

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if should_mask(error):
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)
            else:
                log.info("refused: %s", error.message[:300])


async def syntax_errors_answered(source: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """A stream's results, a syntax error raised while parsing (the token limit's) yielded as
    an error result the transport sends (`next` with the error, then `complete`)."""
    try:
        async for result in source:
            yield result
    except GraphQLSyntaxError as error:
        yield ExecutionResult(data=None, errors=[error])
    finally:
        await source.aclose()


def build_schema(settings: Settings | None = None, metrics: Metrics | None = None) -> Schema:
    """The executable schema with the limits the settings ask for (and metrics when given),
    running operations on `settings.graphql_threads` worker loops (0: on the caller's loop)."""
    settings = settings or Settings()
    rules: list = [shape_rule(settings.max_depth, settings.max_aliases)]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    cost = CostModel(TYPES_ONLY.schema(), settings.cost_list_size)
    extensions: list = [
        partial(MaxTokensLimiter, settings.max_tokens),
        partial(ParserCache, maxsize=CACHE_SIZE),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=CACHE_SIZE),
        partial(CostLimit, cost, settings.max_cost),
        partial(MaskErrors, should_mask_error=should_mask),
    ]
    if metrics is not None:
        extensions.append(partial(OperationMetrics, metrics))
    loops = WorkerLoops(settings.graphql_threads) if settings.graphql_threads else None
    schema = Schema(
        query=merge_types("Query", tuple(QUERY_TYPES)),
        mutation=merge_types("Mutation", tuple(MUTATION_TYPES)),
        subscription=merge_types("Subscription", tuple(SUBSCRIPTION_TYPES)),
        types=[*ELEMENT_TYPES, *ERROR_TYPES],
        extensions=extensions,
        loops=loops,
    )
    if loops is not None:  # an app never shut down still stops its threads once dropped
        weakref.finalize(schema, loops.close)
    return schema


class TypesOnly:
    """The schema's types as a graphql-core schema built from its SDL, for the cost estimate
    (built once per process: the types do not depend on settings)."""

    def __init__(self) -> None:
        self.built: GraphQLSchema | None = None

    def schema(self) -> GraphQLSchema:
        """The graphql-core schema of the SDL the API serves."""
        if self.built is None:
            bare = Schema(
                query=merge_types("Query", tuple(QUERY_TYPES)),
                mutation=merge_types("Mutation", tuple(MUTATION_TYPES)),
                subscription=merge_types("Subscription", tuple(SUBSCRIPTION_TYPES)),
                types=[*ELEMENT_TYPES, *ERROR_TYPES],
            )
            self.built = schema_from_sdl(bare.as_str())
        return self.built


TYPES_ONLY = TypesOnly()


def schema_sdl() -> str:
    """The schema in SDL, as exported to schema.graphql."""
    return build_schema().as_str() + "\n"
