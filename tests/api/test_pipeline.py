"""One pipeline: every GraphQL request goes through strawberry's FastAPI router, whose context
factory (`pboss.http.endpoint`) is the one place a request's context is made and its caller
decided; the answers a user sees (status codes, 400 and 401 bodies, content types, masking,
metrics) come out of that one path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

import pboss.http.endpoint as endpoint
from pboss.graphql.context import Context
from pboss.graphql.permissions import Principal
from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, ENGINEER, PARTNER_OC, Api, api_settings

SET_STATUS = """mutation St($id: ID!) {
  setStatus(id: $id, status: MAINTENANCE, reason: "test", acceptImpact: true) {
  __typename } }"""
UPSERT = """mutation Up($in: UpsertInput!) { upsertElements(input: $in) { __typename } }"""


class _Exploding:
    """A store whose riders call fails the way a broken backend would."""

    def __init__(self, inner: GraphStore):
        self.inner = inner  # the name wrappers expose, so provisioning finds the real store

    def riders(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store is down")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Marked:
    """The context factory patched to add a field, and what the resolvers saw of it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.made = 0
        self.seen: list[Any] = []
        made = endpoint.make_context

        def marked(state: dict[str, Any], principal: Principal) -> Context:
            self.made += 1
            ctx = made(state, principal)
            ctx.marker = f"request {self.made}"  # type: ignore[attr-defined]
            return ctx

        monkeypatch.setattr(endpoint, "make_context", marked)
        for name in ("call", "sees", "allows"):
            monkeypatch.setattr(Context, name, self._spy(getattr(Context, name)))

    def _spy(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def spied(ctx: Context, *args: Any, **kwargs: Any) -> Any:
            self.seen.append(getattr(ctx, "marker", None))
            return method(ctx, *args, **kwargs)

        return spied

    def take(self) -> list[Any]:
        """What resolvers saw since the last call."""
        seen, self.seen = self.seen, []
        return seen


@pytest.mark.parametrize(
    ("what", "key", "query", "variables", "typename"),
    [
        ("a query", ENGINEER, '{ element(id: "OLT-1") { __typename } }', {}, "OLT"),
        (
            "a query answering NotFound",
            CRM,
            '{ element(id: "NOPE") { __typename } }',
            {},
            "NotFound",
        ),
        ("a mutation", ENGINEER, SET_STATUS, {"id": "OLT-1"}, "StatusChanged"),
        ("a mutation refused", CRM, SET_STATUS, {"id": "OLT-1"}, "Forbidden"),
        (
            "a mutation answering ValidationError",
            ENGINEER,
            UPSERT,
            {"in": {"elements": [{"kind": "Splitter", "id": "SPL-X", "fields": {"stage": 9}}]}},
            "ValidationError",
        ),
    ],
)
def test_a_context_field_added_in_the_factory_reaches_every_operation(
    demo_store: GraphStore,
    monkeypatch: pytest.MonkeyPatch,
    what: str,
    key: str,
    query: str,
    variables: dict[str, Any],
    typename: str,
) -> None:
    marked = Marked(monkeypatch)
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        data = Api(client).data(query, key, **variables)
        assert [v["__typename"] for v in data.values()] == [typename], what
        seen = marked.take()
        assert seen and set(seen) == {"request 1"}, what
        assert marked.made == 1


def test_the_context_field_reaches_error_paths_too(
    demo_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A masked failure, a refused cursor and a refused document: each request gets exactly one
    context from the factory, and every resolver that runs sees its field."""
    marked = Marked(monkeypatch)
    app = create_app(api_settings(), store=_Exploding(demo_store))  # type: ignore[arg-type]
    with TestClient(app) as client:
        api = Api(client)
        [error] = api.errors('{ riders(resource: "OLT-1") { __typename } }')
        assert error["message"] == "Unexpected error."
        assert set(marked.take()) == {"request 1"}
        query = '{ riders(resource: "PA-DH-OC", after: "bm90IGEgY3Vyc29y") { __typename } }'
        [error] = api.errors(query, PARTNER_OC)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert set(marked.take()) == {"request 2"}
        [error] = api.errors("{ element(id: 1) { nope } }")
        assert "Cannot query field 'nope'" in error["message"]
        assert marked.take() == [] and marked.made == 3
        response = api.post("{ products { id } }", key=None)
        assert response.status_code == 401 and marked.made == 3  # refused before any context


def _post(api: Api, content: str, key: str | None = ENGINEER) -> Any:
    headers = {"content-type": "application/json"}
    if key:
        headers["X-API-Key"] = key
    return api.client.post("/graphql", content=content, headers=headers)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "The request body must be a JSON object"),
        ('"query"', "The request body must be a JSON object"),
        ("{not json", "Unable to parse request body as JSON"),
        ('{"query": 1}', "The GraphQL operation's `query` must be a string or null, if provided."),
        (
            '{"query": "query A { products { id } }", "operationName": "B"}',
            'Unknown operation named "B".',
        ),
    ],
)
def test_bodies_that_are_not_one_operation_get_a_400_saying_why(
    api: Api, content: str, message: str
) -> None:
    response = _post(api, content)
    assert response.status_code == 400
    assert response.text == message
    assert response.headers["content-type"].startswith("text/plain")


def test_an_operation_answers_json_and_is_counted_once(api: Api) -> None:
    body = '{"query": "query Products { products { id } }", "operationName": "Products"}'
    for _ in range(3):
        response = _post(api, body)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["data"]["products"][0] == {"id": "FTTH-100M"}
    bad = _post(api, '{"query": "query Bad { products { nope } }"}')
    assert bad.status_code == 200 and bad.json()["errors"]
    text = api.client.get("/metrics").text
    assert (
        'pboss_graphql_operations_total{operation="Products",outcome="ok",type="query"} 3.0' in text
    )
    assert (
        'pboss_graphql_operations_total{operation="Bad",outcome="error",type="query"} 1.0' in text
    )
    assert 'pboss_http_requests_total{method="POST",route="/graphql",status="200"} 4.0' in text


def test_a_mutation_over_get_is_refused(api: Api) -> None:
    response = api.client.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers={"X-API-Key": ENGINEER}
    )
    assert response.status_code == 400
    assert response.text == "mutations are not allowed when using GET"


def test_the_401_body_is_a_graphql_error(api: Api) -> None:
    response = _post(api, '{"query": "{ products { id } }"}', key="wrong")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "errors": [
            {
                "message": "missing or unknown API key: send Authorization: Bearer <key> or "
                "X-API-Key",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
