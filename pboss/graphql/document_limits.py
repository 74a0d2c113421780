"""Document limits in time linear in the document: depth, aliases and the estimated cost.

A document may spread a fragment many times, and fragments spread fragments: walked naively, a
chain `fragment F1 on Query { ...F0 ...F0 }` ... `F39` is a tree of 2^39 selections behind 2 KB
of text. Here every fragment is measured once, in dependency order (a fragment after the
fragments it spreads), and a spread adds the fragment's stored measure (times the list sizes
around it for the cost), so each figure is exact for the expanded document and costs one pass.
Cycles are refused by graphql-core's NoFragmentCycles rule; a spread back into a fragment still
being measured counts as empty here, so a cycle can neither loop nor crash this pass.

- depth: nested fields with a selection set (introspection fields not counted), as
  strawberry's QueryDepthLimiter counts them, reported per operation with its message;
- aliases: aliased fields in all operations with fragments expanded, as MaxAliasesLimiter;
- cost: fields the operation may resolve, each counted once per item of every list around it. A
  field with `first`/`limit` multiplies what it selects by that size (a variable's value or the
  argument's default, capped at MAX_PAGE); any other list field by an assumed `list_size`; lists
  directly inside a `...Connection` type are the page `first` already counted (so a connection's
  own fields, totalCount and pageInfo, count once per item: an estimate errs high). Introspection
  fields cost 1 whatever they select (the schema is small and static).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.language import VisitorAction

from pboss.graphql.connections import MAX_PAGE

#: Arguments that say how many items a list field returns.
SIZE_ARGUMENTS = ("first", "last", "limit")


def fragments_in_order(document: DocumentNode) -> list[FragmentDefinitionNode]:
    """The document's fragments, each after every fragment it spreads (an iterative DFS, so a
    long chain cannot exhaust the stack; a spread that closes a cycle is ignored)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    spreads = {name: _spread_names(f.selection_set) for name, f in fragments.items()}
    order: list[FragmentDefinitionNode] = []
    state: dict[str, int] = {}  # 1: being visited, 2: done
    for root in fragments:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(spreads[root]))]
        while stack:
            name, pending = stack[-1]
            child = next((c for c in pending if c in fragments and c not in state), None)
            if child is None:
                stack.pop()
                state[name] = 2
                order.append(fragments[name])
            else:
                state[child] = 1
                stack.append((child, iter(spreads[child])))
    return order


def _spread_names(selection_set: SelectionSetNode | None) -> list[str]:
    """Names of the fragments spread anywhere inside a selection set."""
    names: list[str] = []
    if selection_set is None:
        return names
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            names.append(selection.name.value)
        else:
            names.extend(_spread_names(selection.selection_set))  # type: ignore[attr-defined]
    return names


@dataclass(frozen=True)
class Shape:
    """What a selection set amounts to with its fragments expanded."""

    depth: int = 0
    aliases: int = 0


EMPTY = Shape()


def _shape(selection_set: SelectionSetNode | None, known: Mapping[str, Shape]) -> Shape:
    """Depth and alias count of a selection set, spreads taken from `known`."""
    if selection_set is None:
        return EMPTY
    depth = aliases = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            inner = _shape(selection.selection_set, known)
            aliases += inner.aliases + (selection.alias is not None)
            if selection.selection_set is not None and not selection.name.value.startswith("__"):
                depth = max(depth, 1 + inner.depth)
        elif isinstance(selection, InlineFragmentNode):
            inner = _shape(selection.selection_set, known)
            aliases += inner.aliases
            depth = max(depth, inner.depth)
        elif isinstance(selection, FragmentSpreadNode):
            inner = known.get(selection.name.value, EMPTY)
            aliases += inner.aliases
            depth = max(depth, inner.depth)
    return Shape(depth, aliases)


def operation_shapes(document: DocumentNode) -> dict[str, Shape]:
    """Each operation's shape ("anonymous" for an unnamed one), fragments measured once."""
    known: dict[str, Shape] = {}
    for fragment in fragments_in_order(document):
        known[fragment.name.value] = _shape(fragment.selection_set, known)
    return {
        (d.name.value if d.name else "anonymous"): _shape(d.selection_set, known)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def shape_rule(max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations deeper than `max_depth` and documents with more
    than `max_aliases` aliases (strawberry's limiters' messages, computed in linear time)."""

    class ShapeLimits(ASTValidationRule):
        """Depth per operation and aliases per document, measured once on entering it."""

        def enter_document(self, node: DocumentNode, *_args: Any) -> VisitorAction:
            shapes = operation_shapes(node)
            for name, shape in shapes.items():
                if shape.depth > max_depth:
                    self.report_error(
                        GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}")
                    )
            aliases = sum(shape.aliases for shape in shapes.values())
            if aliases > max_aliases:
                self.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}"))
            return self.SKIP

    return ShapeLimits


class CostModel:
    """Estimates what an operation may resolve, from a schema's types (see the module doc)."""

    def __init__(self, schema: GraphQLSchema, list_size: int):
        self.schema = schema
        self.list_size = list_size

    def cost(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> int:
        """The estimated cost of `operation` in `document` with these variable values."""
        values = dict(variables or {})
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in values and isinstance(definition.default_value, IntValueNode):
                values[name] = int(definition.default_value.value)
        known: dict[str, int] = {}
        for fragment in fragments_in_order(document):
            parent = self.schema.get_type(fragment.type_condition.name.value)
            known[fragment.name.value] = self._cost(fragment.selection_set, parent, known, values)
        root = self.schema.get_root_type(operation.operation)
        return self._cost(operation.selection_set, root, known, values)

    def _cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        known: Mapping[str, int],
        values: Mapping[str, Any],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, known, values)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self._cost(selection.selection_set, inner, known, values)
            elif isinstance(selection, FragmentSpreadNode):
                total += known.get(selection.name.value, 0)
        return total

    def _field_cost(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        known: Mapping[str, int],
        values: Mapping[str, Any],
    ) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        definition = fields.get(name) if fields is not None else None
        if name.startswith("__") or definition is None or node.selection_set is None:
            return 1
        size = self._size(node, definition.args, values)
        if size is None:
            in_page = parent is not None and parent.name.endswith("Connection")
            listed = is_list_type(get_nullable_type(definition.type))
            size = self.list_size if listed and not in_page else 1
        inner = self._cost(node.selection_set, get_named_type(definition.type), known, values)
        return 1 + size * inner

    def _size(
        self, node: FieldNode, args: Mapping[str, Any], values: Mapping[str, Any]
    ) -> int | None:
        """The field's `first`/`limit` as asked (literal, variable or default), or None."""
        for arg_name in SIZE_ARGUMENTS:
            if arg_name not in args:
                continue
            given = next((a.value for a in node.arguments or () if a.name.value == arg_name), None)
            value: Any = args[arg_name].default_value
            if isinstance(given, IntValueNode):
                value = int(given.value)
            elif isinstance(given, VariableNode):
                value = values.get(given.name.value, value)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(0, min(value, MAX_PAGE))
            return MAX_PAGE if given is not None else self.list_size
        return None


def cost_limit_for(limits: Mapping[str, int], role: str | None) -> int:
    """The cost limit of a role: its own, else the smallest configured (an unknown role gets
    the least)."""
    if role in limits:
        return limits[role]  # type: ignore[index]
    return min(limits.values())
