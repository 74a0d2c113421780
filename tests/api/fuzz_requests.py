"""Generated GraphQL requests for fuzzing the API: valid-looking operations built from the
schema's own types, with junk in their arguments and variables, and some with their text broken.

`requests(seed)` yields endless `FuzzRequest`s: a query or mutation whose fields, arguments,
aliases, inline and named fragments and variables come from the served schema (so most reach the
resolvers), with argument values drawn from the reference network's ids, junk strings, extreme
integers, wrong types and missing required arguments; one request in eight has its text cut,
spliced or salted instead. Used by tests/api/test_fuzz.py and bench/bench_limits.py.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
)

#: Ids of the reference network (pboss.inventory.demo) and junk, for ID and String arguments.
WORDS = [
    "OLT-1", "OLT-2", "SPL-JZ-2A", "TS-2", "PA-DH-OC", "SVC-H4-BB", "SVC-H5-CB", "H-1", "B-JZ",
    "P-TT", "P-OC", "FTTH-100M", "CIR-1", "ONT", "Site", "Order", "ORD-X", "", " ", "%%%",
    "cmlkZXI6eA==", "x" * 300, "中文", "\x00", "'", '"', "\\", "null", "-1", "🙂", "a\nb",
]  # fmt: skip
INTS = [0, 1, 2, 3, 10, 50, 200, 500, 501, -1, -(2**31), 2**31 - 1, 2**31, 2**53, 10**30]
JUNK = ["{", "}", "(", ")", "...", "$x", "@skip", ":", "!", '"', "#", "query", "on", "fragment"]


@dataclass
class FuzzRequest:
    """One generated request: its text, variables and whose key sends it."""

    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    broken: bool = False


def literal(value: Any) -> str:
    """A Python value written as a GraphQL literal (strings JSON-escaped, as GraphQL's are)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, EnumValue):
        return value.name
    return str(value)


@dataclass(frozen=True)
class EnumValue:
    """An enum value (written bare in a literal, as its name in variables)."""

    name: str


class Generator:
    """Builds random operations over one schema with one random source."""

    def __init__(self, schema: GraphQLSchema, rng: random.Random):
        self.schema = schema
        self.rng = rng

    def value(self, type_: GraphQLInputType, depth: int = 0) -> Any:
        """A value for an input type: usually well typed, sometimes not."""
        rng = self.rng
        if rng.random() < 0.04:  # a wrong type or a null where it may not be
            return rng.choice([None, 7, "x", True, [], {"no": 1}])
        if isinstance(type_, GraphQLNonNull):
            return self.value(type_.of_type, depth)
        if isinstance(type_, GraphQLList):
            return [self.value(type_.of_type, depth + 1) for _ in range(rng.randint(0, 3))]
        if isinstance(type_, GraphQLEnumType):
            names = list(type_.values)
            return EnumValue(rng.choice(names) if rng.random() < 0.95 else "NOT_A_VALUE")
        if isinstance(type_, GraphQLInputObjectType):
            if depth > 3:
                return {}
            out = {}
            for name, input_field in type_.fields.items():
                required = isinstance(input_field.type, GraphQLNonNull)
                if required or rng.random() < 0.5:
                    out[name] = self.value(input_field.type, depth + 1)
            return out
        if isinstance(type_, GraphQLScalarType):
            name = type_.name
            if name == "Int":
                return rng.choice(INTS)
            if name == "Float":
                return rng.choice([0.5, -1e300, 1e308, 3.0])
            if name == "Boolean":
                return rng.random() < 0.5
            if name == "JSON":
                return rng.choice([{}, {"a": 1}, {"a": {"b": [1, "x"]}}, [1, 2], "s", None])
            if rng.random() < 0.7:
                return rng.choice(WORDS)
            alphabet = "'\"\\:=-_/ abcXYZ019中ＡＢ"
            return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        return None

    def arguments(self, definition: GraphQLField, variables: dict, declared: list[str]) -> str:
        """`(name: value, ...)` for a field, values as literals or as variables."""
        parts = []
        for name, arg in definition.args.items():
            required = isinstance(arg.type, GraphQLNonNull)
            if not (required and self.rng.random() < 0.97) and self.rng.random() > 0.4:
                continue
            value = self.value(arg.type)
            if self.rng.random() < 0.3 and not isinstance(value, EnumValue):
                var = f"v{len(declared)}"
                declared.append(f"${var}: {arg.type}")
                variables[var] = value
                parts.append(f"{name}: ${var}")
            else:
                parts.append(f"{name}: {literal(value)}")
        return "(" + ", ".join(parts) + ")" if parts else ""

    def selection(
        self, type_: GraphQLNamedType, depth: int, variables: dict, declared: list[str]
    ) -> str:
        """A selection set on an output type (fields, aliases, inline fragments)."""
        rng = self.rng
        if isinstance(type_, GraphQLUnionType | GraphQLInterfaceType):
            possible = list(self.schema.get_possible_types(type_))
            parts = ["__typename"]
            for member in rng.sample(possible, min(len(possible), rng.randint(1, 3))):
                parts.append(
                    f"... on {member.name} {self.selection(member, depth, variables, declared)}"
                )
            if isinstance(type_, GraphQLInterfaceType) and rng.random() < 0.5:
                parts.append(self.fields(type_, depth, variables, declared))
            return "{ " + " ".join(parts) + " }"
        if isinstance(type_, GraphQLObjectType):
            return "{ " + self.fields(type_, depth, variables, declared) + " }"
        return ""

    def fields(
        self,
        type_: GraphQLObjectType | GraphQLInterfaceType,
        depth: int,
        variables: dict,
        declared: list[str],
    ) -> str:
        """Some fields of an object or interface type, nested while `depth` lasts."""
        rng = self.rng
        names = list(type_.fields)
        leaves = [n for n in names if _is_leaf(type_.fields[n].type)]
        chosen = rng.sample(names, min(len(names), rng.randint(1, 4)))
        if depth <= 0 and leaves:
            chosen = [n for n in chosen if n in leaves] or [rng.choice(leaves)]
        parts = []
        for i, name in enumerate(chosen):
            definition = type_.fields[name]
            alias = f"a{i}: " if rng.random() < 0.1 else ""
            args = self.arguments(definition, variables, declared)
            inner = _named(definition.type)
            sub = ""
            if not _is_leaf(definition.type):
                sub = " " + self.selection(inner, depth - 1, variables, declared)
            parts.append(f"{alias}{name}{args}{sub}")
        return " ".join(parts) or "__typename"

    def operation(self) -> FuzzRequest:
        """One operation over the schema, maybe broken."""
        rng = self.rng
        is_mutation = rng.random() < 0.25
        root = self.schema.mutation_type if is_mutation else self.schema.query_type
        assert root is not None
        variables: dict[str, Any] = {}
        declared: list[str] = []
        body = self.fields(root, rng.randint(1, 5), variables, declared)
        fragments = ""
        if rng.random() < 0.15 and not is_mutation:  # the same body as a named fragment
            fragments = f"\nfragment Part on Query {{ {body} }}"
            body = "...Part"
        header = ("mutation" if is_mutation else "query") + " Fuzz"
        if declared:
            header += "(" + ", ".join(declared) + ")"
        query = f"{header} {{ {body} }}{fragments}"
        wire = {k: _wire(v) for k, v in variables.items()}
        if rng.random() < 0.125:
            return FuzzRequest(self.broken(query), wire, broken=True)
        return FuzzRequest(query, wire)

    def broken(self, query: str) -> str:
        """The text cut short, with a span repeated, or salted with stray tokens."""
        rng = self.rng
        cut = rng.randrange(max(1, len(query)))
        how = rng.randrange(3)
        if how == 0:
            return query[:cut]
        if how == 1:
            end = min(len(query), cut + rng.randint(1, 40))
            return query[:end] + query[cut:]
        return query[:cut] + " " + rng.choice(JUNK) + " " + query[cut:]


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _is_leaf(type_: Any) -> bool:
    return isinstance(_named(type_), GraphQLScalarType | GraphQLEnumType)


def _wire(value: Any) -> Any:
    """A value as JSON variables carry it (enums by name)."""
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    return value


def requests(schema: GraphQLSchema, seed: int) -> Iterator[FuzzRequest]:
    """Endless generated requests over `schema`, the same for the same seed."""
    generator = Generator(schema, random.Random(seed))
    while True:
        yield generator.operation()
