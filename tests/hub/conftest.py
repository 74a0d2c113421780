"""Fixtures for the event hub: a real receiver on 127.0.0.1, hub settings that allow it, a
listener registered through `HubService`, events written through the store's own transactions,
and delivery workers whose back-off waits are recorded instead of slept."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from pboss.config import Settings
from pboss.hub.delivery import DeliveryWorker
from pboss.hub.runner import DeliveryHandle
from pboss.hub.service import Caller, HubService
from pboss.inventory.events import NewEvent
from pboss.inventory.listeners import Listener
from pboss.inventory.store import GraphStore
from pboss.provisioning.events import CREATE
from tests.hub.receiver import Receiver, ReceiverServer
from tests.neo4j_server import free_port

CRM = Caller(role="crm", name="crm-test")
ADMIN = Caller(role="admin", name="admin-test")
SECRET = "a-listener-secret-for-the-tests-0123456789"


def hub_settings(**overrides: Any) -> Settings:
    """Settings for the tests: 127.0.0.1 allowed, short timeouts and back-off, quick polls."""
    base: dict[str, Any] = {
        "hub_allowed_hosts": ["127.0.0.1"],
        "hub_max_attempts": 3,
        "hub_backoff_seconds": 0.5,
        "hub_backoff_max_seconds": 4.0,
        "hub_timeout_seconds": 2.0,
        "hub_lease_seconds": 15.0,
        "hub_poll_seconds": 0.05,
    }
    return Settings(**{**base, **overrides})


def emit(
    store: GraphStore,
    n: int,
    *,
    per_tx: int = 1,
    partners: list[str] | None = None,
    etype: str = CREATE,
    subject: str = "ORD-T",
) -> list[str]:
    """Commit `n` events (`per_tx` to a transaction) through the store's own write path; their
    ids, in order. Bodies are TMF-shaped, with a customer field a partner must not see."""
    ids: list[str] = []
    for start in range(0, n, per_tx):
        batch = []
        for _ in range(start, min(n, start + per_tx)):
            eid = f"EVT-{uuid.uuid4().hex[:12]}"
            now = datetime.now(UTC)
            order = {"@type": "ProductOrder", "id": subject, "state": "acknowledged",
                     "customer": "H-SECRET", "pbossEvent": "acknowledged"}  # fmt: skip
            body = {"eventId": eid, "eventTime": now.isoformat(), "eventType": etype,
                    "event": {"productOrder": order}}  # fmt: skip
            scope = {"partners": partners or [], "sites": ["B-JZ"]}
            batch.append(NewEvent(id=eid, type=etype, at=now, subject=subject, body=body, **scope))
            ids.append(eid)

        def work(tx: Any, events: list[NewEvent] = batch) -> None:
            for event in events:
                tx.emit(event)

        store.transact(work, actor="test", reason="hub test events")
    return ids


def wait_for(check: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Wait until `check()` holds (deliveries happen on the worker's thread), or fail."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or check}")
        time.sleep(0.01)


class Waits:
    """The worker's back-off sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def receiver() -> Iterator[ReceiverServer]:
    """A receiver on a free 127.0.0.1 port, verifying with SECRET unless told otherwise."""
    server = ReceiverServer(Receiver(SECRET), free_port()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings() -> Settings:
    return hub_settings()


@pytest.fixture
def hub(store: GraphStore, settings: Settings) -> HubService:
    """The hub's rules over the test's store."""
    return HubService(store, settings)


def listen(
    hub: HubService, server: ReceiverServer, path: str, caller: Caller = CRM, **kw: Any
) -> Listener:
    """Register a listener for `server`'s `path`, signed with SECRET."""
    listener, _ = hub.register(caller, server.base + path, secret=SECRET, **kw)
    return listener


class Workers:
    """Delivery workers started by a test, all stopped after it."""

    def __init__(self, store: GraphStore, settings: Settings):
        self.store = store
        self.settings = settings
        self.handles: list[DeliveryHandle] = []

    def start(self, **options: Any) -> DeliveryHandle:
        options.setdefault("sleep", Waits())
        worker = DeliveryWorker(self.store, options.pop("settings", self.settings), **options)
        handle = DeliveryHandle(worker).start()
        self.handles.append(handle)
        return handle

    def stop_all(self) -> None:
        for handle in self.handles:
            handle.stop()


@pytest.fixture
def workers(store: GraphStore, settings: Settings) -> Iterator[Workers]:
    pool = Workers(store, settings)
    try:
        yield pool
    finally:
        pool.stop_all()
