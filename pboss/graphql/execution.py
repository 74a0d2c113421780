"""A faster path through graphql-core for plain leaf fields (attributes holding a scalar or enum).

A riders page of 50 resolves some 500 fields, two thirds of them plain leaves (`id`, `name`,
`cursor`, `health`, ...). For each, graphql-core builds a resolve info, calls strawberry's basic
resolver (a `getattr`), then completes the value through the non-null, list and leaf steps: about
5 µs a field, the largest share of the API's CPU per riders request. `PlainLeafExecutionContext`
reads such a field straight from its source object and coerces it with the type's own coercion,
the same value graphql-core would have produced. Anything else — resolvers, arguments, objects,
nulls, values that fail to coerce, middleware — goes through graphql-core unchanged, so errors keep
their messages and paths.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: Key of the plan in a field's `extensions`: (attribute, coerce, non-null, list of leaves).
PLAN = "pboss.plain_leaf"


def _plan(field: GraphQLField) -> tuple[str, Any, bool, bool] | None:
    """How to read a field directly, or None when graphql-core must resolve it."""
    definition = field.extensions.get("strawberry-definition")
    resolve = field.resolve
    if (
        definition is None
        or field.args
        or not getattr(resolve, "_is_default", False)  # strawberry's basic-field resolver
        or definition.default_resolver is not getattr
    ):
        return None
    gql_type, nonnull, many = field.type, False, False
    if isinstance(gql_type, GraphQLNonNull):
        gql_type, nonnull = gql_type.of_type, True
    if isinstance(gql_type, GraphQLList):
        if not isinstance(gql_type.of_type, GraphQLNonNull):
            return None
        gql_type, many = gql_type.of_type.of_type, True
    if not is_leaf_type(gql_type):
        return None
    return definition.python_name, gql_type.coerce_output_value, nonnull, many


def plan_plain_leaves(schema: GraphQLSchema) -> int:
    """Mark every plain leaf field of the schema's object types; returns how many."""
    marked = 0
    for gql_type in schema.type_map.values():
        if isinstance(gql_type, GraphQLObjectType) and not gql_type.name.startswith("__"):
            for field in gql_type.fields.values():
                plan = _plan(field)
                if plan is not None:
                    field.extensions = {**field.extensions, PLAN: plan}
                    marked += 1
    return marked


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the direct path for fields `plan_plain_leaves`
    marked."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)
        plan = field.extensions.get(PLAN) if field is not None else None
        middleware = self.middleware_manager
        if (
            plan is not None
            and not node.arguments
            and (middleware is None or not middleware.middlewares)
        ):
            attr, coerce, nonnull, many = plan
            try:
                value = getattr(source, attr)
                if value is None:
                    if not nonnull:
                        return None
                elif many:
                    if isinstance(value, list | tuple):
                        items = [coerce(v) for v in value]
                        if None not in items and Undefined not in items:
                            return items
                else:
                    coerced = coerce(value)
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            except Exception:  # let graphql-core resolve it and report the error its way
                pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
