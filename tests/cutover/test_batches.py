"""Large plans in batches, on both stores: each batch is one transaction that leaves the graph
consistent (a rider's steps together), section holds shrink batch by batch, a batch refused
leaves the plan inProgress with the earlier batches done, and rollback undoes exactly those."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pboss.cutover.errors import AssumptionBroken
from pboss.cutover.model import PlanState
from pboss.cutover.service import CutoverService
from pboss.inventory.store import GraphStore
from tests.cutover.network import (
    WINDOW,
    Clock,
    fed_by,
    full_splitter,
    network,
    route,
    trunk_alternative,
)


def _scheduled(svc: CutoverService, clock: Clock, **kw: object) -> None:
    plan = kw.pop("plan")
    getattr(svc, plan)(  # type: ignore[operator]
        window_start=WINDOW[0], window_end=WINDOW[1], reason="x", actor="eng", plan_id="CUT-B",
        **kw,
    )  # fmt: skip
    svc.approve("CUT-B", actor="lead")
    svc.schedule("CUT-B", actor="lead")
    clock.now = WINDOW[0] + timedelta(minutes=1)


def test_rehome_in_batches_of_three(demo_store: GraphStore) -> None:
    full_splitter(demo_store)
    clock = Clock()
    svc = CutoverService(demo_store, clock)
    before = network(demo_store)
    _scheduled(svc, clock, plan="plan_rehome", source="SPL-JZ-2A", target="SPL-JZ-3")
    done = svc.execute("CUT-B", actor="eng", batch_size=3)
    assert done.state == PlanState.COMPLETED and json.loads(done.verification)["ok"]
    assert [h.event for h in done.entries()][3:] == ["started", "batch", "batch", "completed"]
    assert len(done.recorded("before")) == 8 == len(done.recorded("after"))
    assert fed_by(demo_store, "ONT-JZ-8") == "SPL-JZ-3:8"
    svc.rollback("CUT-B", actor="eng")
    assert network(demo_store) == before


def test_a_refused_batch_leaves_earlier_batches_and_rollback_undoes_them(
    demo_store: GraphStore,
) -> None:
    trunk_alternative(demo_store)
    clock = Clock()
    svc = CutoverService(demo_store, clock)
    before = network(demo_store)
    routes = {c: route(demo_store, c) for c in ("CIR-1", "CIR-2", "CIR-3", "CIR-4")}
    _scheduled(svc, clock, plan="plan_reroute", link="TS-2")
    # the last circuit's route is moved meanwhile (an admin re-routes CIR-5 by hand)
    from pboss.inventory.edges import EdgeMove

    demo_store.change_edges(
        moves=[EdgeMove("ROUTED_OVER", "CIR-5", "TS-2", new_dst="TS-3", slots=[200])],
        actor="adm",
        reason="urgent",
    )
    with pytest.raises(AssumptionBroken) as err:
        svc.execute("CUT-B", actor="eng", batch_size=2)
    assert err.value.reasons == ["CIR-5: ROUTED_OVER CIR-5 -> TS-2 is gone (now TS-3)"]
    plan = svc.get("CUT-B")
    assert plan.state == PlanState.IN_PROGRESS and plan.done_riders == 4
    assert route(demo_store, "CIR-3") == [(1, "TS-3", [7])]
    # the hold kept only the slots the last batch still needs
    assert [e[2]["slots"] for e in demo_store.scan_edges("HOLDS") if e[0] == "CUT-B"] == [[9]]
    back = svc.rollback("CUT-B", actor="eng", note="abandoned")
    assert back.state == PlanState.ROLLED_BACK
    after = network(demo_store)
    expected = dict(before)
    expected["edge:ROUTED_OVER"] = after["edge:ROUTED_OVER"]
    assert after == expected  # every node and other edge as before
    assert {c: route(demo_store, c) for c in routes} == routes
    assert route(demo_store, "CIR-3") == [(1, "TS-2", [21])]
    assert route(demo_store, "CIR-5") == [(1, "TS-3", [200])]
    assert not [e for e in demo_store.scan_edges("HOLDS") if e[0] == "CUT-B"]
