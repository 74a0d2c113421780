"""Path choice and its explanation: preferences, exclusions, and races lost under lock."""

from __future__ import annotations

from datetime import timedelta

from pboss.inventory.store import GraphStore
from pboss.provisioning import steps
from pboss.provisioning.plan import Explanation
from pboss.provisioning.service import ProvisioningService
from tests.provisioning.conftest import add, ftth, leased


def _second_route(net: GraphStore) -> None:
    """A self-built STM-1 trunk TS-3 from NE-2 to NE-Z, parallel to Tietong's PL-1."""
    add(
        net,
        [
            {"kind": "Port", "id": "NE-2/STM1-2", "site": "EX-2", "spec": "PORT-STM1"},
            {"kind": "Port", "id": "NE-Z/STM1-2", "site": "B-DH", "spec": "PORT-STM1"},
            {"kind": "TrunkSection", "id": "TS-3", "spec": "TRUNK-STM1"},
        ],
        [
            {"type": "PART_OF", "src": "NE-2/STM1-2", "dst": "NE-2"},
            {"type": "PART_OF", "src": "NE-Z/STM1-2", "dst": "NE-Z"},
            {"type": "TERMINATES", "src": "TS-3", "dst": "NE-2/STM1-2"},
            {"type": "TERMINATES", "src": "TS-3", "dst": "NE-Z/STM1-2"},
        ],
    )


def test_leased_line_prefers_self_built_and_explains_why_the_partner_route_lost(
    svc: ProvisioningService, net: GraphStore
) -> None:
    _second_route(net)
    order = svc.submit_order(leased("P1"))
    plan = svc.plan(order)
    assert [c.label for c in plan.candidates] == [
        "NE-A -> TS-1 -> NE-1 -> TS-2 -> NE-2 -> TS-3 -> NE-Z",
        "NE-A -> TS-1 -> NE-1 -> TS-2 -> NE-2 -> PL-1 -> NE-Z",
    ]
    res = svc.reserve(order.id)
    why = Explanation.loads(res.explanation)
    assert why is not None and why.chosen == plan.candidates[0].label
    [alt] = why.alternatives
    assert alt.why_lost == "higher weight 8.17 vs 6.11: 1 vs 0 partner segments, cost 5.0 vs 3.0"


def test_a_link_in_maintenance_is_excluded_with_its_reason(
    svc: ProvisioningService, net: GraphStore
) -> None:
    _second_route(net)
    net.set_status("TS-3", "maintenance", actor="test", reason="fibre works")
    plan = svc.plan(svc.submit_order(leased("P2")))
    assert plan.candidates[0].label.endswith("PL-1 -> NE-Z")
    assert "TS-3: TrunkSection TS-3 is maintenance" in plan.reasons


def test_ftth_prefers_the_least_loaded_pon_port(svc: ProvisioningService, net: GraphStore) -> None:
    add(
        net,
        [
            {"kind": "Splitter", "id": "SPL-JZ-3", "site": "B-JZ", "stage": 1, "spec": "SPL-1x4"},
            {"kind": "SplitterPort", "id": "SPL-JZ-3:1", "site": "B-JZ", "index": 1},
            {"kind": "Splitter", "id": "SPL-JZ-3A", "site": "B-JZ", "stage": 2, "spec": "SPL-1x8"},
            {"kind": "SplitterPort", "id": "SPL-JZ-3A:1", "site": "B-JZ", "index": 1},
        ],
        [
            {"type": "FED_BY", "src": "SPL-JZ-3", "dst": "OLT-1/0/2"},
            {"type": "PART_OF", "src": "SPL-JZ-3:1", "dst": "SPL-JZ-3"},
            {"type": "FED_BY", "src": "SPL-JZ-3A", "dst": "SPL-JZ-3:1"},
            {"type": "PART_OF", "src": "SPL-JZ-3A:1", "dst": "SPL-JZ-3A"},
        ],
    )
    res = svc.reserve(svc.submit_order(ftth("P3")).id)
    assert res.resources == ["SPL-JZ-3A:1"]
    why = Explanation.loads(res.explanation)
    assert why is not None
    lost = {a.label: a.why_lost for a in why.alternatives}
    assert lost["SPL-JZ-2A"] == (
        "its PON port OLT-1/0/1 is more loaded (3/64 vs 0/64 on OLT-1/0/2)"
    )
    assert "SPL-JZ-1" not in lost and "SPL-JZ-3" not in lost  # stage 1: not for sale
    excluded = {e.id: e.reason for e in why.excluded}
    assert excluded["SPL-JZ-1"].startswith("a stage-1 splitter (its outputs feed second-stage")


def test_a_candidate_taken_after_ranking_is_skipped_under_lock_and_explained(
    svc: ProvisioningService, net: GraphStore, clock
) -> None:
    order = svc.submit_order(ftth("P4"))
    stale = svc.plan(order)  # SPL-JZ-2A ranked first
    taken = ["SPL-JZ-2A:" + str(i) for i in range(3, 9)]
    add(
        net,
        [{"kind": "ONT", "id": f"ONT-{p}", "site": "B-JZ"} for p in taken],
        [{"type": "FED_BY", "src": f"ONT-{p}", "dst": p} for p in taken],
    )
    now = clock()
    out = svc.store.transact(
        lambda tx: steps.hold(
            tx,
            order_id=order.id,
            plan=stale,
            now=now,
            valid_until=now + timedelta(minutes=30),
            catalog=svc.catalog,
        ),
        actor="test",
        reason="hold",
    )
    assert out.value.resources == ["SPL-JZ-2B:2"]
    why = Explanation.loads(out.value.explanation)
    assert why is not None and why.chosen == "SPL-JZ-2B"
    assert why.alternatives[0].label == "SPL-JZ-2A"
    assert "concurrent reservation" in why.alternatives[0].why_lost
    tried = ", ".join(stale.candidates[0].claims[0].options)  # the first few free outputs
    assert why.lost_races == [f"SPL-JZ-2A: access port(s) {tried} no longer free"]
