"""The transport snapshot leased-line planning reuses never refuses capacity that is free.

The route CP-XX -> B-DH (NE-A, TS-1, NE-1, TS-2, NE-2, PL-1, NE-Z) has 61 free VC-12 slots on its
narrowest links (TS-1 and PL-1): a 61 x 2 Mb/s hold fills it. After its release, a reservation
made at once must succeed, whether this service released it or another replica (or an engineer)
freed the slots, however long the snapshot is kept.
"""

from __future__ import annotations

import pytest

from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import NoCapacity
from pboss.provisioning.model import Reservation, ReservationState
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from tests.provisioning.conftest import Clock, add, leased, no_locks_left
from tests.provisioning.test_concurrency import CLIENTS, race

#: Long enough that a test never outlives the snapshot: only invalidation can refresh it.
CACHED = ProvisioningSettings(links_cache_seconds=600)


def _service(net: GraphStore, clock: Clock) -> ProvisioningService:
    return ProvisioningService(net, notifier=Outbox(), clock=clock, settings=CACHED)


def _fill_then_refuse(svc: ProvisioningService) -> tuple[str, str]:
    """Fill the route with one hold; a second order is refused (the snapshot now says full)."""
    filler = svc.reserve(svc.submit_order(leased("FILL", n=61)).id)
    assert filler.state == ReservationState.HELD
    late = svc.submit_order(leased("LATE")).id
    with pytest.raises(NoCapacity, match="no route"):
        svc.reserve(late)
    return filler.id, late


def test_a_release_frees_the_route_for_the_next_reservation_at_once(
    net: GraphStore, clock: Clock
) -> None:
    svc = _service(net, clock)
    filler, late = _fill_then_refuse(svc)

    svc.release(filler)

    res = svc.reserve(late)
    assert res.state == ReservationState.HELD
    assert {"TS-1", "TS-2", "PL-1"} <= set(res.resources)


def test_slots_freed_by_another_replica_are_seen_before_refusing(
    net: GraphStore, clock: Clock
) -> None:
    svc, replica = _service(net, clock), _service(net, clock)
    filler, late = _fill_then_refuse(svc)

    replica.release(filler)  # `svc`'s snapshot still shows the route full

    assert svc.reserve(late).state == ReservationState.HELD


def test_an_expiry_by_the_sweeper_frees_the_route_at_once(net: GraphStore, clock: Clock) -> None:
    svc = _service(net, clock)
    filler, late = _fill_then_refuse(svc)
    # past the hold: the route crosses a partner link, so the catalog's partner-built
    # construction SLA (72 h) plus 24 hours of grace
    clock.advance(hours=95)
    assert svc.sweep_expired().expired == []
    clock.advance(hours=2)

    assert svc.sweep_expired().expired == [filler]

    assert svc.reserve(late).state == ReservationState.HELD


def test_a_full_route_is_still_refused_after_the_recheck(net: GraphStore, clock: Clock) -> None:
    svc = _service(net, clock)
    _, late = _fill_then_refuse(svc)
    with pytest.raises(NoCapacity, match="only 0 free VC-12 slots"):
        svc.reserve(late)


def test_a_kept_snapshot_still_gives_exactly_as_many_holds_as_free_slots(
    net: GraphStore, clock: Clock
) -> None:
    """test_concurrency's race for the last 10 slots of TS-1, with the snapshot kept: the
    re-check before refusing neither lets a slot be held twice nor refuses a free one."""
    svc = _service(net, clock)
    svc.plan(svc.submit_order(leased("WARM", z="EX-1")), fresh=True)  # snapshot: TS-1 empty
    add(
        net,
        [{"kind": "Circuit", "id": "CIR-FILL", "bandwidth_2m": 51, "status": "in_use"}],
        [{"type": "ROUTED_OVER", "src": "CIR-FILL", "dst": "TS-1", "seq": 1,
          "slots": list(range(3, 54))}],
    )  # fmt: skip
    orders = [svc.submit_order(leased(f"K{i:02}", z="EX-1", n=2)).id for i in range(CLIENTS)]

    results = race(svc.reserve, orders)

    wins = [r for r in results if isinstance(r, Reservation)]
    losses = [r for r in results if isinstance(r, NoCapacity)]
    assert (len(wins), len(losses)) == (5, CLIENTS - 5), results
    held = [s for e, _ in net.neighbours("TS-1", "in", ["HOLDS"]) for s in e.slots or []]
    assert sorted(held) == list(range(54, 64))
    assert no_locks_left(net)
