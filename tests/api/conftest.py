"""API fixtures: the app over HTTP on each store holding the reference network, and callers.

Keys are configured explicitly (never the development defaults), one per role, plus two partners.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.config import Settings
from pboss.http.app import create_app
from pboss.inventory.store import GraphStore

KEYS = {
    "crm-key": "crm",
    "eng-key": "engineer",
    "admin-key": "admin",
    "tt-key": "partner:P-TT",
    "oc-key": "partner:P-OC",
}
CRM, ENGINEER, ADMIN, PARTNER_TT, PARTNER_OC = KEYS


def api_settings(**overrides: Any) -> Settings:
    """Settings for tests: explicit keys, no demo loading, /metrics open (tests count store
    calls there; its access rules are tested in test_operator_security.py), neither resource
    publishing, the event hub's deliverer nor the utilisation sweeper (their background reads
    and events would disturb those counts and the event log's contents; tests/crm, tests/hub and
    tests/assurance run them), everything else as shipped."""
    defaults = {
        "metrics_open": True,
        "publish_resources": False,
        "hub_deliver": False,
        "utilisation_sweep_seconds": 0,
    }
    return Settings(api_keys=KEYS, demo=False, **{**defaults, **overrides})


class Api:
    """A GraphQL caller over HTTP."""

    def __init__(self, client: TestClient):
        self.client = client

    def post(self, query: str, key: str | None = ENGINEER, **variables: Any) -> Any:
        """The raw HTTP response of one operation."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        body: dict[str, Any] = {"query": query}
        if variables:
            body["variables"] = variables
        return self.client.post("/graphql", json=body, headers=headers)

    def data(self, query: str, key: str | None = ENGINEER, **variables: Any) -> dict[str, Any]:
        """The `data` of an operation that must succeed without GraphQL errors."""
        response = self.post(query, key, **variables)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def errors(self, query: str, key: str | None = ENGINEER, **variables: Any) -> list[Any]:
        """The `errors` of an operation that must fail (any status but 5xx)."""
        response = self.post(query, key, **variables)
        assert response.status_code < 500, response.text
        return response.json()["errors"]


@pytest.fixture
def api(demo_store: GraphStore) -> Iterator[Api]:
    """The app on the reference network, on each store."""
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        yield Api(client)
