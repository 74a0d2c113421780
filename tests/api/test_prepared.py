"""Accepted queries (`pboss.graphql.prepared`): a query text the schema has parsed and validated
once runs past strawberry's pipeline from then on, and answers, logs and counts exactly as
strawberry's view does; anything else still goes through strawberry."""

from __future__ import annotations

import inspect
import logging
from functools import partial
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from fastapi.testclient import TestClient
from strawberry.extensions import (
    MaskErrors,
    SchemaExtension,
)

import pboss.graphql.lean as lean_module
import pboss.graphql.prepared as prepared_module
from pboss.graphql.extensions import should_mask
from pboss.graphql.lean import LeanGraphQL
from pboss.graphql.prepared import KNOWN_EXTENSIONS, AcceptedQueries, AfterExecution
from pboss.http.app import create_app
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


def test_a_failure_of_execution_itself_is_answered_once_as_strawberry_answers_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should graphql-core's `execute` itself fail after the resolvers ran, the request is
    answered from that failure (as strawberry answers it), not run again."""
    prepared = Prepared(monkeypatch)
    query = {"query": RIDERS, "variables": {"id": "OLT-1"}}
    _post(api, query)  # accepted from now on
    store = api.client.app.state.pboss["store"]
    calls: list[Any] = []
    riders = store.riders
    monkeypatch.setattr(store, "riders", lambda *a, **k: calls.append(a) or riders(*a, **k))

    def then_fail(real: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)

            async def failing() -> None:
                if inspect.isawaitable(result):
                    await result
                raise RuntimeError("the executor broke")

            return failing()

        return run

    monkeypatch.setattr(prepared_module, "execute", then_fail(prepared_module.execute))
    monkeypatch.setattr(strawberry_schema, "execute", then_fail(strawberry_schema.execute))
    answer = _post(api, query)
    assert prepared.answered == 1 and len(calls) == 1
    monkeypatch.setattr(LeanGraphQL, "enabled", False)
    view = _post(api, query)
    assert len(calls) == 2
    assert answer.status_code == view.status_code == 200
    assert answer.content == view.content
    assert answer.json()["data"] is None


def test_the_record_of_accepted_texts_is_bounded() -> None:
    accepted = AcceptedQueries(limit=2)
    docs: list[Any] = [object(), object(), object()]
    rules = ("depth", "aliases")
    accepted.add("a", docs[0], rules)
    accepted.add("b", docs[1], rules)
    accepted.add("a", docs[0], rules)  # known: nothing forgotten
    assert (accepted.get("a"), accepted.get("b")) == (docs[0], docs[1])
    accepted.add("c", docs[2], rules)  # full: starts afresh
    assert (accepted.get("a"), accepted.get("b"), accepted.get("c")) == (None, None, docs[2])


def test_texts_validated_under_other_rules_close_the_record() -> None:
    """Rules that differ from one request to the next (per caller, say) would make a text
    accepted for one request unchecked for the next: the record then accepts nothing."""
    accepted = AcceptedQueries()
    doc: Any = object()
    accepted.add("a", doc, ("depth",))
    accepted.add("b", doc, ("depth", "no introspection"))
    accepted.add("c", doc, ("depth",))
    assert (accepted.get("a"), accepted.get("b"), accepted.get("c")) == (None, None, None)


class _Unknown(SchemaExtension):
    """An extension the prepared path knows nothing about."""

    def on_execute(self) -> Any:
        yield


def test_unknown_extensions_or_error_processing_run_everything_through_strawberry(
    demo_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert AfterExecution([partial(MaskErrors, should_mask_error=should_mask)]).complete
    assert not AfterExecution([MaskErrors, _Unknown]).complete
    app = create_app(api_settings(), store=demo_store)
    with TestClient(app) as client:
        lean = _lean(client)
        assert lean.prepared
        known = lean.schema.after_execution
        lean.schema.after_execution = AfterExecution([*lean.schema.extensions, _Unknown])
        assert not LeanGraphQL(lean.app, lean.router, lean.state, lean.path).prepared
        lean.schema.after_execution = known
        monkeypatch.setattr(lean.schema.config, "disable_field_suggestions", True)
        assert not LeanGraphQL(lean.app, lean.router, lean.state, lean.path).prepared


def test_the_prepared_path_knows_every_schema_extension(api: Api) -> None:
    """The app's schema has exactly the extensions `execute_accepted` accounts for: a new one
    would quietly send every query back through strawberry (`AfterExecution.complete`), so adding
    one means looking at the prepared path and `KNOWN_EXTENSIONS` first."""
    lean = _lean(api.client)
    made = {type(extension) for extension in lean.schema.get_extensions()}
    assert made == set(KNOWN_EXTENSIONS)
    assert lean.prepared
    assert isinstance(lean.schema.after_execution.metrics, Metrics)
