"""The exported SDL is the contract clients code against: it must match what the code builds."""

from __future__ import annotations

from pboss.graphql.export import SCHEMA_PATH, is_current
from pboss.graphql.schema import schema_sdl


def test_schema_graphql_matches_the_code() -> None:
    assert SCHEMA_PATH.exists(), "run: python -m pboss.graphql.export"
    assert is_current(), (
        f"{SCHEMA_PATH.name} drifted from the code; review the change and run "
        "python -m pboss.graphql.export"
    )


def test_the_contract_names_the_main_operations() -> None:
    sdl = schema_sdl()
    for field in (
        "element(id: ID!): ElementResult!",
        "trace(id: ID!): TraceResult!",
        "impact(resources: [ID!]!, first: Int! = 50, after: String = null): RidersResult!",
        "upsertElements(input: UpsertInput!): UpsertPayload!",
        "union AvailabilityResult = Availability | NotFound | Forbidden | ValidationError",
    ):
        assert field in sdl
