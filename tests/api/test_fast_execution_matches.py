"""On the reference network, the schema as served (direct paths for plain leaves and compiled plain
object subtrees, `pboss.graphql.execution`) answers every query exactly as graphql-core's own
executor does, for every role: the same data in the same key order, the same errors, and a
partner's masked riders stay masked."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from pboss.graphql import network
from pboss.graphql.auth import Principal
from pboss.graphql.context import Context
from pboss.graphql.execution import OBJECT, OBJECT_VALUE
from pboss.graphql.schema import build_schema
from tests.api.conftest import Api
from tests.api.docs_examples import DOCS, parse

PRINCIPALS = [
    Principal("engineer", "t"),
    Principal("crm", "t"),
    Principal("partner", "t", "P-TT"),
    Principal("partner", "t", "P-OC"),
]
RIDERS = """query R($id: ID!, $first: Int!, $after: String) {
  riders(resource: $id, first: $first, after: $after) {
    __typename
    ... on RiderConnection { totalCount resources
      totals { services customers byProduct { key count } byCustomerType { key count }
               bySlaTier { key count } }
      edges { cursor node { health impairedBy product service { id } customer { id name } } }
      pageInfo { hasNextPage endCursor } }
    ... on NotFound { message id }
  }
}"""
ALIASED = """query A($id: ID!) {
  r: riders(resource: $id, first: 3) {
    ... on RiderConnection {
      t: totals { ...Tot n: services }
      e: edges { c: cursor node { __typename ...N h: health } }
      pageInfo { ... on PageInfo { next: hasNextPage __typename } }
    }
  }
  again: riders(resource: $id, first: 2) { ... on RiderConnection { edges { node { ...N } } } }
}
fragment Tot on RiderTotals { services customers byProduct { __typename key count } }
fragment N on Rider { product service { __typename id name owner phone: id } customer { ...C } }
fragment C on Customer { id name phone address customerType slaTier __typename }"""
OTHERS = [
    (
        """{ trace(id: "SVC-H1-BB") { ... on Trace { health impairedBy root { id kind }
        hops { position role depth owner isPartner status seq slots capacity used free
               element { id kind name } } } } }""",
        {},
    ),
    (
        """{ elements(kind: "Service", first: 5) { totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id kind name owner status } } } }""",
        {},
    ),
    (
        """{ impact(resources: ["OLT-1", "SPL-JZ-2A"], first: 4) { ... on RiderConnection {
        totals { services customers } edges { node { service { id product } health } } } } }""",
        {},
    ),
]


def _queries() -> list[tuple[str, dict[str, Any]]]:
    examples = [
        (e.query, e.variables)
        for path in DOCS
        for e in parse(path)
        if not any(line.lstrip().startswith("mutation") for line in e.query.splitlines())
    ]
    riders = [
        (RIDERS, {"id": rid, "first": first, "after": None})
        for rid in ("OLT-1", "SPL-JZ-2A", "PA-DH-OC", "NOPE")
        for first in (1, 50)
    ]
    bad_cursor = [(RIDERS, {"id": "OLT-1", "first": 2, "after": "bm9wZQ=="})]
    aliased = [(ALIASED, {"id": "OLT-1"}), (ALIASED, {"id": "PA-DH-OC"})]
    return [*riders, *bad_cursor, *aliased, *OTHERS, *examples]


def _run(schema: Any, state: dict[str, Any], who: Principal, query: str, variables: Any) -> Any:
    ctx = Context(store=state["store"], principal=who, settings=state["settings"], state=state)
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=ctx))
    return json.dumps(result.data, ensure_ascii=False), [e.formatted for e in result.errors or []]


def test_the_served_schema_answers_as_graphql_core(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sealed partner cursors draw a random nonce: make it the same for both executions
    monkeypatch.setattr(network, "secrets", SimpleNamespace(token_bytes=lambda n: bytes(n)))
    state = api.client.app.state.pboss  # type: ignore[attr-defined]
    fast = build_schema(state["settings"])
    plain = build_schema(state["settings"], fast=False)
    compared = 0
    for who in PRINCIPALS:
        for query, variables in _queries():
            want = _run(plain, state, who, query, variables)
            got = _run(fast, state, who, query, variables)
            assert got == want, (who, query, variables)
            compared += 1
            if who.is_partner and "customer" in query:
                assert '"customer": {' not in got[0] and '"service": {' not in got[0]
    assert compared == len(PRINCIPALS) * len(_queries())
    # and the riders page really went through compiled projectors: the whole connection, once
    # its union member was resolved, and none of its fields one by one
    connection = fast._schema.type_map["RiderConnection"]
    pages = connection.extensions[OBJECT_VALUE]
    assert [p for _, p in pages.values() if p is not None]
    assert not connection.fields["edges"].extensions[OBJECT][1]
