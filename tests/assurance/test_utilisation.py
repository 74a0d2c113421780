"""Utilisation alarms on both stores: thresholds from configuration (per measure, per site),
raised and cleared through the alarm path with hysteresis, never setting anything faulty."""

from __future__ import annotations

from pboss.assurance.config import parse_config
from pboss.assurance.model import AlarmState, Severity
from pboss.assurance.record_events import ALARM_CLEARED, ALARM_CREATED
from pboss.assurance.service import AlarmFilter, AssuranceService
from pboss.assurance.utilisation import UtilisationSweep, readings
from pboss.inventory.model import PartnerAccess
from pboss.inventory.store import GraphStore
from tests.assurance.conftest import Clock

CONFIG = {
    "threshold": [
        # B-JZ's own splitter line goes first; elsewhere splitters alarm only when full
        {"measure": "splitter_fill", "site": "B-JZ", "raise_at": 0.5, "clear_at": 0.3,
         "severity": "minor"},
        {"measure": "splitter_fill", "raise_at": 1.0, "clear_at": 0.9},
        {"measure": "partner_pool", "raise_at": 0.4, "clear_at": 0.3, "severity": "major"},
        {"measure": "trunk_vc12", "raise_at": 0.9, "clear_at": 0.8},
        {"measure": "pon_split", "raise_at": 0.9, "clear_at": 0.8},
    ]
}  # fmt: skip


def _pool(store: GraphStore, used: int) -> None:
    pool = store.get("PA-DH-OC")
    assert isinstance(pool, PartnerAccess)
    store.upsert([pool.model_copy(update={"used": used})], actor="feed", reason="pool figures")


def test_readings_come_from_the_aggregate_views(demo_store: GraphStore) -> None:
    got = {(r.measure, r.resource): (r.used, r.capacity, r.site) for r in readings(demo_store)}
    assert got[("splitter_fill", "SPL-JZ-1")] == (2, 4, "B-JZ")
    assert got[("pon_split", "OLT-1/0/1")] == (3, 64, "EX-1")
    assert got[("partner_pool", "PA-DH-OC")] == (40, 100, "B-DH")
    assert got[("trunk_vc12", "TS-2")] == (6, 252, None)


def test_sweep_raises_keeps_and_clears_with_hysteresis(
    demo_store: GraphStore, clock: Clock
) -> None:
    svc = AssuranceService(demo_store, clock, config=parse_config(CONFIG, "test"))
    sweep = UtilisationSweep(svc)
    first = sweep.sweep()
    # SPL-JZ-1 is half used (B-JZ's line is 0.5); the pool is at 0.4; nothing else crosses
    assert sorted(first.raised) == ["PA-DH-OC", "SPL-JZ-1"] and not first.failed
    alarms = {a.resource: a for a in svc.alarms(AlarmFilter(origin="utilisation")).items}
    assert alarms["SPL-JZ-1"].severity == Severity.MINOR
    assert alarms["PA-DH-OC"].severity == Severity.MAJOR and alarms["PA-DH-OC"].partners == ["P-OC"]
    assert alarms["PA-DH-OC"].specific_problem == "partner_pool 40/100 (40%)"
    # capacity running out is no failure: nothing became faulty
    assert demo_store.get("SPL-JZ-1").status == "available"  # type: ignore[union-attr]
    assert demo_store.get("PA-DH-OC").status == "available"  # type: ignore[union-attr]
    assert alarms["PA-DH-OC"].previous_status is None
    # a second sweep with nothing changed changes nothing
    seq = demo_store.last_event_seq()
    again = sweep.sweep()
    assert (again.raised, again.updated, again.cleared) == ([], [], [])
    assert demo_store.last_event_seq() == seq
    # between the lines the alarm stays; below the clear line it clears
    _pool(demo_store, 35)
    assert sweep.sweep().cleared == []
    _pool(demo_store, 20)
    assert sweep.sweep().cleared == ["PA-DH-OC"]
    pool_alarm = svc.alarm(alarms["PA-DH-OC"].id)
    assert pool_alarm.state == AlarmState.CLEARED
    created = [e.subject for e in demo_store.events_after(0, types=[ALARM_CREATED])]
    cleared = [e.subject for e in demo_store.events_after(0, types=[ALARM_CLEARED])]
    assert pool_alarm.id in created and cleared == [pool_alarm.id]


def test_packaged_thresholds_raise_nothing_on_the_demo_network(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    report = UtilisationSweep(assurance).sweep()
    assert report.readings == 11 and report.raised == [] and not report.failed
    assert demo_store.counts().get("Alarm", 0) == 0
