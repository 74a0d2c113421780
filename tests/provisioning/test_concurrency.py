"""Many clients at once: exactly as many winners as free resources, typed errors for the rest."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import NoCapacity
from pboss.provisioning.model import OrderState, Reservation
from pboss.provisioning.notify import Outbox
from pboss.provisioning.service import ProvisioningService
from pboss.provisioning.settings import ProvisioningSettings
from tests.provisioning.conftest import Clock, add, ftth, leased, no_locks_left

CLIENTS = 50


def race(fn: Callable[[Any], Any], args: Sequence[Any]) -> list[Any]:
    """Call fn(arg) for every arg in its own thread, all released at once; exceptions returned."""
    barrier = threading.Barrier(len(args))

    def one(arg: Any) -> Any:
        barrier.wait()
        try:
            return fn(arg)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        return list(pool.map(one, args))


def _split(results: list[Any]) -> tuple[list[Reservation], list[NoCapacity]]:
    wins = [r for r in results if isinstance(r, Reservation)]
    losses = [r for r in results if isinstance(r, NoCapacity)]
    others = [r for r in results if not isinstance(r, Reservation | NoCapacity)]
    assert others == [], others
    return wins, losses


def test_fifty_clients_for_the_last_five_ports_of_a_site(
    svc: ProvisioningService, net: GraphStore
) -> None:
    # occupy SPL-DH-2A:3 so B-DH keeps exactly five sellable outputs (its stage-1 splitter's
    # three free outputs feed future second-stage splitters: the catalog does not sell them)
    add(
        net,
        [{"kind": "ONT", "id": "ONT-DH-3", "site": "B-DH"}],
        [{"type": "FED_BY", "src": "ONT-DH-3", "dst": "SPL-DH-2A:3"}],
    )
    free = [f"SPL-DH-2A:{i}" for i in range(4, 9)]
    by_id = {sv.splitter.id: sv for sv in net.site_view("B-DH").splitters}
    assert by_id["SPL-DH-2A"].free_ports == free
    orders = [svc.submit_order(ftth(f"P{i:02}", site="B-DH")).id for i in range(CLIENTS)]

    wins, losses = _split(race(svc.reserve, orders))

    assert (len(wins), len(losses)) == (5, 45)
    assert sorted(r.resources[0] for r in wins) == free
    for port in free:
        takers = net.neighbours(port, "in", ["HOLDS", "FED_BY"])
        assert len(takers) == 1, (port, takers)
    assert all("SPL-DH-2A" in str(e) and "SPL-DH-1" in str(e) for e in losses)  # with reasons
    after = {sv.splitter.id: sv.free_ports for sv in net.site_view("B-DH").splitters}
    assert after == {"SPL-DH-1": ["SPL-DH-1:2", "SPL-DH-1:3", "SPL-DH-1:4"], "SPL-DH-2A": []}
    states = Counter(svc.order(o).state for o in orders)
    assert states == {OrderState.IN_PROGRESS: 5, OrderState.ACKNOWLEDGED: 45}
    assert no_locks_left(net)


def test_more_clients_than_free_outputs_over_several_splitters(
    svc: ProvisioningService, net: GraphStore
) -> None:
    views = net.site_view("B-JZ").splitters
    free = sorted(p for sv in views if sv.splitter.stage == 2 for p in sv.free_ports)
    assert len(free) == 13  # SPL-JZ-2A: 6, SPL-JZ-2B: 7 (SPL-JZ-1's 2 feed the cascade)
    orders = [svc.submit_order(ftth(f"M{i:02}")).id for i in range(30)]

    wins, losses = _split(race(svc.reserve, orders))

    assert (len(wins), len(losses)) == (13, 17)  # every sellable output sold, none twice
    assert sorted(r.resources[0] for r in wins) == free
    assert no_locks_left(net)


def test_fifty_clients_for_the_last_vc12_slots_of_one_trunk_section(
    svc: ProvisioningService, net: GraphStore
) -> None:
    # TS-1 (STM-1, 63 slots) is the only way out of CP-XX; leave it slots 54..63
    add(
        net,
        [{"kind": "Circuit", "id": "CIR-FILL", "bandwidth_2m": 51, "status": "in_use"}],
        [{"type": "ROUTED_OVER", "src": "CIR-FILL", "dst": "TS-1", "seq": 1,
          "slots": list(range(3, 54))}],
    )  # fmt: skip
    orders = [svc.submit_order(leased(f"S{i:02}", z="EX-1", n=2)).id for i in range(CLIENTS)]

    wins, losses = _split(race(svc.reserve, orders))

    assert (len(wins), len(losses)) == (5, 45)
    held = [s for e, _ in net.neighbours("TS-1", "in", ["HOLDS"]) for s in e.slots or []]
    assert sorted(held) == list(range(54, 64))  # every slot once, none twice
    ends = [r.resources[0] for r in wins] + [r.resources[-1] for r in wins]
    assert len(set(ends)) == 10  # every client its own A and Z port
    assert all("TS-1" in str(e) and "free VC-12 slots" in str(e) for e in losses)
    assert no_locks_left(net)


def test_sweepers_in_several_processes_expire_each_hold_once(net: GraphStore, clock: Clock) -> None:
    outbox = Outbox()
    settings = ProvisioningSettings(links_cache_seconds=0)
    replicas = [
        ProvisioningService(net, notifier=outbox, clock=clock, settings=settings) for _ in range(4)
    ]
    first = replicas[0]
    held = [
        first.reserve(first.submit_order(ftth(f"E{i}")).id, ttl_seconds=60).id for i in range(8)
    ]
    outbox.drain()
    now = clock.advance(minutes=2)

    reports = race(lambda s: s.sweep_expired(now), replicas)

    expired = [rid for rep in reports for rid in rep.expired]
    assert sorted(expired) == sorted(held)  # each once, by whichever replica got there first
    assert Counter(e.event for e in outbox.drain()) == {"reservationExpired": 8}
    assert no_locks_left(net)
