"""The direct path for plain leaf fields answers exactly as graphql-core does, errors included."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import strawberry

from pboss.graphql.execution import PLAN, PlainLeafExecutionContext, plan_plain_leaves


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Thing:
    id: strawberry.ID
    name: str | None
    size: int
    colour: Colour
    tags: list[str]
    ratio: float

    @strawberry.field
    def shout(self) -> str:
        return (self.name or "").upper()


GOOD = Thing(id="T-1", name="一", size=3, colour=Colour.BLUE, tags=["a", "b"], ratio=0.5)
NULL_NAME = Thing(id="T-2", name=None, size=4, colour=Colour.RED, tags=[], ratio=1)
BROKEN: list[Any] = [
    Thing(id="T-3", name="x", size=None, colour=Colour.RED, tags=[], ratio=1.0),  # type: ignore[arg-type]
    Thing(id="T-4", name="x", size=2**40, colour=Colour.RED, tags=[], ratio=1.0),
    Thing(id="T-5", name="x", size=1, colour="green", tags=["a", None], ratio=1.0),  # type: ignore[arg-type,list-item]
]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [GOOD, NULL_NAME]

    @strawberry.field
    def broken(self, i: int) -> Thing | None:
        return BROKEN[i]


def _schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    plain = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=PlainLeafExecutionContext)
    assert plan_plain_leaves(fast._schema) == 6  # shout has a resolver
    assert PLAN not in fast._schema.type_map["Thing"].fields["shout"].extensions
    return plain, fast


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
    want, got = plain.execute_sync(query), fast.execute_sync(query)
    assert got.data == want.data
    assert [(e.message, e.path) for e in got.errors or []] == [
        (e.message, e.path) for e in want.errors or []
    ]
