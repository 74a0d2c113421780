"""The app runs the deliverer in its lifespan when `hub_deliver` (and only then), shows its
metrics on /metrics, and gives its leases back when it shuts down; on each store."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from pboss.http.app import create_app
from pboss.hub.service import HubService
from pboss.inventory.store import GraphStore
from tests.hub.conftest import emit, hub_settings, listen, wait_for
from tests.hub.receiver import ReceiverServer


def _metric(text: str, line: str) -> float:
    found = re.search(rf"^{re.escape(line)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_the_app_delivers_exposes_metrics_and_releases_on_shutdown(
    store: GraphStore, receiver: ReceiverServer
) -> None:
    settings = hub_settings(api_keys={"a-wiring-test-key-0123456789": "admin"}, metrics_open=True)
    listener = listen(HubService(store, settings), receiver, "/crm")
    receiver.receiver.fail_next("/crm", 1)
    with TestClient(create_app(settings, store=store)) as client:
        assert client.app.state.pboss["hub"].running  # type: ignore[attr-defined]
        ids = emit(store, 3)
        wait_for(lambda: len(receiver.receiver.accepted("/crm")) == 3, what="three deliveries")
        lag = f'pboss_hub_listener_lag_events{{listener="{listener.id}"}} 0.0'
        wait_for(lambda: lag in client.get("/metrics").text, what="the listener's lag at 0")
        text = client.get("/metrics").text
        assert _metric(text, 'pboss_hub_deliveries_total{outcome="delivered"}') == 3
        assert _metric(text, 'pboss_hub_deliveries_total{outcome="retried"}') == 1
        assert _metric(text, "pboss_hub_delivery_seconds_count") == 3
        held = store.get_listener(listener.id)
        assert held is not None and held.lease_owner is not None
    assert receiver.receiver.accepted_ids("/crm") == ids
    after = store.get_listener(listener.id)
    assert after is not None and after.lease_owner is None  # released at shutdown
    assert after.cursor == store.last_event_seq() and after.delivered == 3


def test_without_hub_deliver_the_app_runs_no_deliverer(
    store: GraphStore, receiver: ReceiverServer
) -> None:
    settings = hub_settings(api_keys={"a-wiring-test-key-0123456789": "admin"}, hub_deliver=False)
    listen(HubService(store, settings), receiver, "/crm")
    with TestClient(create_app(settings, store=store)) as client:
        assert client.app.state.pboss["hub"] is None  # type: ignore[attr-defined]
        emit(store, 2)
        assert client.get("/healthz").status_code == 200
    assert receiver.receiver.received("/crm") == []
    assert all(ls.lease_owner is None for ls in store.list_listeners())
