"""Console fixtures: the app on each store holding the reference network, as a browser would
use it (a TestClient keeping the session cookie), with the API tests' keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import api_settings


class Console:
    """A console user: logs in with a key, then opens pages with its session cookie."""

    def __init__(self, client: TestClient):
        self.client = client

    def login(self, key: str) -> None:
        """Log in with `key` (it must be known)."""
        answer = self.client.post("/ui/login", data={"key": key}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        self.client.cookies.set("pboss_console", answer.cookies["pboss_console"], path="/ui")

    def get(self, path: str, **params: str) -> str:
        """The body of a console page that must answer 200."""
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.text


@pytest.fixture
def console(demo_store: GraphStore) -> Iterator[Console]:
    """The console on the reference network, on each store; not yet logged in."""
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        yield Console(client)
