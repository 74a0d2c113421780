"""The outage breaker (pboss.inventory.neo4j.outage): once the server is known to be away, calls
fail at once; one caller per interval probes, and a probe that answers lets calls through again."""

from __future__ import annotations

import time

import pytest

from pboss.inventory.errors import StoreUnavailable
from pboss.inventory.neo4j.outage import Breaker


class _Server:
    def __init__(self) -> None:
        self.up = True
        self.probes = 0

    def probe(self) -> None:
        self.probes += 1
        if not self.up:
            raise OSError("connection refused")


def test_calls_fail_at_once_while_down_and_go_through_once_a_probe_answers() -> None:
    server = _Server()
    breaker = Breaker(server.probe, probe_every=0.2)
    breaker.check()  # closed: no probe
    assert server.probes == 0
    server.up = False
    breaker.opened()
    started = time.monotonic()
    for _ in range(50):
        with pytest.raises(StoreUnavailable):
            breaker.check()
    assert time.monotonic() - started < 0.1 and server.probes == 0  # no probe within the interval
    time.sleep(0.25)
    with pytest.raises(StoreUnavailable):
        breaker.check()  # this caller probed, and the server is still away
    assert server.probes == 1 and breaker.down
    server.up = True
    time.sleep(0.25)
    breaker.check()  # the probe answers: closed again
    assert server.probes == 2 and not breaker.down
    breaker.check()
    assert server.probes == 2
