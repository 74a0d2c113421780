"""Abuse and bad input: depth, alias, token and size limits, keys, masking, and fuzzing.
Whatever comes in, the answer is a clear refusal and never a 500."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import ENGINEER, Api, api_settings


def _nested_sites(depth: int) -> str:
    inner = "site { " * (depth - 3) + "id" + " }" * (depth - 3)
    return '{ element(id: "SPL-JZ-2A") { ... on Element { ' + inner + " } } }"


def test_a_query_nested_30_deep_is_refused(api: Api) -> None:
    [error] = api.errors(_nested_sites(30))
    assert error["message"] == "'anonymous' exceeds maximum operation depth of 12"
    assert api.data(_nested_sites(8))["element"]["site"]["site"] is None


def test_a_refusal_or_an_acceptance_holds_on_every_later_request(api: Api) -> None:
    """The same query text is parsed and validated from strawberry's caches after the first
    time: its refusal (or acceptance) holds on every later request."""
    too_deep, fine = _nested_sites(30), _nested_sites(8)
    for _ in range(3):
        [error] = api.errors(too_deep)
        assert "exceeds maximum operation depth of 12" in error["message"]
        assert api.data(fine)["element"]["site"]["site"] is None


def test_parsing_and_validation_are_cached_by_strawberrys_bounded_caches() -> None:
    """Strawberry's own extensions cache parsing and validation, each bounded."""
    from strawberry.extensions import ParserCache, ValidationCache

    from pboss.graphql.schema import CACHE_SIZE, build_schema

    made = [factory() for factory in build_schema(api_settings()).extensions]
    assert {type(e) for e in made} >= {ParserCache, ValidationCache}
    assert 0 < CACHE_SIZE <= 10_000


def test_apps_with_other_limits_judge_the_same_text_by_their_own(demo_store: GraphStore) -> None:
    """One query text, parsed once for the process: each schema validates it by its own rules."""
    query = _nested_sites(8)
    for max_depth, refused in ((12, False), (5, True), (6, False), (5, True)):
        settings = api_settings(max_depth=max_depth)
        with TestClient(create_app(settings, store=demo_store)) as client:
            answer = Api(client).post(query).json()
            assert ("errors" in answer) is refused, (max_depth, answer)


def test_a_query_with_500_aliases_is_refused(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(500)) + " }"
    [error] = api.errors(query)
    assert error["message"] == "500 aliases found. Allowed: 50"


def test_a_1mb_query_is_refused_before_parsing(api: Api) -> None:
    query = "{ products { id } " + "# padding\n" * 110_000 + "}"
    response = api.post(query)
    assert response.status_code == 413
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "limit": 64000}
    pattern = r"request body too large: \d{7} bytes, the limit is 64000 bytes"
    assert re.fullmatch(pattern, error["message"])


def test_a_body_streamed_without_length_is_cut_off_too(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 10_000

    response = api.client.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {ENGINEER}", "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


def test_a_document_with_too_many_tokens_is_refused(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(3000)) + " }"
    assert len(query.encode()) < 64_000
    [error] = api.errors(query)
    assert "Document contains more than 5000 tokens" in error["message"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"X-API-Key": ""}])
def test_requests_without_a_known_key_get_401(api: Api, headers: dict) -> None:
    response = api.client.post("/graphql", json={"query": "{ products { id } }"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_both_key_headers_work(api: Api) -> None:
    for headers in ({"X-API-Key": "crm-key"}, {"Authorization": "bearer crm-key"}):
        response = api.client.post(
            "/graphql", json={"query": "{ products { id } }"}, headers=headers
        )
        assert response.status_code == 200 and "errors" not in response.json()


class _Exploding:
    """A store whose riders call fails the way a broken backend would."""

    def __init__(self, inner: GraphStore):
        self.inner = inner  # the name wrappers expose, so provisioning finds the real store

    def riders(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bolt://db:7687 password=hunter2 refused")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_unexpected_errors_are_masked(demo_store: GraphStore) -> None:
    app = create_app(api_settings(), store=_Exploding(demo_store))  # type: ignore[arg-type]
    with TestClient(app) as client:
        api = Api(client)
        response = api.post('{ riders(resource: "OLT-1") { __typename } }')
        assert response.status_code == 200
        assert response.json()["errors"][0]["message"] == "Unexpected error."
        assert "hunter2" not in response.text
        metrics = client.get("/metrics").text
        assert 'pboss_store_call_errors_total{error="RuntimeError",method="riders"' in metrics


def test_introspection_and_graphiql_can_be_switched_off(demo_store: GraphStore) -> None:
    settings = api_settings(introspection=False, graphiql=False)
    with TestClient(create_app(settings, store=demo_store)) as client:
        api = Api(client)
        errors = api.errors("{ __schema { types { name } } }")
        assert "introspection" in errors[0]["message"].lower()
        assert api.data("{ products { id } }")["products"]
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 401
        page = client.get("/graphql", headers={"accept": "text/html", "X-API-Key": ENGINEER})
        assert "graphiql" not in page.text.lower()


def test_graphiql_is_served_when_enabled(demo_store: GraphStore) -> None:
    with TestClient(create_app(api_settings(graphiql=True), store=demo_store)) as client:
        page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


BAD_BODIES: list[tuple[str, bytes | str]] = [
    ("application/json", b"{not json"),
    ("application/json", b"[]"),
    ("application/json", b"null"),
    ("application/json", json.dumps({"query": 5})),
    ("application/json", json.dumps({"query": "{ products { id } }", "variables": [1]})),
    ("application/json", json.dumps({"query": "{", "operationName": 3})),
    ("application/json", "\x00\x01\x02"),
    ("application/json", '{"query": "{ __typename }", "variables": {"a": ' + "[" * 30000),
    (
        "application/json",
        '{"query": "{ __typename }", "variables": {"a": ' + "[" * 20000 + "]" * 20000 + "}}",
    ),
    ("text/plain", "{ products { id } }"),
    ("application/graphql", "{ products { id } }"),
    ("application/json", json.dumps({"query": "query A { products { id } } query B { x }"})),
]

BAD_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("{ element(id: 1) { __typename } }", {}),
    ("{ element { __typename } }", {}),
    ("{ elements(first: -1) { totalCount } }", {}),
    ("{ elements(first: 99999999999) { totalCount } }", {}),
    ('{ elements(after: "%%%", first: 2) { totalCount } }', {}),
    ("{ elements(status: BROKEN, first: 2) { totalCount } }", {}),
    ('{ trace(id: "") { __typename } }', {}),
    ('{ trace(id: "' + "x" * 5000 + '") { __typename } }', {}),
    ('{ riders(resource: "OLT-1", first: 100000) { __typename } }', {}),
    ('{ availability(site: "B-JZ", product: "") { __typename } }', {}),
    ('{ sites(query: "") { totalCount } }', {}),
    ('{ sites(query: "   ％％ ") { totalCount } }', {}),
    ('{ sites(query: "x", first: 0) { totalCount } }', {}),
    ('{ sites(query: "x", after: "%%%") { totalCount } }', {}),
    ("{ impact(resources: []) { __typename } }", {}),
    ('mutation { setStatus(id: "OLT-1", status: NOPE, reason: "x") { __typename } }', {}),
    (
        "mutation($in: UpsertInput!) { upsertElements(input: $in) { __typename } }",
        {"in": {"elements": [{"kind": "ONT", "id": "X", "fields": [1, 2]}]}},
    ),
    (
        "mutation($in: UpsertInput!) { upsertElements(input: $in) { __typename } }",
        {"in": {"elements": [{"kind": "ONT", "id": " ", "attrs": {"a": {"nested": 1}}}]}},
    ),
    (
        "mutation($in: UpsertInput!) { upsertElements(input: $in) { __typename } }",
        {"in": {"edges": [{"type": "ROUTED_OVER", "src": "CIR-1", "dst": "TS-1", "slots": [-5]}]}},
    ),
    ("subscription { products { id } }", {}),
    ("{ __typename ...F } fragment F on Query { ...F }", {}),
]


@pytest.mark.parametrize(("content_type", "body"), BAD_BODIES)
def test_malformed_requests_never_give_a_500(api: Api, content_type: str, body: Any) -> None:
    headers = {"Authorization": f"Bearer {ENGINEER}", "content-type": content_type}
    response = api.client.post("/graphql", content=body, headers=headers)
    assert 400 <= response.status_code < 500 or (
        response.status_code == 200 and response.json().get("errors")
    ), response.text


@pytest.mark.parametrize(("query", "variables"), BAD_QUERIES)
def test_bad_queries_get_errors_or_typed_results_never_a_500(
    api: Api, query: str, variables: dict
) -> None:
    response = api.post(query, **variables)
    assert response.status_code < 500, response.text
    assert "Unexpected error" not in response.text, response.text


def test_random_junk_never_gives_a_500(api: Api) -> None:
    rng = random.Random(639)
    alphabet = '{}()[]:!$@#"\\ \n,.=abcdefghijklmnopqrstuvwxyz0123456789_ 中文ＡＢ'
    fragments = ["element", "riders", "trace", "availability", "elements", "...", "on", "query"]
    for _ in range(150):
        parts = [rng.choice(fragments) if rng.random() < 0.3 else rng.choice(alphabet)
                 for _ in range(rng.randint(1, 60))]  # fmt: skip
        response = api.post("".join(parts))
        assert response.status_code < 500, ("".join(parts), response.text)
        # a crashing resolver answers 200 "Unexpected error.": junk is bad input, never a crash
        assert "Unexpected error" not in response.text, ("".join(parts), response.text)


#: Valid operations whose variables the fuzz below fills with junk, so resolvers do run.
FUZZED_OPERATIONS = [
    "query($s: ID!) { element(id: $s) { __typename ... on Element { site { id } "
    "history { at } } } }",
    "query($s: ID!) { trace(id: $s) { __typename } }",
    "query($s: ID!, $c: String, $n: Int!) { riders(resource: $s, after: $c, first: $n) { "
    "__typename ... on RiderConnection { edges { cursor } } } }",
    "query($t: String, $c: String, $n: Int!) { elements(text: $t, after: $c, first: $n) { "
    "totalCount } }",
    "query($t: String!, $c: String, $n: Int!) { sites(query: $t, after: $c, first: $n) { "
    "totalCount } }",
    "query($s: ID!, $t: String) { availability(site: $s, product: $t) { __typename } }",
    "query($s: ID!) { businessResources(site: $s) { __typename } }",
    "query($s: ID!) { customerNetwork(customer: $s) { __typename } }",
    "query($s: ID!) { order(id: $s) { __typename ... on Order { reservations { id } } } }",
    "query($c: String, $n: Int!) { orders(after: $c, first: $n) { totalCount } }",
    "mutation($s: ID!, $t: String!) { setStatus(id: $s, status: FAULTY, reason: $t) { "
    "__typename } }",
    "mutation($s: ID!) { deleteElements(ids: [$s]) { __typename } }",
    "mutation($s: ID!, $t: String!) { upsertElements(input: {elements: [{kind: $t, id: $s, "
    'site: $s, owner: "P-TT"}], edges: [{type: USES, src: $s, dst: $s}]}) { __typename } }',
]


def test_junk_arguments_to_valid_operations_are_bad_input_never_a_crash(api: Api) -> None:
    """Unlike raw junk (which never parses), these reach the resolvers, for several roles."""
    rng = random.Random(685)
    words = ["", " ", "OLT-1", "H-1", "SVC-H5-CB", "PA-DH-OC", "B-JZ", "FTTH-100M", "ORD-X",
             "cmlkZXI6", "rider:x", "%%%", "x" * 600, "中文", "\x00", "'", "Order"]  # fmt: skip
    alphabet = "'\"\\:=-_/ abcXYZ019中ＡＢ"
    for _ in range(150):
        query = rng.choice(FUZZED_OPERATIONS)
        key = rng.choice([ENGINEER, "crm-key", "tt-key", "oc-key"])

        def junk() -> str:
            if rng.random() < 0.6:
                return rng.choice(words)
            return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))

        variables = {"s": junk(), "t": junk(), "c": junk(), "n": rng.choice([1, 2, 50, 0, -3])}
        used = {k: v for k, v in variables.items() if f"${k}" in query}
        response = api.post(query, key, **used)
        assert response.status_code < 500, (query, used, response.text)
        assert "Unexpected error" not in response.text, (key, query, used, response.text)
