"""Re-home the eight ONTs of a full 1:8 splitter onto a new 1:16 splitter, on both stores: impact
before, holds seen by availability, approval events, execution with re-checks, verification,
rollback to an identical graph; refusals when assumptions broke, writing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pboss.cutover.errors import AssumptionBroken, InvalidTransition, PlanInvalid
from pboss.cutover.impact import Impact
from pboss.cutover.model import PlanState
from pboss.cutover.service import CutoverService
from pboss.inventory.store import GraphStore
from tests.cutover.network import WINDOW, Clock, fed_by, full_splitter, last_seq, network

ONTS = ["ONT-1", "ONT-2", *(f"ONT-JZ-{i}" for i in range(3, 9))]


@pytest.fixture
def setup(demo_store: GraphStore) -> tuple[GraphStore, CutoverService, Clock]:
    full_splitter(demo_store)
    clock = Clock()
    return demo_store, CutoverService(demo_store, clock), clock


def _plan(svc: CutoverService, **kw: object) -> object:
    return svc.plan_rehome(
        source="SPL-JZ-2A",
        target="SPL-JZ-3",
        window_start=WINDOW[0],
        window_end=WINDOW[1],
        reason="SPL-JZ-2A is full; move the estate to the new 1:16",
        actor="eng-1",
        plan_id="CUT-1",
        **kw,
    )


def test_rehome_full_splitter_impact_events_execute_verify_rollback(setup: tuple) -> None:
    store, svc, clock = setup
    before = network(store)
    last = last_seq(store)
    plan = _plan(svc)
    assert plan.state == PlanState.DRAFT
    steps = plan.step_list()
    assert [(s.rider, s.dst, s.new_dst) for s in steps] == [
        (o, f"SPL-JZ-2A:{i}", f"SPL-JZ-3:{i}") for i, o in enumerate(ONTS, start=1)
    ]
    impact = Impact.loads(plan.impact)
    assert len(impact.services) == 9 and impact.customers == 3
    assert impact.by_product == {"FTTH-1000M": 1, "FTTH-100M": 7, "IPTV": 1}
    assert impact.gold_customers == ["H-2"]
    assert all(s.outage_minutes == 10 for s in impact.services)
    # the holds are seen by availability like a reservation's
    view = next(s for s in store.site_view("B-JZ").splitters if s.splitter.id == "SPL-JZ-3")
    assert view.free_ports == [f"SPL-JZ-3:{i}" for i in range(9, 17)]

    svc.approve("CUT-1", actor="lead")
    events = store.events_after(last, types=["CutoverPlanApprovedEvent"])
    assert len(events) == 1
    body = events[0].body["event"]["cutoverPlan"]
    assert [c["id"] for c in body["affectedCustomers"]] == ["H-1", "H-2", "H-3"]
    assert body["windowStart"] == WINDOW[0].isoformat()
    assert events[0].sites == ["B-JZ"]
    with pytest.raises(InvalidTransition):
        svc.execute("CUT-1", actor="eng-1")  # approved, not scheduled
    svc.schedule("CUT-1", actor="lead")
    with pytest.raises(InvalidTransition, match="window"):
        svc.execute("CUT-1", actor="eng-1")  # before the window
    clock.now = WINDOW[0] + timedelta(minutes=5)
    done = svc.execute("CUT-1", actor="eng-1")
    assert done.state == PlanState.COMPLETED
    report = json.loads(done.verification)
    assert report["ok"], report
    assert report["services"] == 9 == report["planned"]
    assert [fed_by(store, o) for o in ONTS] == [f"SPL-JZ-3:{i}" for i in range(1, 9)]
    assert [(e.type, e.src, e.dst) for e in done.recorded("before")] == [
        ("FED_BY", o, f"SPL-JZ-2A:{i}") for i, o in enumerate(ONTS, start=1)
    ]
    assert not list(e for e in store.scan_edges("HOLDS") if e[0] == "CUT-1")
    assert [e.type for e in store.events_after(last)] == [
        "CutoverPlanApprovedEvent",
        "CutoverPlanScheduledEvent",
        "CutoverPlanCompletedEvent",
    ]

    back = svc.rollback("CUT-1", actor="eng-1", note="customer complaints")
    assert back.state == PlanState.ROLLED_BACK
    assert network(store) == before
    assert [h.event for h in back.entries()] == [
        "planned", "approved", "scheduled", "started", "completed", "rolledBack",
    ]  # fmt: skip
    assert store.events_after(last)[-1].type == "CutoverPlanRolledBackEvent"


def test_mapping_and_refusals_write_nothing(setup: tuple) -> None:
    store, svc, _ = setup
    before = network(store)
    with pytest.raises(PlanInvalid) as err:
        _plan(svc, mapping={"ONT-1": "SPL-JZ-3:1", "ONT-3": "SPL-JZ-3:1", "ONT-2": "SPL-JZ-2B:2"})
    assert err.value.reasons == [
        "ONT-3 is not fed by an output of SPL-JZ-2A",
        "SPL-JZ-3:1 is mapped twice (ONT-1 and ONT-3)",
        "SPL-JZ-2B:2 is not an output of SPL-JZ-3",
    ]
    assert network(store) == before and store.get("CUT-1") is None
    plan = _plan(svc, mapping={"ONT-1": "SPL-JZ-3:16", "ONT-2": "SPL-JZ-3:15"})
    assert [(s.rider, s.new_dst) for s in plan.step_list()] == [
        ("ONT-1", "SPL-JZ-3:16"),
        ("ONT-2", "SPL-JZ-3:15"),
    ]
    # a second plan cannot take what the first holds
    with pytest.raises(PlanInvalid, match="taken"):
        svc.plan_rehome(
            source="SPL-JZ-2B", target="SPL-JZ-3", mapping={"ONT-3": "SPL-JZ-3:16"},
            window_start=WINDOW[0], window_end=WINDOW[1], reason="x", actor="eng-2",
        )  # fmt: skip
    svc.cancel("CUT-1", actor="lead", note="estate postponed")
    assert not [e for e in store.scan_edges("HOLDS") if e[0] == "CUT-1"]
    assert network(store) == before


def test_execute_refused_when_a_target_went_faulty_or_was_sold(setup: tuple) -> None:
    store, svc, clock = setup
    _plan(svc)
    svc.approve("CUT-1", actor="lead")
    svc.schedule("CUT-1", actor="lead")
    store.set_status("SPL-JZ-3:2", "faulty", actor="noc", reason="broken connector")
    # an admin removes one hold and re-homes another ONT onto that output ("sold")
    store.change_edges(removals=[("HOLDS", "CUT-1", "SPL-JZ-3:3")], actor="adm", reason="x")
    from pboss.inventory.edges import EdgeMove

    store.change_edges(
        moves=[EdgeMove("FED_BY", "ONT-3", "SPL-JZ-2B:1", new_dst="SPL-JZ-3:3")],
        actor="adm",
        reason="urgent repair",
    )
    before = network(store)
    clock.now = WINDOW[0]
    with pytest.raises(AssumptionBroken) as err:
        svc.execute("CUT-1", actor="eng-1")
    assert "target SPL-JZ-3:2 is faulty" in err.value.reasons
    assert "the plan no longer holds SPL-JZ-3:3" in err.value.reasons
    assert "target SPL-JZ-3:3 is taken (FED_BY from ONT-3)" in err.value.reasons
    assert network(store) == before
    assert svc.get("CUT-1").state == PlanState.SCHEDULED


def test_a_whole_pon_port_tree_moves_to_a_free_pon_port(setup: tuple) -> None:
    store, svc, clock = setup
    before = network(store)
    plan = svc.plan_rehome(
        source="OLT-1/0/1", target="OLT-1/0/2", window_start=WINDOW[0], window_end=WINDOW[1],
        reason="PON optics swap", actor="eng", plan_id="CUT-PON",
    )  # fmt: skip
    assert [(s.rider, s.dst, s.new_dst) for s in plan.step_list()] == [
        ("SPL-JZ-1", "OLT-1/0/1", "OLT-1/0/2")
    ]
    assert len(Impact.loads(plan.impact).services) == 11  # everything under SPL-JZ-1
    assert plan.sites == ["B-JZ", "EX-1"]
    with pytest.raises(PlanInvalid, match="OLT-1/0/2 has 0 free outputs"):
        svc.plan_rehome(
            source="OLT-2/0/1", target="OLT-1/0/2", window_start=WINDOW[0],
            window_end=WINDOW[1], reason="x", actor="eng",
        )  # fmt: skip
    svc.approve("CUT-PON", actor="lead")
    svc.schedule("CUT-PON", actor="lead")
    clock.now = WINDOW[0]
    done = svc.execute("CUT-PON", actor="eng")
    assert json.loads(done.verification)["ok"], done.verification
    assert fed_by(store, "ONT-1") == "SPL-JZ-2A:1"
    assert store.trace("SVC-H1-BB").hops[-2].element.id == "OLT-1/0/2"
    svc.rollback("CUT-PON", actor="eng")
    assert network(store) == before


def test_holds_lapse_with_the_window(setup: tuple) -> None:
    store, svc, clock = setup
    _plan(svc)
    svc.approve("CUT-1", actor="lead")
    clock.now = WINDOW[1] - timedelta(minutes=1)
    assert svc.expire_lapsed() == []
    clock.now = WINDOW[1]
    lapsed = svc.expire_lapsed()
    assert [(p.id, p.state) for p in lapsed] == [("CUT-1", PlanState.CANCELLED)]
    assert not [e for e in store.scan_edges("HOLDS") if e[0] == "CUT-1"]
    assert svc.expire_lapsed() == []


def test_rollback_refused_when_a_freed_output_was_sold_since(setup: tuple) -> None:
    store, svc, clock = setup
    _plan(svc, mapping={"ONT-1": "SPL-JZ-3:1"})
    svc.approve("CUT-1", actor="lead")
    svc.schedule("CUT-1", actor="lead")
    clock.now = WINDOW[0]
    svc.execute("CUT-1", actor="eng")
    from pboss.inventory.edges import EdgeMove

    store.change_edges(
        moves=[EdgeMove("FED_BY", "ONT-3", "SPL-JZ-2B:1", new_dst="SPL-JZ-2A:1")],
        actor="adm",
        reason="new household on the freed output",
    )
    before = network(store)
    with pytest.raises(AssumptionBroken) as err:
        svc.rollback("CUT-1", actor="eng")
    assert err.value.reasons == ["SPL-JZ-2A:1 was taken since (ONT-3)"]
    assert network(store) == before and svc.get("CUT-1").state == PlanState.COMPLETED
