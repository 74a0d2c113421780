"""Assurance fixtures: a service on the demo network with a clock tests move."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from pboss.assurance.service import AssuranceService
from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import Api, api_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock a test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        """Move on and say to when."""
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A fresh clock at T0."""
    return Clock()


@pytest.fixture
def assurance(demo_store: GraphStore, clock: Clock) -> AssuranceService:
    """The assurance service over the demo network (either store)."""
    return AssuranceService(demo_store, clock)


@pytest.fixture
def api(demo_store: GraphStore) -> Iterator[Api]:
    """The app over HTTP on the demo network (either store), with tests/api's keys."""
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        yield Api(client)
