"""The direct paths for plain fields (leaves, and compiled plain object subtrees) answer exactly as
graphql-core does, errors included, and are really taken where they apply."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache
from strawberry.schema.config import StrawberryConfig

from pboss.graphql.execution import (
    OBJECT,
    OBJECT_VALUE,
    PLAN,
    PlainLeafExecutionContext,
    plan_plain_leaves,
)


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str | None


@strawberry.type
class Thing(Named):
    id: strawberry.ID
    size: int
    colour: Colour
    tags: list[str]
    ratio: float

    @strawberry.field
    def shout(self) -> str:
        return (self.name or "").upper()


@strawberry.type
class Pair:
    left: Thing
    right: Thing | None
    flag: bool


@strawberry.type
class Box:
    label: str
    main: Thing
    spare: Thing | None
    things: list[Thing]
    maybe_things: list[Thing | None] | None
    pairs: list[Pair]
    grid: list[list[int]]
    colours: list[Colour]
    any_named: Named | None


GOOD = Thing(id="T-1", name="一", size=3, colour=Colour.BLUE, tags=["a", "b"], ratio=0.5)
NULL_NAME = Thing(id="T-2", name=None, size=4, colour=Colour.RED, tags=[], ratio=1)
BROKEN: list[Any] = [
    Thing(id="T-3", name="x", size=None, colour=Colour.RED, tags=[], ratio=1.0),  # type: ignore[arg-type]
    Thing(id="T-4", name="x", size=2**40, colour=Colour.RED, tags=[], ratio=1.0),
    Thing(id="T-5", name="x", size=1, colour="green", tags=["a", None], ratio=1.0),  # type: ignore[arg-type,list-item]
]


class LookAlike:
    """Has every attribute of a Thing but is not one: graphql-core refuses it (is_type_of)."""

    def __init__(self, thing: Thing):
        self.__dict__.update(vars(thing))


def _box(**changes: Any) -> Box:
    base: dict[str, Any] = {
        "label": "B",
        "main": GOOD,
        "spare": None,
        "things": [GOOD, NULL_NAME],
        "maybe_things": [None, GOOD],
        "pairs": [Pair(left=GOOD, right=None, flag=True), Pair(left=NULL_NAME, right=GOOD, flag=0)],  # type: ignore[arg-type]
        "grid": [[1, 2], []],
        "colours": [Colour.RED, Colour.BLUE],
        "any_named": GOOD,
    }
    return Box(**{**base, **changes})


BOXES: dict[str, Box] = {
    "good": _box(),
    "tuples": _box(things=(GOOD,), grid=((1,), (2, 3))),  # type: ignore[arg-type]
    "null-in-non-null-leaf": _box(things=[GOOD, BROKEN[0]]),
    "int-overflow-deep": _box(pairs=[Pair(left=GOOD, right=BROKEN[1], flag=True)]),
    "bad-enum-and-list-item": _box(things=[BROKEN[2]]),
    "null-non-null-object": _box(main=None),  # type: ignore[arg-type]
    "null-list-item": _box(things=[GOOD, None]),  # type: ignore[list-item]
    "null-nullable-item": _box(maybe_things=[None, BROKEN[0]]),
    "string-not-list": _box(things="abc"),  # type: ignore[arg-type]
    "string-not-list-of-leaves": _box(grid=["12"]),  # type: ignore[list-item]
    "string-not-tags": _box(spare=Thing(**{**vars(GOOD), "tags": "ab"})),
    "look-alike": _box(main=LookAlike(GOOD)),  # type: ignore[arg-type]
    "look-alike-nullable": _box(spare=LookAlike(GOOD)),  # type: ignore[arg-type]
    "cast": _box(spare=strawberry.cast(Pair, Thing(**vars(GOOD)))),  # cast: marks the instance
    "bad-colour-in-list": _box(colours=[Colour.RED, "RED"]),  # type: ignore[list-item]
    "bad-grid": _box(grid=[[1, "x"]]),  # type: ignore[list-item]
    "bool-as-int": _box(grid=[[True]]),  # type: ignore[list-item]
    "int-at-its-bounds": _box(grid=[[2**31 - 1, -(2**31)], [0]]),
    "int-just-over": _box(grid=[[2**31]]),
    "int-just-under": _box(grid=[[-(2**31) - 1]]),
    "float-as-int": _box(grid=[[3.0]]),  # type: ignore[list-item]
}


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [GOOD, NULL_NAME]

    @strawberry.field
    def broken(self, i: int) -> Thing | None:
        return BROKEN[i]

    @strawberry.field
    def box(self, case: str) -> Box | None:
        return BOXES[case]


def _schemas(config: StrawberryConfig | None = None) -> tuple[strawberry.Schema, strawberry.Schema]:
    plain = strawberry.Schema(query=Query, extensions=[ParserCache], config=config)
    fast = strawberry.Schema(
        query=Query,
        extensions=[ParserCache],
        config=config,
        execution_context_class=PlainLeafExecutionContext,
    )
    assert plan_plain_leaves(fast._schema) == 9  # shout has a resolver
    assert PLAN not in fast._schema.type_map["Thing"].fields["shout"].extensions
    return plain, fast


def _same(plain: strawberry.Schema, fast: strawberry.Schema, query: str, **variables: Any) -> Any:
    want = plain.execute_sync(query, variable_values=variables or None)
    got = fast.execute_sync(query, variable_values=variables or None)
    assert got.data == want.data
    assert [e.formatted for e in got.errors or []] == [e.formatted for e in want.errors or []]
    if got.data is not None:  # same keys in the same order, too
        assert repr(got.data) == repr(want.data)
    return got


@pytest.mark.parametrize(
    "query",
    [
        "{ things { id name size colour tags ratio shout __typename } }",
        "{ things { a: id b: name id name } }",
        "{ broken(i: 0) { id size } }",
        "{ broken(i: 1) { id size } }",
        "{ broken(i: 2) { colour } }",
        "{ broken(i: 2) { tags } }",
        "{ things { id @skip(if: true) name @include(if: false) size } }",
    ],
)
def test_same_answers_and_errors(query: str) -> None:
    plain, fast = _schemas()
    _same(plain, fast, query)


BOX_QUERY = """
query Box($case: String!) {
  box(case: $case) {
    __typename label
    main { ...T }
    spare { ...T }
    things { id ... on Thing { colour n: name } tags }
    maybeThings { id size }
    pairs { flag left { ...T } right { kind: __typename ... on Thing { id ratio } } }
    grid colours
  }
}
fragment T on Thing { __typename id name size colour tags ratio ident: id }
"""


@pytest.mark.parametrize("case", list(BOXES))
def test_compiled_subtrees_answer_as_graphql_core(case: str) -> None:
    plain, fast = _schemas()
    _same(plain, fast, BOX_QUERY, case=case)
    _same(plain, fast, BOX_QUERY, case=case)  # again, through the cached projectors


def _projectors(schema: strawberry.Schema, type_name: str, field: str) -> list[Any]:
    return [
        p
        for _, p in schema._schema.type_map[type_name].fields[field].extensions[OBJECT][1].values()
    ]


def _value_projectors(schema: strawberry.Schema, type_name: str) -> list[Any]:
    return [p for _, p in schema._schema.type_map[type_name].extensions[OBJECT_VALUE].values()]


def test_plain_subtrees_are_compiled_once_and_others_are_not() -> None:
    plain, fast = _schemas()
    got = _same(plain, fast, BOX_QUERY, case="good")
    assert got.data["box"]["pairs"][1]["right"] == {"kind": "Thing", "id": "T-1", "ratio": 0.5}
    # the resolver's Box, plain all the way down: one projector completes the whole of it
    boxes = _value_projectors(fast, "Box")
    assert len(boxes) == 1 and boxes[0] is not None
    _same(plain, fast, BOX_QUERY, case="look-alike-nullable")
    assert _value_projectors(fast, "Box") == boxes  # the same selection: the same projector
    # it gave up on that Box: graphql-core completed it, each plain field by its own projector
    for field in ("main", "spare", "things", "maybeThings", "pairs"):
        compiled = _projectors(fast, "Box", field)
        assert len(compiled) == 1 and compiled[0] is not None, field
    # a resolver, an interface below: graphql-core's way, remembered as such
    _same(plain, fast, '{ box(case: "good") { things { id } main { shout } anyNamed { name } } }')
    assert _value_projectors(fast, "Box")[-1] is None
    assert _projectors(fast, "Box", "things")[-1] is not None
    assert _projectors(fast, "Box", "main")[-1] is None
    assert "anyNamed" not in [
        f for f, d in fast._schema.type_map["Box"].fields.items() if OBJECT in d.extensions
    ]
    # the root type has no value projectors: its fields are resolved one by one
    assert OBJECT_VALUE not in fast._schema.type_map["Query"].extensions


@pytest.mark.parametrize("skip", [True, False, True])
def test_directives_below_a_field_are_decided_per_request(skip: bool) -> None:
    """The parser cache hands back the same document: a projector must not freeze @skip."""
    plain, fast = _schemas()
    query = """query Q($skip: Boolean!) { box(case: "good") {
        main { id name @skip(if: $skip) ...F @include(if: $skip) }
        things { ... on Thing @skip(if: $skip) { size } id }
    } }
    fragment F on Thing { size }"""
    for value in (skip, not skip):
        got = _same(plain, fast, query, skip=value)
        assert ("name" in got.data["box"]["main"]) is not value
    assert all(p is None for p in _projectors(fast, "Box", "main"))
    assert all(p is None for p in _projectors(fast, "Box", "things"))


def test_the_compiled_path_is_really_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a plain subtree graphql-core completes nothing below the compiled field."""
    _, fast = _schemas()
    calls: list[str] = []
    base = PlainLeafExecutionContext.__mro__[1].execute_field

    def spy(self: Any, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        calls.append(f"{parent_type.name}.{details[0].node.name.value}")
        return base(self, parent_type, source, details, *rest)

    monkeypatch.setattr(PlainLeafExecutionContext.__mro__[1], "execute_field", spy)
    query = '{ box(case: "good") { pairs { flag left { id name tags } right { id } } } }'
    assert fast.execute_sync(query).errors is None
    assert calls == ["Query.box"]
    calls.clear()
    assert fast.execute_sync(query.replace("good", "int-overflow-deep")).errors is None
    assert calls == ["Query.box"]  # right { id } is fine there, only size would overflow
    calls.clear()
    query = '{ box(case: "int-overflow-deep") { pairs { right { size } } } }'
    assert fast.execute_sync(query).errors
    assert calls[:3] == ["Query.box", "Box.pairs", "Pair.right"]  # graphql-core took over


@strawberry.type
class Link:
    name: str
    kids: list[Link]


@strawberry.type
class ChainQuery:
    @strawberry.field
    def chain(self, length: int) -> list[Link]:
        kids: list[Link] = []
        for i in reversed(range(length)):
            kids = [Link(name=f"L{i}", kids=kids)]
        return kids


@pytest.mark.parametrize("depth", [3, 30])
def test_a_selection_too_deep_for_python_to_compile_answers_as_graphql_core(depth: int) -> None:
    """A projector nests a loop per list: 30 levels are more than Python compiles (20 nested
    blocks), so those fields go graphql-core's way, with the same answer."""
    plain = strawberry.Schema(query=ChainQuery, extensions=[ParserCache])
    fast = strawberry.Schema(
        query=ChainQuery,
        extensions=[ParserCache],
        execution_context_class=PlainLeafExecutionContext,
    )
    plan_plain_leaves(fast._schema)
    nested = "kids { name " * depth + "}" * depth
    got = _same(plain, fast, f"{{ chain(length: {depth + 1}) {{ name {nested} }} }}")
    assert got.data["chain"][0]["name"] == "L0"
    links = _value_projectors(fast, "Link")  # chain's items, then any completed below
    if depth == 3:  # the first Link's projector completes the whole chain
        assert len(links) == 1 and links[0] is not None
        assert OBJECT in fast._schema.type_map["Link"].fields["kids"].extensions
        assert _projectors(fast, "Link", "kids") == []
    else:  # the outer levels are graphql-core's; a level shallow enough is compiled again
        kids = _projectors(fast, "Link", "kids")
        assert links[0] is None and kids[0] is None
        assert links[-1] is not None or kids[-1] is not None


#: Schemas that deliver `@defer` and `@stream` incrementally.
INCREMENTAL = StrawberryConfig(enable_experimental_incremental_execution=True)


async def _payloads(schema: strawberry.Schema, query: str, **variables: Any) -> list[Any]:
    """The initial payload's data, then each later item as sent (one payload if not deferred)."""
    result: Any = await schema.execute(query, variable_values=variables or None)
    if not hasattr(result, "initial_result"):
        return [result.data]
    out = [result.initial_result.data]
    async for later in result.subsequent_results:
        out += [item.formatted for item in later.incremental or []]
    return out


def test_a_field_deferred_in_one_request_and_not_in_another_is_deferred_when_asked() -> None:
    """Whether a field is deferred is decided per request (`@defer(if: $d)`), so a projector
    compiled while it was not must not complete it in the initial payload once it is."""
    plain, fast = _schemas(INCREMENTAL)
    query = """query Q($d: Boolean!) { box(case: "good") { label }
        ... @defer(if: $d) { box(case: "good") { main { id } } } }"""
    for deferred in (False, True, False, True):
        got = asyncio.run(_payloads(fast, query, d=deferred))
        assert got == asyncio.run(_payloads(plain, query, d=deferred)), deferred
        assert (got[0]["box"] == {"label": "B"}) is deferred


def test_a_streamed_list_is_left_to_graphql_core() -> None:
    """`@stream` on a list of plain objects: graphql-core sends the first items, then the rest;
    a projector would complete the whole list at once, so a field with directives of its own
    is not compiled."""
    plain, fast = _schemas(INCREMENTAL)
    query = '{ box(case: "good") { label things @stream(initialCount: 1) { id } } }'
    got = asyncio.run(_payloads(fast, query))
    assert got == asyncio.run(_payloads(plain, query))
    assert len(got) > 1  # the rest came later
    assert got[0] == {"box": {"label": "B", "things": [{"id": "T-1"}]}}
    assert _value_projectors(fast, "Box") == [None] == _projectors(fast, "Box", "things")
