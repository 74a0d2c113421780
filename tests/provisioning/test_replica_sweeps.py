"""The SLA sweeper in several replicas at once: each work order is flagged once, on each store.

(Holds expiring once across replicas: test_concurrency.py; through real processes behind a
balancer: tests/replicas/test_replicas.py.)"""

from __future__ import annotations

from collections import Counter

from pboss.inventory.store import GraphStore
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from tests.provisioning.conftest import Clock, leased, no_locks_left
from tests.provisioning.test_concurrency import race


def test_sla_sweepers_in_several_replicas_flag_each_work_order_once(
    net: GraphStore, clock: Clock
) -> None:
    outbox = Outbox()
    settings = ProvisioningSettings(links_cache_seconds=0)
    replicas = [
        ProvisioningService(net, notifier=outbox, clock=clock, settings=settings) for _ in range(4)
    ]
    first = replicas[0]
    orders = []
    hours = set()
    for i in range(3):
        first.reserve(first.submit_order(leased(f"SLA{i}", n=1)).id)
        wos = first.work_orders_of(f"ORD-SLA{i}")
        orders += [wo.id for wo in wos]
        hours |= {wo.sla_hours for wo in wos}
    assert len(orders) == 3 and len(hours) == 1  # the catalog's one rule for these lines
    sla = hours.pop()
    outbox.drain()
    now = clock.advance(hours=sla * 0.75)  # the rule's jeopardy share (75 %) of its hours

    reports = race(lambda s: s.sweep_expired(now), replicas)

    flagged = [wid for rep in reports for wid in rep.flagged]
    assert sorted(flagged) == sorted(orders)  # each once, by whichever replica came first
    assert Counter(e.event for e in outbox.drain()) == {"jeopardy": 3}
    later = clock.advance(hours=sla * 0.25)  # breached
    reports = race(lambda s: s.sweep_expired(later), replicas)
    assert sorted(w for rep in reports for w in rep.flagged) == sorted(orders)
    assert Counter(e.event for e in outbox.drain()) == {"slaBreached": 3}
    assert no_locks_left(net)
