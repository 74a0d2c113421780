"""The service around the schema: health, readiness, metrics, and the app's own wiring."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pboss.cli.main import app as cli_app
from pboss.config import Settings
from pboss.graphql.permissions import parse_role
from pboss.http.app import create_app
from pboss.inventory.errors import StoredDataInvalid
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, KEYS, Api, api_settings


def test_healthz_and_readyz(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


class _Down:
    """A store that cannot answer."""

    name = "down"

    def __init__(self, inner: GraphStore):
        self.inner = inner  # the name wrappers expose, so provisioning finds the real store

    def get(self, element_id: str) -> Any:
        raise ConnectionError("store unreachable")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_readyz_is_503_when_the_store_does_not_answer(demo_store: GraphStore) -> None:
    with TestClient(create_app(api_settings(), store=_Down(demo_store))) as client:  # type: ignore[arg-type]
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "store": "down",
            "error": "ConnectionError",
        }
        assert client.get("/healthz").status_code == 200


def test_metrics_count_operations_http_requests_and_store_calls(api: Api) -> None:
    api.data('query RidersOfOlt { riders(resource: "OLT-1") { __typename } }', key=CRM)
    api.data('query RidersOfOlt { riders(resource: "OLT-2") { __typename } }', key=CRM)
    api.data('{ availability(site: "B-JZ") { __typename } }', key=CRM)
    text = api.client.get("/metrics").text
    store = api.client.app.state.pboss["store"].name
    assert (
        'pboss_graphql_operations_total{operation="RidersOfOlt",outcome="ok",type="query"} 2.0'
        in text
    )
    assert 'pboss_graphql_operation_seconds_count{operation="anonymous",type="query"} 1.0' in text
    assert f'pboss_store_call_seconds_count{{method="riders",store="{store}"}} 2.0' in text
    assert f'pboss_store_call_seconds_count{{method="site_view",store="{store}"}} 1.0' in text
    assert 'pboss_http_requests_total{method="POST",route="/graphql",status="200"} 3.0' in text


def test_operation_names_cannot_blow_up_metric_labels(api: Api) -> None:
    metrics = api.client.app.state.pboss["metrics"]
    assert metrics.operation_label("a b") == "other"
    assert metrics.operation_label(None) == "anonymous"
    names = {metrics.operation_label(f"Op{i}") for i in range(500)}
    assert "other" in names and len(names) <= 201


def test_the_app_opens_the_demo_store_itself_with_dev_keys_when_nothing_is_configured() -> None:
    with TestClient(create_app(Settings(api_keys={}, api_keys_file=None))) as client:
        response = client.post(
            "/graphql", json={"query": '{ element(id: "OLT-1") { __typename } }'},
            headers={"X-API-Key": "dev-crm"},
        )  # fmt: skip
        assert response.json() == {"data": {"element": {"__typename": "OLT"}}}


def test_configured_keys_disable_the_dev_keys_and_a_key_file_works(tmp_path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text('[[key]]\nkey = "s3cret"\nrole = "partner:P-OC"\nname = "oc-portal"\n')
    settings = Settings(api_keys_file=keys)
    with TestClient(create_app(settings)) as client:
        query = {"query": '{ element(id: "PA-DH-OC") { ... on Element { id } } }'}
        assert (
            client.post("/graphql", json=query, headers={"X-API-Key": "dev-crm"}).status_code == 401
        )
        response = client.post("/graphql", json=query, headers={"X-API-Key": "s3cret"})
        assert response.json() == {"data": {"element": {"id": "PA-DH-OC"}}}


def test_roles_are_parsed_strictly() -> None:
    assert parse_role("partner:P-TT", "x").partner_id == "P-TT"
    for bad in ("root", "partner", "crm:extra", ""):
        try:
            parse_role(bad, "x")
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_the_app_loads_bundles_from_load_dir_at_start_up(tmp_path) -> None:
    from pboss.loaders.generator import generate

    generate(tmp_path / "tiny", "tiny", 1)
    settings = Settings(load_dir=tmp_path, demo=True, api_keys={"k": "engineer"})
    with TestClient(create_app(settings)) as client:
        query = '{ elements(kind: "OLT", first: 1) { totalCount } }'
        got = client.post("/graphql", json={"query": query}, headers={"X-API-Key": "k"}).json()
        assert got["data"]["elements"]["totalCount"] > 0
        demo = '{ element(id: "OLT-1") { __typename } }'
        got = client.post("/graphql", json={"query": demo}, headers={"X-API-Key": "k"}).json()
        assert got["data"]["element"]["__typename"] == "NotFound"  # not empty: no demo on top


def test_serve_refusing_its_store_says_why_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pboss serve` on data the model refuses: the reason and exit 2, no traceback, no server."""
    import pboss.http.app

    def refuse(settings: Settings) -> None:
        raise StoredDataInvalid("the store holds services with more than one customer (SVC-1)")

    monkeypatch.setattr(pboss.http.app, "create_app", refuse)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("served anyway"))
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 2
    assert "pboss: the store holds services with more than one customer (SVC-1)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.neo4j
def test_an_app_on_neo4j_times_every_query_by_name_in_its_metrics(
    neo4j_endpoint: Any, neo4j_store_session: GraphStore
) -> None:
    """The app that opens Neo4j itself shows each named query's latency at /metrics, so an
    operator sees which Cypher a slow request spent its time in."""
    neo4j_store_session.clear()
    user, password = neo4j_endpoint.auth or (None, None)
    settings = Settings(
        api_keys=KEYS,
        store="neo4j",
        neo4j_uri=neo4j_endpoint.uri,
        neo4j_user=user,
        neo4j_password=password,
        demo=True,
    )
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {CRM}"}
        query = '{ riders(resource: "OLT-1") { ... on RiderConnection { totalCount } } }'
        answer = client.post("/graphql", json={"query": query}, headers=headers).json()
        assert answer == {"data": {"riders": {"totalCount": 5}}}
        text = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"}).text
    samples = [line for line in text.splitlines() if "pboss_neo4j_query_seconds_count" in line]
    assert any('access="READ"' in line and 'name="riders' in line for line in samples), samples
    assert any('access="WRITE"' in line for line in samples), samples  # the demo's load
    neo4j_store_session.clear()
