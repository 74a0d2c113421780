"""Accepted queries (`pboss.graphql.prepared`): a query text the schema has parsed and validated
once runs past strawberry's pipeline from then on, and answers, logs and counts exactly as
strawberry's view does; anything else still goes through strawberry."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from strawberry.extensions import AddValidationRules, MaskErrors, MaxTokensLimiter, ParserCache

import pboss.graphql.lean as lean_module
from pboss.app import create_app
from pboss.graphql.extensions import OperationMetrics, ValidationByDocument
from pboss.graphql.lean import LeanGraphQL
from pboss.graphql.prepared import AcceptedQueries
from pboss.inventory.store import GraphStore
from pboss.metrics import Metrics
from tests.api.conftest import ENGINEER, PARTNER_TT, Api, api_settings
from tests.api.test_lean_path import COMPARED, RIDERS, _lean, _post
from tests.api.test_limits import _Exploding

#: Bodies strawberry accepts before execution (their text parses and validates): the second
#: request of each runs past strawberry.
ACCEPTED = {
    "riders",
    "riders by name",
    "unknown id",
    "missing variable",
    "bad cursor",
    "introspection",
}


class Prepared:
    """Counts the requests `execute_accepted` answered (None: handed back to strawberry)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.answered = 0
        run = lean_module.execute_accepted

        async def counted(*args: Any, **kwargs: Any) -> Any:
            result = await run(*args, **kwargs)
            self.answered += result is not None
            return result

        monkeypatch.setattr(lean_module, "execute_accepted", counted)


@pytest.mark.parametrize(("why", "body"), COMPARED, ids=[c[0] for c in COMPARED])
@pytest.mark.parametrize("key", [ENGINEER, PARTNER_TT])
def test_a_repeated_query_answers_byte_for_byte_as_the_view(
    api: Api, monkeypatch: pytest.MonkeyPatch, why: str, body: Any, key: str
) -> None:
    prepared = Prepared(monkeypatch)
    first = _post(api, body, key)
    assert prepared.answered == 0, why
    again = _post(api, body, key)
    assert prepared.answered == (why in ACCEPTED), why
    monkeypatch.setattr(LeanGraphQL, "enabled", False)
    view = _post(api, body, key)
    for answer in (first, again):
        assert answer.status_code == view.status_code, why
        assert answer.content == view.content, why
        assert answer.headers.items() == view.headers.items(), why


def test_operation_extensions_and_mutations_go_through_strawberry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared = Prepared(monkeypatch)
    query = {"query": RIDERS, "variables": {"id": "OLT-1"}}
    _post(api, query)
    _post(api, {**query, "extensions": {"trace": True}})
    assert prepared.answered == 0
    mutation = 'mutation { setStatus(id: "OLT-1", status: PLANNED, reason: "x") { __typename } }'
    for _ in range(2):
        assert _post(api, {"query": mutation}).status_code == 200
    assert prepared.answered == 0
    _post(api, query)
    assert prepared.answered == 1


def test_a_masked_failure_is_logged_masked_and_counted_alike(
    demo_store: GraphStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    prepared = Prepared(monkeypatch)
    app = create_app(api_settings(), store=_Exploding(demo_store))  # type: ignore[arg-type]
    query = 'query Broken { riders(resource: "OLT-1") { __typename } }'
    with TestClient(app) as client, caplog.at_level(logging.ERROR, "pboss.graphql.schema"):
        api = Api(client)
        answers = [api.post(query).json() for _ in range(2)]
        metrics = client.get("/metrics").text
    assert prepared.answered == 1
    assert answers[0] == answers[1]
    assert answers[1]["errors"][0]["message"] == "Unexpected error."
    assert "hunter2" not in str(answers)
    logged = [r for r in caplog.records if r.message.startswith("unexpected error in")]
    assert len(logged) == 2 and all(r.exc_info for r in logged)
    counted = 'pboss_graphql_operations_total{operation="Broken",outcome="error",type="query"} 2.0'
    assert counted in metrics


def test_each_request_counts_once_with_its_operation_name(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared = Prepared(monkeypatch)
    two = "query A { products { id } } query B { __typename }"
    for name in ("A", "B", "B"):
        assert _post(api, {"query": two, "operationName": name}).status_code == 200
    assert prepared.answered == 2
    text = api.client.get("/metrics").text
    assert 'pboss_graphql_operations_total{operation="A",outcome="ok",type="query"} 1.0' in text
    assert 'pboss_graphql_operations_total{operation="B",outcome="ok",type="query"} 2.0' in text
    assert 'pboss_graphql_operation_seconds_count{operation="B",type="query"} 2.0' in text


def test_the_record_of_accepted_texts_is_bounded() -> None:
    accepted = AcceptedQueries(limit=2)
    docs: list[Any] = [object(), object(), object()]
    accepted.add("a", docs[0])
    accepted.add("b", docs[1])
    accepted.add("a", docs[0])  # known: nothing forgotten
    assert (accepted.get("a"), accepted.get("b")) == (docs[0], docs[1])
    accepted.add("c", docs[2])  # full: starts afresh
    assert (accepted.get("a"), accepted.get("b"), accepted.get("c")) == (None, None, docs[2])


def test_the_prepared_path_knows_every_schema_extension(api: Api) -> None:
    """`execute_accepted` does after execution what these extensions do (mask, count); a new
    extension must be looked at there before it is added to the schema."""
    lean = _lean(api.client)
    known = {
        MaxTokensLimiter,
        AddValidationRules,
        ParserCache,
        ValidationByDocument,
        MaskErrors,
        OperationMetrics,
    }
    made = {type(extension) for extension in lean.schema.get_extensions()}
    assert made == known
    assert lean.prepared
    assert isinstance(lean.schema.after_execution.metrics, Metrics)
