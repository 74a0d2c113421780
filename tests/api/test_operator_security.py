"""Operator security: what an installation exposes by default, and what it refuses to run with.

GraphiQL and /metrics close once real API keys are configured (each can be switched back on);
the API refuses to start with no usable key; GraphiQL is served from pboss's own pinned assets;
`pboss keys init` and docker-compose.yml keep every secret in a private .env; pboss logs in to
the local launcher's Neo4j with its generated password by itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pboss.cli.keys import write_env
from pboss.cli.main import app as cli_app
from pboss.config import Settings
from pboss.http.app import create_app
from pboss.http.auth import NoApiKeys
from pboss.http.graphiql import ASSETS_PATH, STATIC_DIR
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, KEYS

ROOT = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}


def _app(store: GraphStore, **settings: Any) -> TestClient:
    """The app as shipped (no test overrides) with the given settings, on `store`."""
    return TestClient(create_app(Settings(demo=False, **settings), store=store))


# ---- GraphiQL -----------------------------------------------------------------------------


def test_graphiql_is_off_by_default_once_real_keys_are_configured(demo_store: GraphStore) -> None:
    with _app(demo_store, api_keys=KEYS) as client:
        assert client.get("/graphql", headers=HTML).status_code == 401
        page = client.get("/graphql", headers={**HTML, "X-API-Key": ENGINEER})
        assert "graphiql" not in page.text.lower()
    # Its static assets (no data in them) are served only for the console's GraphiQL, behind
    # the console's login; with the console off too, nothing of GraphiQL is served.
    with _app(demo_store, api_keys=KEYS, console=False) as client:
        assert client.get(f"{ASSETS_PATH}/graphiql.min.js").status_code == 404
        assert client.get("/ui/graphiql").status_code == 404


def test_graphiql_can_be_switched_on_with_real_keys(demo_store: GraphStore) -> None:
    with _app(demo_store, api_keys=KEYS, graphiql=True) as client:
        page = client.get("/graphql", headers=HTML)
        assert page.status_code == 200 and 'id="pboss-key"' in page.text
        assert client.post("/graphql", json={"query": "{ __typename }"}).status_code == 401


def test_graphiql_is_on_for_the_development_keys() -> None:
    with TestClient(create_app(Settings(api_keys={}, api_keys_file=None))) as client:
        page = client.get("/graphql", headers=HTML)
        assert page.status_code == 200 and 'id="pboss-key"' in page.text


def test_the_graphiql_page_loads_nothing_from_elsewhere(demo_store: GraphStore) -> None:
    """Every script and style is pboss's own (relative URLs), and the CSP says only this
    origin; each vendored asset is served byte for byte as pinned in ASSETS.json."""
    with _app(demo_store, api_keys=KEYS, graphiql=True) as client:
        page = client.get("/graphql", headers=HTML)
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self';" in csp
        refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert refs and all(r.startswith("static/graphiql/") or r == "data:," for r in refs), refs
        assert "://" not in page.text
        manifest = json.loads((STATIC_DIR / "ASSETS.json").read_text())["files"]
        for ref in refs:
            if ref.startswith("static/"):
                asset = client.get("/" + ref)
                assert asset.status_code == 200, ref
                name = ref.rsplit("/", 1)[1]
                if name in manifest:
                    assert hashlib.sha256(asset.content).hexdigest() == manifest[name]["sha256"]
    assert {"graphiql.min.js", "react.production.min.js", "react-dom.production.min.js"} <= set(
        manifest
    )


# ---- /metrics -----------------------------------------------------------------------------


def test_metrics_need_a_key_once_real_keys_are_configured(demo_store: GraphStore) -> None:
    with _app(demo_store, api_keys=KEYS, metrics_key="scrape-me") as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"X-API-Key": CRM}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert scraped.status_code == 200 and "pboss_http_requests_total" in scraped.text
        by_admin = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
        assert by_admin.status_code == 200
        assert client.get("/healthz").status_code == 200  # probes stay open


def test_metrics_can_be_opened_and_are_open_for_the_development_keys(
    demo_store: GraphStore,
) -> None:
    with _app(demo_store, api_keys=KEYS, metrics_open=True) as client:
        assert client.get("/metrics").status_code == 200
    with TestClient(create_app(Settings(api_keys={}, api_keys_file=None))) as client:
        assert client.get("/metrics").status_code == 200
    with _app(demo_store, metrics_open=False, api_keys={}, api_keys_file=None) as client:
        assert client.get("/metrics").status_code == 401


# ---- refusing to start without keys -------------------------------------------------------


def test_the_api_refuses_neo4j_without_keys_before_connecting() -> None:
    """No keys on Neo4j: a clear refusal, before any connection (the URI answers nothing)."""
    settings = Settings(store="neo4j", neo4j_uri="bolt://127.0.0.1:1", api_keys={})
    with pytest.raises(NoApiKeys, match="PBOSS_API_KEYS") as refused:
        create_app(settings)
    assert "Neo4j" in str(refused.value) and "pboss keys init" in str(refused.value)
    with pytest.raises(NoApiKeys):
        create_app(Settings(store="memory", demo=False, api_keys={}))


def test_serve_refuses_neo4j_without_keys_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PBOSS_API_KEYS", "PBOSS_API_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PBOSS_NEO4J_URI", "bolt://127.0.0.1:1")
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("served anyway"))
    result = CliRunner().invoke(cli_app, ["serve", "--store", "neo4j"])
    assert result.exit_code == 2, result.output
    assert "pboss: no API keys configured for the Neo4j store" in result.output
    assert "Traceback" not in result.output


# ---- deployment secrets -------------------------------------------------------------------


def _dotenv(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            out[name.strip()] = value.strip().strip("'")
    return out


def test_keys_init_writes_a_private_env_and_never_overwrites(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    result = CliRunner().invoke(cli_app, ["keys", "init", "--path", str(env)])
    assert result.exit_code == 0, result.output
    assert env.stat().st_mode & 0o777 == 0o600
    values = _dotenv(env.read_text())
    roles = json.loads(values["API_KEYS"])
    assert sorted(roles.values()) == ["admin", "crm", "engineer"]
    assert all(len(key) >= 32 for key in roles) and all(k in result.output for k in roles)
    assert all(len(values[n]) >= 24 for n in ("NEO4J_PASSWORD", "CURSOR_KEY", "METRICS_KEY"))
    Settings(api_keys=roles)  # the JSON is what PBOSS_API_KEYS takes
    before = env.read_text()
    again = CliRunner().invoke(cli_app, ["keys", "init", "--path", str(env)])
    assert again.exit_code == 1 and "exists" in again.output and env.read_text() == before
    write_env(env, force=True)
    assert env.read_text() != before and env.stat().st_mode & 0o777 == 0o600


def test_compose_takes_every_secret_from_env_and_keeps_neo4j_unpublished(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    neo4j, api = compose["services"]["neo4j"], compose["services"]["pboss"]
    assert "ports" not in neo4j, "Neo4j's ports are published only with the override file"
    assert neo4j["environment"]["NEO4J_AUTH"].startswith("neo4j/${NEO4J_PASSWORD:?")
    env = api["environment"]
    for name, var in (
        ("PBOSS_API_KEYS", "API_KEYS"),
        ("PBOSS_NEO4J_PASSWORD", "NEO4J_PASSWORD"),
        ("PBOSS_CURSOR_KEY", "CURSOR_KEY"),
        ("PBOSS_METRICS_KEY", "METRICS_KEY"),
    ):
        assert env[name].startswith("${" + var + ":?"), (name, env[name])  # required
    used = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    example = _dotenv((ROOT / ".env.example").read_text())
    write_env(tmp_path / ".env")
    generated = _dotenv((tmp_path / ".env").read_text())
    assert used <= set(example) and used <= set(generated)
    override = yaml.safe_load((ROOT / "docker-compose.neo4j-ports.yml").read_text())
    ports = override["services"]["neo4j"]["ports"]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports)
    assert ".env" in (ROOT / ".gitignore").read_text().split()


# ---- the local launcher's login -----------------------------------------------------------


@pytest.mark.neo4j
def test_pboss_logs_in_to_the_launchers_neo4j_by_itself(
    neo4j_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pboss serve --store neo4j` with no password configured uses the launcher's own."""
    if neo4j_endpoint.source != "local":
        pytest.skip("the session's Neo4j is not the local launcher")
    from pboss.bootstrap import neo4j_auth, open_store

    monkeypatch.setenv("PBOSS_NEO4J_HOME", str(neo4j_endpoint.home))
    settings = Settings(store="neo4j", neo4j_uri=neo4j_endpoint.uri, api_keys=KEYS)
    assert settings.neo4j_auth is None
    assert neo4j_auth(settings) == neo4j_endpoint.auth
    store = open_store(settings)
    try:
        store.counts()  # a query, so a refused login would raise here
    finally:
        store.close()
    monkeypatch.setenv("PBOSS_NEO4J_HOME", str(neo4j_endpoint.home / "elsewhere"))
    assert neo4j_auth(settings) is None


def test_neo4j_start_prints_the_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pboss neo4j start` prints the URI, then user and password and where they are kept."""
    from pboss.inventory.neo4j import local as neo4j_local

    home = tmp_path / "home"

    def started(where: Path, **_: Any) -> str:
        where.mkdir(parents=True)
        assert neo4j_local._ensure_password(where)
        return "bolt://127.0.0.1:7999"

    monkeypatch.setattr(neo4j_local, "start", started)
    result = CliRunner().invoke(cli_app, ["neo4j", "start", "--home", str(home)])
    assert result.exit_code == 0, result.output
    user, password = neo4j_local.credentials(home) or ("", "")
    lines = result.output.splitlines()
    assert lines[0] == "bolt://127.0.0.1:7999"
    assert f"user {user}, password {password}" in lines[1] and "mode 600" in lines[1]
    assert (home / "neo4j.password").stat().st_mode & 0o777 == 0o600
