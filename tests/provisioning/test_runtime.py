"""The background sweeper the app starts: it expires lapsed holds on its own, and stops cleanly."""

from __future__ import annotations

import time

from pboss.inventory.store import GraphStore
from pboss.metrics import Metrics, instrument
from pboss.provisioning.model import ReservationState
from pboss.provisioning.runtime import start_sweeper, stop
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from tests.provisioning.conftest import Clock, ftth, snapshot


def test_the_sweeper_expires_lapsed_holds_in_the_background(net: GraphStore, clock: Clock) -> None:
    wrapped = instrument(net, Metrics())  # as the app hands it over
    settings = ProvisioningSettings(sweep_interval_seconds=0.05, links_cache_seconds=0)
    svc = ProvisioningService(wrapped, settings=settings, clock=clock)
    order = svc.submit_order(ftth("T1"))
    before = snapshot(net)
    res = svc.reserve(order.id, ttl_seconds=60)
    handle = start_sweeper(wrapped, service=svc)
    try:
        assert handle.running and handle.service is svc
        clock.advance(minutes=5)
        deadline = time.monotonic() + 20
        while svc.reservation(res.id).state != ReservationState.EXPIRED:
            assert time.monotonic() < deadline, "the sweeper did not expire the hold"
            time.sleep(0.05)
    finally:
        stop(handle)
    assert not handle.running
    assert snapshot(net) == before


def test_start_sweeper_reads_the_apps_provisioning_settings(net: GraphStore) -> None:
    class AppSettings:
        provisioning = ProvisioningSettings(sweep_interval_seconds=3600)

    handle = start_sweeper(net, AppSettings())
    try:
        assert handle.interval == 3600 and handle.service.settings.sweep_interval_seconds == 3600
    finally:
        handle.stop()
        handle.stop()  # idempotent
