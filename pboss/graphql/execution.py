"""Faster paths through graphql-core for plain fields: leaves, and whole plain object subtrees.

A riders page of 50 resolves some 530 fields. graphql-core spends about 3 µs on each: a resolve
info, strawberry's basic resolver (a `getattr`), then the non-null, list, leaf or object
completion steps, and for every object its sub-field collection and `execute_fields`. Two paths
skip that work for fields that need none of it, with the same answers:

- **plain leaves** (`PlainLeafExecutionContext`, marked by `plan_plain_leaves`): a field whose
  value is an attribute holding a scalar or enum is read straight from its source object and
  coerced with the type's own `coerce_output_value`;
- **plain object subtrees**: when a field holding an object (or a list of objects) is selected
  with only plain fields below it — basic strawberry fields (no resolver, permission class or
  field extension), no arguments, no directives, no abstract types, leaves and nested plain
  objects and lists of them, `__typename`, aliases and fragments honoured — the selection is
  compiled once into a projector: one generated Python function that builds the result dicts in
  straight-line code (a selection too deeply nested for Python to compile goes graphql-core's
  way). Projectors are cached on the field, keyed by the identity of the field nodes (the parser
  cache hands back the same document for the same query text); nothing in them depends on the
  variables: whether the field is deferred (`@defer(if: $var)` above it), the one per-request
  decision, is asked before the cache, and a field carrying directives of its own (`@include`,
  `@skip`, `@stream`) or below it is left to graphql-core.

The same projectors also complete **object values graphql-core has in hand**: a resolver's result
(the connection `riders` returns, once its union member is resolved) or a list item, when that
object's selection is plain; each object type keeps its own projectors (`OBJECT_VALUE`), found
once per execution for each list of field details (graphql-core completes every item of a list
with the same one).

Anything else — resolvers, arguments, the resolution of interfaces and unions, directives,
`@defer`, middleware — goes through graphql-core unchanged. So does any value the plan does not
expect: a null in a non-null field, a value its type refuses to coerce, an object of another
class, something that is not a list where a list is due. The projector then gives up on the
whole field (or object) and graphql-core completes it afresh (the projector has no side
effects: it only reads attributes), so errors keep graphql-core's messages, paths and null
propagation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from keyword import iskeyword
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    is_leaf_type,
)
from graphql.type.scalars import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    serialize_boolean,
    serialize_id,
    serialize_int,
    serialize_string,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE

#: Key of the plan in a field's `extensions`: (attribute, coerce, non-null, list of leaves).
PLAN = "pboss.plain_leaf"
#: Key of a basic field's attribute and its projector cache (node ids -> projector or None).
OBJECT = "pboss.plain_object"
#: Key of an object type's projector cache, for values of that type graphql-core completes.
OBJECT_VALUE = "pboss.plain_object_value"
#: Projectors kept per field before the cache starts afresh (one per distinct selection).
MAX_PROJECTORS = 256

Complete = Callable[[Any], Any]


class _Miss(Exception):
    """A value the projector does not expect: graphql-core completes the field instead."""


_MISS = _Miss()
#: Coercions that return a value of exactly this Python type unchanged.
_IDENTITY: dict[Any, type] = {serialize_string: str, serialize_id: str, serialize_boolean: bool}


def _basic_attr(field: GraphQLField) -> str | None:
    """The attribute a strawberry basic field reads (None when it has a resolver, arguments,
    extensions, permission classes or another default resolver)."""
    definition = field.extensions.get("strawberry-definition")
    if (
        definition is None
        or field.args
        or not getattr(field.resolve, "_is_default", False)  # strawberry's basic-field resolver
        or definition.default_resolver is not getattr
    ):
        return None
    return definition.python_name


def _plan(field: GraphQLField) -> tuple[str, Any, bool, bool] | None:
    """How to read a leaf field directly, or None when graphql-core must resolve it."""
    attr = _basic_attr(field)
    if attr is None:
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
    return attr, gql_type.coerce_output_value, nonnull, many


def _named(gql_type: Any) -> Any:
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        gql_type = gql_type.of_type
    return gql_type


def plan_plain_leaves(schema: GraphQLSchema) -> int:
    """Mark every plain leaf field of the schema's object types, and every basic field holding
    objects for projection; returns how many leaves."""
    marked = 0
    for gql_type in schema.type_map.values():
        if isinstance(gql_type, GraphQLObjectType) and not gql_type.name.startswith("__"):
            if gql_type is not schema.query_type and gql_type is not schema.mutation_type:
                gql_type.extensions = {**gql_type.extensions, OBJECT_VALUE: {}}
            for field in gql_type.fields.values():
                plan = _plan(field)
                if plan is not None:
                    field.extensions = {**field.extensions, PLAN: plan}
                    marked += 1
                elif isinstance(_named(field.type), GraphQLObjectType):
                    attr = _basic_attr(field)
                    if attr is not None:
                        field.extensions = {**field.extensions, OBJECT: (attr, {})}
    return marked


# ---- projectors ---------------------------------------------------------------------------------


def _leaf(gql_type: Any, nonnull: bool) -> Complete:
    coerce = gql_type.coerce_output_value
    same = _IDENTITY.get(coerce)
    wrapped = getattr(gql_type, "wrapped_cls", None)  # strawberry's enums: member -> name
    names: dict[int, Any] = {}  # by the member's id: an enum member hashes in Python, slowly
    if wrapped is not None:
        for member in wrapped:
            try:
                names[id(member)] = coerce(member)
            except Exception:  # such a member is left to coerce (and to fail) itself
                continue

    def complete(value: Any) -> Any:
        if type(value) is same:
            return value
        if value is None:
            if nonnull:
                raise _MISS
            return None
        coerced = names.get(id(value), Undefined) if type(value) is wrapped else Undefined
        if coerced is Undefined:
            coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _MISS
        return coerced

    # what the projector's code answers inline, without calling `complete` (see `_Source.value`)
    complete.same = same  # type: ignore[attr-defined]
    complete.names = names  # type: ignore[attr-defined]
    complete.int32 = coerce is serialize_int  # type: ignore[attr-defined]
    return complete


@dataclass(frozen=True)
class _ListPlan:
    """A list field: its items' plan."""

    item: Any
    nonnull: bool


@dataclass(frozen=True)
class _ObjectPlan:
    """An object field: the class its values must be, and per response key the attribute to read
    (None: a constant, `__typename`) with its plan (or the constant)."""

    cls: type
    check_cast: bool
    fields: tuple[tuple[str, str | None, Any], ...]
    nonnull: bool


class _Source:
    """The text of one projector, generated from its plan: the whole subtree completed in one
    function of straight-line code (a riders page of 50 makes some 200 objects and 500 values),
    instead of a call per object and per leaf; constants are named `k0`, `k1`, ..."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {"MISS": _MISS}
        self.names = 0

    def constant(self, value: Any) -> str:
        name = f"k{len(self.constants)}"
        self.constants[name] = value
        return name

    def variable(self) -> str:
        self.names += 1
        return f"v{self.names}"

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def value(self, plan: Any, src: str, depth: int) -> str:
        """Emit what completes the value held in `src`; returns the expression of the result."""
        if isinstance(plan, _ListPlan):
            return self._list(plan, src, depth)
        if isinstance(plan, _ObjectPlan):
            return self._object(plan, src, depth)
        leaf = self.constant(plan)
        same = getattr(plan, "same", None)
        if same is not None:  # a str or bool as it is
            return f"({src} if type({src}) is {self.constant(same)} else {leaf}({src}))"
        if getattr(plan, "int32", False):  # an int within GraphQL's Int as it is
            low, high = GRAPHQL_MIN_INT, GRAPHQL_MAX_INT
            return f"({src} if type({src}) is int and {low} <= {src} <= {high} else {leaf}({src}))"
        names = getattr(plan, "names", None)
        if names:  # an enum member's name, found by identity (members live as long as their enum)
            return f"({self.constant(names)}.get(id({src})) or {leaf}({src}))"
        return f"{leaf}({src})"

    def _list(self, plan: _ListPlan, src: str, depth: int) -> str:
        out, kind, item = self.variable(), self.variable(), self.variable()
        self.emit(depth, f"{kind} = type({src})")
        self.emit(depth, f"if {kind} is list or {kind} is tuple:")
        if isinstance(plan.item, _ListPlan | _ObjectPlan):
            self.emit(depth + 1, f"{out} = []")
            self.emit(depth + 1, f"for {item} in {src}:")
            self.emit(depth + 2, f"{out}.append({self.value(plan.item, item, depth + 2)})")
        else:
            self.emit(
                depth + 1, f"{out} = [{self.value(plan.item, item, depth)} for {item} in {src}]"
            )
        if not plan.nonnull:
            self.emit(depth, f"elif {src} is None:")
            self.emit(depth + 1, f"{out} = None")
        self.emit(depth, "else:")
        self.emit(depth + 1, "raise MISS")
        return out

    def _object(self, plan: _ObjectPlan, src: str, depth: int) -> str:
        out = self.variable()
        wrong = f"type({src}) is not {self.constant(plan.cls)}"
        if plan.check_cast:
            wrong += f" or getattr({src}, {TYPE_CAST_ATTRIBUTE!r}, None) is not None"
        if plan.nonnull:
            self.emit(depth, f"if {wrong}:")
            self.emit(depth + 1, "raise MISS")
        else:
            self.emit(depth, f"if {src} is None:")
            self.emit(depth + 1, f"{out} = None")
            self.emit(depth, f"elif {wrong}:")
            self.emit(depth + 1, "raise MISS")
            self.emit(depth, "else:")
            depth += 1
        items = []
        for key, attr, sub in plan.fields:
            if attr is None:
                items.append(f"{key!r}: {self.constant(sub)}")
                continue
            got = self.variable()
            plain = attr.isidentifier() and not iskeyword(attr)
            read = f"{src}.{attr}" if plain else f"getattr({src}, {attr!r})"
            self.emit(depth, f"{got} = {read}")
            items.append(f"{key!r}: {self.value(sub, got, depth)}")
        self.emit(depth, f"{out} = {{{', '.join(items)}}}")
        return out


def _generate(plan: Any) -> Complete:
    """The projector of a plan, compiled from generated source (see `_Source`)."""
    source = _Source()
    source.emit(1, f"return {source.value(plan, 'v0', 1)}")
    text = "def complete(v0):\n" + "\n".join(source.lines) + "\n"
    namespace = dict(source.constants)
    exec(compile(text, "<pboss projector>", "exec"), namespace)  # our own text, constants apart
    complete = namespace["complete"]
    complete.source = text  # type: ignore[attr-defined]  # for tests and debugging
    return complete  # type: ignore[no-any-return]


def _static(selection_set: SelectionSetNode | None, fragments: Any, seen: set[str]) -> bool:
    """True when this level of a selection (fragments included, sub-fields' own selections not)
    has no directives, so collecting it never depends on the variables."""
    if selection_set is None:
        return True
    for selection in selection_set.selections:
        if selection.directives:
            return False
        if isinstance(selection, InlineFragmentNode):
            if not _static(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:
                continue
            seen.add(name)
            details = fragments.get(name)
            definition = getattr(details, "definition", details)
            if (
                definition is None
                or definition.directives
                or getattr(definition, "variable_definitions", None)
                or not _static(definition.selection_set, fragments, seen)
            ):
                return False
    return True


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the direct paths for plain leaves and plain object
    subtrees (see the module's docstring)."""

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
        if field is not None and not node.arguments:
            middleware = self.middleware_manager
            if middleware is None or not middleware.middlewares:
                extensions = field.extensions
                plan = extensions.get(PLAN)
                if plan is not None:
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
                else:
                    obj = extensions.get(OBJECT)
                    if obj is not None:
                        complete = self._projector(field.type, obj[1], field_details_list)
                        if complete is not None:
                            try:
                                return complete(getattr(source, obj[0]))
                            except Exception:  # graphql-core completes it and reports its way
                                pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    #: Per execution: the projector (or None) of each (object type, field details list).
    _pboss_values: dict[tuple[int, int], tuple[Any, Complete | None]] | None = None

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        # found once per execution for each list of field details (graphql-core completes
        # every item of a list with the same one): a selection no projector serves costs its
        # objects a lookup each, no more
        memo = self._pboss_values
        if memo is None:
            memo = self._pboss_values = {}
        key = (id(return_type), id(field_details_list))
        hit = memo.get(key)
        if hit is None:
            cache = return_type.extensions.get(OBJECT_VALUE)
            middleware = self.middleware_manager
            complete = None
            if cache is not None and (middleware is None or not middleware.middlewares):
                complete = self._projector(return_type, cache, field_details_list)
            memo[key] = hit = (field_details_list, complete)  # kept alive: ids not reused
        if hit[1] is not None:
            try:
                return hit[1](result)
            except Exception:  # graphql-core completes it and reports its way
                pass
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _projector(
        self, gql_type: Any, cache: dict[Any, Any], field_details_list: Any
    ) -> Complete | None:
        """The cached projector of values of this type (a field's) for this selection (None:
        graphql-core's way). Whether the field is deferred, or inside a fragment given
        variables, is decided per request, so it is asked per request before the cache."""
        ids = []
        for details in field_details_list:
            if details.defer_usage is not None or details.fragment_variable_values is not None:
                return None
            ids.append(id(details.node))
        key = tuple(ids)
        hit = cache.get(key)
        if hit is not None:
            return hit[1]
        # a selection too deep to plan or for Python to compile goes graphql-core's way
        try:
            plan = self._compile(gql_type, field_details_list)
            complete = None if plan is None else _generate(plan)
        except (RecursionError, SyntaxError, MemoryError):
            complete = None
        if len(cache) >= MAX_PROJECTORS:
            cache.clear()
        # the nodes stay referenced with their projector, so their ids cannot be reused meanwhile
        cache[key] = (tuple(d.node for d in field_details_list), complete)
        return complete

    def _compile(self, gql_type: Any, field_details_list: Any) -> Any:
        """The plan of a projector completing values of this type for this selection (a leaf's
        completion, `_ListPlan` or `_ObjectPlan`), or None."""
        nonnull = isinstance(gql_type, GraphQLNonNull)
        if nonnull:
            gql_type = gql_type.of_type
        if isinstance(gql_type, GraphQLList):
            item = self._compile(gql_type.of_type, field_details_list)
            return None if item is None else _ListPlan(item, nonnull)
        if is_leaf_type(gql_type):
            return _leaf(gql_type, nonnull)
        if not isinstance(gql_type, GraphQLObjectType):
            return None  # interfaces and unions: graphql-core resolves the runtime type
        definition = gql_type.extensions.get("strawberry-definition")
        if definition is None or definition.is_graphql_generic or definition.is_type_of:
            return None  # generics and types with their own is_type_of: graphql-core decides
        for details in field_details_list:
            if (
                details.defer_usage is not None
                or details.fragment_variable_values is not None
                or details.node.directives  # e.g. @stream on a list: graphql-core's to honour
                or not _static(details.node.selection_set, self.fragments, set())
            ):
                return None
        grouped, defer_usages, *_ = self.collect_subfields(gql_type, field_details_list)
        if defer_usages:
            return None
        fields: list[tuple[str, str | None, Any]] = []
        for response_key, sub_details in grouped.items():
            node: FieldNode = sub_details[0].node
            name = node.name.value
            if name == "__typename":
                fields.append((response_key, None, gql_type.name))
                continue
            field = gql_type.fields.get(name)
            if field is None:
                if name.startswith("__"):
                    return None
                continue  # graphql-core leaves an unknown field out too
            if any(d.node.arguments for d in sub_details):
                return None
            attr = _basic_attr(field)
            if attr is None:
                return None
            sub = self._compile(field.type, sub_details)
            if sub is None:
                return None
            fields.append((response_key, attr, sub))
        return _ObjectPlan(
            definition.origin, gql_type.is_type_of is not None, tuple(fields), nonnull
        )
