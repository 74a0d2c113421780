"""The lean path (`pboss.graphql.lean`): one JSON operation POSTed with a known key is answered
without strawberry's view, byte for byte as the view answers it; every other request still goes
to the view."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.graphql.lean import LeanGraphQL
from tests.api.conftest import CRM, ENGINEER, PARTNER_TT, Api

RIDERS = """query Riders($id: ID!) { riders(resource: $id, first: 2) { ... on RiderConnection {
  totalCount edges { cursor node { health product service { id } customer { id name } } }
  pageInfo { hasNextPage endCursor } } ... on NotFound { id } } }"""


def _lean(client: TestClient) -> LeanGraphQL:
    """The app's lean-path middleware (the middleware stack is built by the first request)."""
    client.get("/healthz")
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, LeanGraphQL):
        layer = layer.app
    return layer


class Spied:
    """The lean path and calls to strawberry's view, counted."""

    def __init__(self, lean: LeanGraphQL, monkeypatch: pytest.MonkeyPatch):
        self.lean = lean
        self.view_calls = 0
        run = lean.router.run

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.view_calls += 1
            return await run(*args, **kwargs)

        monkeypatch.setattr(lean.router, "run", counted)

    def paths(self, send: Any) -> tuple[Any, int, int]:
        """The response of `send()`, requests the lean path served and the view ran meanwhile."""
        served, viewed = self.lean.served, self.view_calls
        response = send()
        return response, self.lean.served - served, self.view_calls - viewed


@pytest.fixture
def spied(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Spied]:
    yield Spied(_lean(api.client), monkeypatch)


def _post(api: Api, body: Any, key: str | None = ENGINEER, **headers: str) -> Any:
    if key is not None:
        headers["X-API-Key"] = key
    headers.setdefault("content-type", "application/json")
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return api.client.post("/graphql", content=content, headers=headers)


def test_a_single_json_operation_takes_the_lean_path(api: Api, spied: Spied) -> None:
    body = {"query": RIDERS, "variables": {"id": "OLT-1"}, "operationName": "Riders"}
    for key in (ENGINEER, CRM, PARTNER_TT):
        response, lean, view = spied.paths(lambda k=key: _post(api, body, k))
        assert (lean, view) == (1, 0)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        riders = response.json()["data"]["riders"]
        assert riders["totalCount"] > 0 if key != PARTNER_TT else riders == {"id": "OLT-1"}
    charset = {"content-type": "application/json; charset=utf-8"}
    response, lean, view = spied.paths(lambda: _post(api, body, **charset))
    assert (lean, view, response.status_code) == (1, 0, 200)
    text = api.client.get("/metrics").text
    assert 'pboss_http_requests_total{method="POST",route="/graphql",status="200"} 4.0' in text
    assert (
        'pboss_graphql_operations_total{operation="Riders",outcome="ok",type="query"} 4.0' in text
    )


HANDED_ON: list[tuple[str, dict[str, Any], int]] = [
    ("no key", {"body": {"query": "{ products { id } }"}, "key": None}, 401),
    ("unknown key", {"body": {"query": "{ products { id } }"}, "key": "nope"}, 401),
    ("a batch", {"body": [{"query": "{ products { id } }"}]}, 400),
    ("not JSON", {"body": b"{not json"}, 400),
    ("JSON, not an object", {"body": b"null"}, 400),
    ("query not a string", {"body": {"query": 5}}, 400),
    ("no query", {"body": {"variables": {}}}, 400),
    ("variables not an object", {"body": {"query": "{ __typename }", "variables": [1]}}, 400),
    ("extensions not an object", {"body": {"query": "{ __typename }", "extensions": 1}}, 400),
    ("operationName not a string", {"body": {"query": "{ __typename }", "operationName": 3}}, 200),
    ("text/plain", {"body": b"{ products { id } }", "content-type": "text/plain"}, 400),
]


@pytest.mark.parametrize(("why", "request_", "status"), HANDED_ON, ids=[h[0] for h in HANDED_ON])
def test_every_other_post_is_handed_to_the_view(
    api: Api, spied: Spied, why: str, request_: dict[str, Any], status: int
) -> None:
    args = dict(request_)
    body, key = args.pop("body"), args.pop("key", ENGINEER)
    response, lean, view = spied.paths(lambda: _post(api, body, key, **args))
    # the app refuses an unknown key before the view runs (its context dependency): not lean
    assert (lean, view) == ((0, 0) if status == 401 else (0, 1)), why
    assert response.status_code < 500 and (status == 200 or response.status_code == status)


def test_get_and_graphiql_are_the_views(api: Api, spied: Spied) -> None:
    params = {"query": "{ products { id } }"}
    get = lambda: api.client.get("/graphql", params=params, headers={"X-API-Key": CRM})  # noqa: E731
    response, lean, view = spied.paths(get)
    assert (lean, view, response.status_code) == (0, 1, 200)
    assert response.json()["data"]["products"]
    ide = lambda: api.client.get("/graphql", headers={"accept": "text/html"})  # noqa: E731
    response, lean, view = spied.paths(ide)
    assert (lean, view, response.status_code) == (0, 1, 200)


ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(60)) + " }"
DEEP = "{ " + "trace(id: $x) { root { " * 15 + "id" + " } }" * 15 + " }"
COMPARED: list[tuple[str, dict[str, Any]]] = [
    ("riders", {"query": RIDERS, "variables": {"id": "OLT-1"}}),
    ("riders by name", {"query": RIDERS, "variables": {"id": "OLT-1"}, "operationName": "Riders"}),
    ("unknown id", {"query": RIDERS, "variables": {"id": "NOPE"}}),
    ("missing variable", {"query": RIDERS}),
    ("unknown operation name", {"query": RIDERS, "operationName": "Other"}),
    ("two operations, none named", {"query": "query A { __typename } query B { __typename }"}),
    ("syntax error", {"query": "{ riders("}),
    ("unknown field", {"query": "{ nothing }"}),
    ("too many aliases", {"query": ALIASES}),
    ("too deep", {"query": DEEP}),
    ("subscription", {"query": "subscription { products { id } }"}),
    ("bad cursor", {"query": '{ riders(resource: "OLT-1", after: "%%") { __typename } }'}),
    ("mutation", {"query": 'mutation { setStatus(id: "OLT-1", status: NOPE) { __typename } }'}),
    ("introspection", {"query": "{ __schema { queryType { name } } }"}),
]


#: Streaming `Accept` headers: this app offers no HTTP streaming protocol, so the view answers
#: them as plain JSON too.
ACCEPTS = [{}, {"accept": "multipart/mixed;subscriptionSpec=1.0"}, {"accept": "text/event-stream"}]


@pytest.mark.parametrize(("why", "body"), COMPARED, ids=[c[0] for c in COMPARED])
@pytest.mark.parametrize("key", [ENGINEER, PARTNER_TT])
@pytest.mark.parametrize("headers", ACCEPTS, ids=["json", "multipart", "sse"])
def test_the_lean_path_answers_byte_for_byte_as_the_view(
    api: Api,
    spied: Spied,
    monkeypatch: pytest.MonkeyPatch,
    why: str,
    body: Any,
    key: str,
    headers: dict[str, str],
) -> None:
    lean_answer, lean, view = spied.paths(lambda: _post(api, body, key, **headers))
    assert (lean, view) == (1, 0), why
    monkeypatch.setattr(LeanGraphQL, "enabled", False)
    view_answer, lean, view = spied.paths(lambda: _post(api, body, key, **headers))
    assert (lean, view) == (0, 1), why
    assert lean_answer.status_code == view_answer.status_code, why
    assert lean_answer.content == view_answer.content, why
    assert lean_answer.headers.items() == view_answer.headers.items(), why
