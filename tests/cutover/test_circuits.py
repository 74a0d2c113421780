"""Move circuits off links, on both stores: five circuits off a trunk section onto alternative
paths with fresh VC-12 slots, and a leased line off a Tietong link onto self-built sections;
impact before, events, verification after, rollback to an identical graph."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pboss.cutover.errors import AssumptionBroken, PlanInvalid
from pboss.cutover.impact import Impact
from pboss.cutover.model import MoveKind, PlanState
from pboss.cutover.service import CutoverService
from pboss.hub.views import body_for
from pboss.inventory.store import GraphStore
from tests.cutover.network import (
    WINDOW,
    Clock,
    last_seq,
    network,
    route,
    self_built_beside_tietong,
    trunk_alternative,
)

FIVE = ["CIR-1", "CIR-2", "CIR-3", "CIR-4", "CIR-5"]


def _run(svc: CutoverService, clock: Clock, plan_id: str) -> object:
    svc.approve(plan_id, actor="lead")
    svc.schedule(plan_id, actor="lead")
    clock.now = WINDOW[0] + timedelta(minutes=2)
    return svc.execute(plan_id, actor="eng")


def test_five_circuits_off_a_trunk_section_with_fresh_slots(demo_store: GraphStore) -> None:
    store = demo_store
    trunk_alternative(store)
    clock = Clock()
    svc = CutoverService(store, clock)
    before = network(store)
    last = last_seq(store)
    plan = svc.plan_reroute(
        link="TS-2", window_start=WINDOW[0], window_end=WINDOW[1],
        reason="TS-2 fibre maintenance", actor="eng", plan_id="CUT-TS2",
    )  # fmt: skip
    assert plan.move == MoveKind.REROUTE and plan.riders == FIVE
    # fresh slots on TS-3, allocated across the circuits, held by the plan
    assert [(e[1], e[2]["slots"]) for e in store.scan_edges("HOLDS") if e[0] == "CUT-TS2"] == [
        ("TS-3", [1, 2, 3, 4, 5, 6, 7, 8, 9])
    ]
    assert store.slot_use(["TS-3"])["TS-3"].held == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    impact = Impact.loads(plan.impact)
    assert [s.service for s in impact.services] == [
        "SVC-E1-LL", "SVC-E2-LL", "SVC-LL-1", "SVC-LL-2", "SVC-LL-3",
    ]  # fmt: skip
    assert impact.gold_customers == ["E-1", "E-2"]
    assert impact.partner_segments == ["PL-1"] and plan.partners == ["P-TT"]
    assert impact.by_sla_tier == {"gold": 3, "platinum": 2}

    done = _run(svc, clock, "CUT-TS2")
    assert json.loads(done.verification)["ok"], done.verification
    assert route(store, "CIR-1") == [
        (1, "TS-1", [1, 2]),
        (2, "TS-3", [1, 2]),
        (3, "PL-1", [10, 11]),
    ]
    assert route(store, "CIR-2") == [(1, "TS-3", [3, 4, 5, 6])]
    assert [route(store, f"CIR-{i}") for i in (3, 4, 5)] == [
        [(1, "TS-3", [7])], [(1, "TS-3", [8])], [(1, "TS-3", [9])],
    ]  # fmt: skip
    assert not [e for e in store.scan_edges("ROUTED_OVER") if e[1] == "TS-2"]
    assert store.slot_use(["TS-3"])["TS-3"].held == []
    events = store.events_after(last)
    approved = next(e for e in events if e.type == "CutoverPlanApprovedEvent")
    assert approved.partners == ["P-TT"]
    # the partner's view names no customer
    shown = json.dumps(body_for(approved, "P-TT"))
    assert "E-1" not in shown and "affectedCustomers" not in shown and "CUT-TS2" in shown

    svc.rollback("CUT-TS2", actor="eng")
    assert network(store) == before


def test_leased_line_from_tietong_to_self_built(demo_store: GraphStore) -> None:
    store = demo_store
    self_built_beside_tietong(store)
    clock = Clock()
    svc = CutoverService(store, clock)
    before = network(store)
    plan = svc.plan_reroute(
        link="PL-1", window_start=WINDOW[0], window_end=WINDOW[1],
        reason="self-built NE-2—NE-Z in service", actor="eng", plan_id="CUT-PL1",
    )  # fmt: skip
    assert plan.move == MoveKind.PARTNER and plan.riders == ["CIR-1"]
    assert plan.partners == ["P-TT"]
    assert Impact.loads(plan.impact).partner_segments == ["PL-1"]
    done = _run(svc, clock, "CUT-PL1")
    assert done.state == PlanState.COMPLETED
    assert json.loads(done.verification)["ok"]
    assert route(store, "CIR-1") == [(1, "TS-1", [1, 2]), (2, "TS-2", [5, 6]), (3, "TS-4", [1, 2])]
    svc.rollback("CUT-PL1", actor="eng")
    assert network(store) == before


def test_reroute_refused_when_no_alternative_or_section_went_faulty(
    demo_store: GraphStore,
) -> None:
    store = demo_store
    clock = Clock()
    svc = CutoverService(store, clock)
    with pytest.raises(PlanInvalid, match="no route from NE-2 to NE-1 without TS-2"):
        svc.plan_reroute(
            link="TS-2", window_start=WINDOW[0], window_end=WINDOW[1], reason="x", actor="eng"
        )
    trunk_alternative(store)
    svc.plan_reroute(
        link="TS-2", circuits=["CIR-3"], window_start=WINDOW[0], window_end=WINDOW[1],
        reason="x", actor="eng", plan_id="CUT-X",
    )  # fmt: skip
    svc.approve("CUT-X", actor="lead")
    svc.schedule("CUT-X", actor="lead")
    store.set_status("TS-3", "faulty", actor="noc", reason="LOS")
    before = network(store)
    clock.now = WINDOW[0]
    with pytest.raises(AssumptionBroken) as err:
        svc.execute("CUT-X", actor="eng")
    assert err.value.reasons == ["target TS-3 is faulty"]
    assert network(store) == before and svc.get("CUT-X").state == PlanState.SCHEDULED
