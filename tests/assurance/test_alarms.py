"""Alarms on both stores: raise/clear, dedup, severity changes, faulty and its restore by the
configured rules, clears with no raise, stale operations, typed refusals writing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pboss.assurance.alarms import AlarmOp
from pboss.assurance.config import parse_config
from pboss.assurance.model import Alarm, AlarmState, AlarmType, Severity
from pboss.assurance.record_events import (
    ALARM_CHANGED,
    ALARM_CLEARED,
    ALARM_CREATED,
    ALARM_EVENT_TYPES,
)
from pboss.assurance.service import AlarmFilter, AssuranceService
from pboss.assurance.tallies import path_up
from pboss.inventory.demo import demo_network
from pboss.inventory.errors import NotFound, ValidationFailed
from pboss.inventory.store import GraphStore
from tests.assurance.conftest import T0, Clock

LOS = AlarmType.COMMUNICATIONS


def op(action: str, resource: str = "OLT-1/0/1", minutes: int = 0, **kw: object) -> AlarmOp:
    """An alarm operation at T0 + minutes (loss of signal unless told)."""
    kw.setdefault("alarm_type", LOS)
    kw.setdefault("probable_cause", "lossOfSignal")
    return AlarmOp(action, resource, at=T0 + timedelta(minutes=minutes), **kw)  # type: ignore[arg-type]


def _types(store: GraphStore) -> list[str]:
    """The alarm events in the log, oldest first (incidents' own events are left out)."""
    return [e.type for e in store.events_after(0, types=list(ALARM_EVENT_TYPES))]


def test_critical_raise_sets_faulty_and_the_clear_restores(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    raised = assurance.apply_alarm(op("raise", severity=Severity.CRITICAL), actor="nms")
    a = raised.alarm
    assert raised.outcome == "raised" and a.previous_status == "available"
    assert demo_store.get("OLT-1/0/1").status == "faulty"  # type: ignore[union-attr]
    assert a.sites == ["EX-1"] and a.partners == []
    assert {el.id for _, el in demo_store.neighbours(a.id, "out", ["ON"])} == {"OLT-1/0/1"}
    # the resource's own history records the change, by the alarm source
    [change] = [h for h in demo_store.history("OLT-1/0/1") if h.change == "status"]
    assert (change.from_status, change.to_status, change.actor) == ("available", "faulty", "nms")
    assert change.reason == "alarm raise OLT-1/0/1 lossOfSignal"
    # the riders see it: every FTTH service under the port is now down
    riders = demo_store.riders(["OLT-1/0/1"])
    assert riders.items and {r.health for r in riders.items} == {"down"}
    cleared = assurance.apply_alarm(op("clear", minutes=30), actor="nms")
    assert cleared.outcome == "cleared" and cleared.alarm.state == AlarmState.CLEARED
    assert cleared.alarm.cleared_at == T0 + timedelta(minutes=30)
    assert demo_store.get("OLT-1/0/1").status == "available"  # type: ignore[union-attr]
    assert _types(demo_store) == [ALARM_CREATED, ALARM_CLEARED]
    [created] = demo_store.events_after(0, types=[ALARM_CREATED])
    body = created.body["event"]["alarm"]
    assert (body["alarmedObject"], body["perceivedSeverity"], body["serviceAffecting"]) == (
        "OLT-1/0/1", "critical", True,
    )  # fmt: skip


def test_repeat_raise_changes_nothing_and_severity_change_is_recorded(
    assurance: AssuranceService, demo_store: GraphStore, clock: Clock
) -> None:
    first = assurance.apply_alarm(op("raise", "ONT-1", severity=Severity.MAJOR), actor="nms")
    assert demo_store.get("ONT-1").status == "in_use"  # type: ignore[union-attr]  # major: no
    seq, stored = demo_store.last_event_seq(), demo_store.get(first.alarm.id)
    again = assurance.apply_alarm(op("raise", "ONT-1", 1, severity=Severity.MAJOR), actor="nms")
    assert again.outcome == "unchanged" and demo_store.get(first.alarm.id) == stored
    assert demo_store.last_event_seq() == seq
    clock.advance(minutes=2)
    up = assurance.apply_alarm(op("raise", "ONT-1", 2, severity=Severity.CRITICAL), actor="nms")
    assert up.outcome == "updated" and up.alarm.severity == Severity.CRITICAL
    assert up.alarm.previous_status == "in_use"
    assert demo_store.get("ONT-1").status == "faulty"  # type: ignore[union-attr]
    assert _types(demo_store)[-1] == ALARM_CHANGED
    assert [e.event for e in up.alarm.entries()] == ["raised", "severity"]
    assert assurance.alarms(AlarmFilter(min_severity="critical")).total == 1
    assurance.apply_alarm(op("clear", "ONT-1", 5), actor="nms")
    assert demo_store.get("ONT-1").status == "in_use"  # type: ignore[union-attr]


def test_source_alarm_ids_dedup_and_derived_ids_are_stable(assurance: AssuranceService) -> None:
    a = assurance.apply_alarm(
        op("raise", "TS-1", source_alarm_id="NMS-77", severity=Severity.MINOR), actor="nms"
    )
    b = assurance.apply_alarm(op("raise", "TS-1", severity=Severity.MINOR), actor="nms")
    assert a.alarm.id != b.alarm.id  # one with the source's id, one derived
    again = assurance.apply_alarm(
        op("raise", "TS-1", 3, source_alarm_id="NMS-77", severity=Severity.MINOR), actor="nms"
    )
    assert again.outcome == "unchanged" and again.alarm.id == a.alarm.id
    assert assurance.alarms(AlarmFilter(resource="TS-1")).total == 2


def test_clear_without_raise_is_recorded_and_ignored(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    r = assurance.apply_alarm(op("clear", "ONT-2"), actor="nms")
    assert r.outcome == "ignored" and r.alarm.state == AlarmState.CLEARED
    assert [e.event for e in r.alarm.entries()] == ["clear_without_raise"]
    assert demo_store.get("ONT-2").status == "in_use"  # type: ignore[union-attr]
    assert demo_store.last_event_seq() == 0  # no event for what changed nothing
    assert isinstance(demo_store.get(r.alarm.id), Alarm)
    # a later clear is a repeat; a raise older than the recorded clear is stale
    assert assurance.apply_alarm(op("clear", "ONT-2", 1), actor="nms").outcome == "unchanged"
    stale = assurance.apply_alarm(op("raise", "ONT-2", -5, severity="critical"), actor="nms")
    assert stale.outcome == "stale"
    assert demo_store.get("ONT-2").status == "in_use"  # type: ignore[union-attr]
    fresh = assurance.apply_alarm(op("raise", "ONT-2", 10, severity="critical"), actor="nms")
    assert fresh.outcome == "raised"
    assert demo_store.get("ONT-2").status == "faulty"  # type: ignore[union-attr]


def test_a_person_changing_the_status_meanwhile_wins(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    assurance.apply_alarm(op("raise", "ONT-3", severity="critical"), actor="nms")
    demo_store.set_status("ONT-3", "maintenance", actor="eng", reason="replacing")
    r = assurance.apply_alarm(op("clear", "ONT-3", 20), actor="nms")
    assert r.outcome == "cleared" and "not restored" in r.alarm.entries()[-1].note
    assert demo_store.get("ONT-3").status == "maintenance"  # type: ignore[union-attr]


def test_a_second_alarm_keeps_the_resource_faulty_until_it_clears(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    assurance.apply_alarm(op("raise", "OLT-1", severity="critical"), actor="nms")
    power = op("raise", "OLT-1", 1, alarm_type=AlarmType.EQUIPMENT,
               probable_cause="powerProblem", severity="critical")  # fmt: skip
    assurance.apply_alarm(power, actor="nms")
    assurance.apply_alarm(op("clear", "OLT-1", 5), actor="nms")
    assert demo_store.get("OLT-1").status == "faulty"  # type: ignore[union-attr]
    clear_power = op("clear", "OLT-1", 9, alarm_type=AlarmType.EQUIPMENT,
                     probable_cause="powerProblem")  # fmt: skip
    assurance.apply_alarm(clear_power, actor="nms")
    assert demo_store.get("OLT-1").status == "available"  # type: ignore[union-attr]


def test_rules_are_configuration(demo_store: GraphStore, clock: Clock) -> None:
    cfg = parse_config(
        {
            "alarm_rule": [
                {"id": "los-major", "probable_cause": "lossOfSignal", "min_severity": "major"},
                {"id": "none", "faulty": False},
            ]
        },
        "test",
    )
    svc = AssuranceService(demo_store, clock, config=cfg)
    svc.apply_alarm(op("raise", "ONT-4", severity="major"), actor="nms")
    assert demo_store.get("ONT-4").status == "faulty"  # type: ignore[union-attr]
    other = op("raise", "ONT-5", probable_cause="dyingGasp", severity="critical")
    svc.apply_alarm(other, actor="nms")
    assert demo_store.get("ONT-5").status == "in_use"  # type: ignore[union-attr]
    # the packaged rules: environmental alarms never set faulty
    env = op("raise", "NE-1", alarm_type=AlarmType.ENVIRONMENTAL, probable_cause="highTemp",
             severity="critical")  # fmt: skip
    AssuranceService(demo_store, clock).apply_alarm(env, actor="nms")
    assert demo_store.get("NE-1").status == "in_use"  # type: ignore[union-attr]
    with pytest.raises(ValidationFailed) as bad:
        parse_config({"alarm_rule": [{"alarm_type": "nope", "min_severity": "huge"}]}, "f.toml")
    assert len(bad.value.issues) == 2 and bad.value.issues[0].item == "f.toml"


def test_a_planned_resource_is_not_moved_but_the_alarm_is_kept(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    demo_store.set_status("TS-2", "retired", actor="eng", reason="gone")
    r = assurance.apply_alarm(op("raise", "TS-2", severity="critical"), actor="nms")
    assert r.outcome == "raised" and r.alarm.previous_status is None
    assert r.alarm.entries()[-1].event == "status_kept"
    assert demo_store.get("TS-2").status == "retired"  # type: ignore[union-attr]


def test_alarm_on_a_partner_link_is_scoped_to_the_partner(assurance: AssuranceService) -> None:
    r = assurance.apply_alarm(op("raise", "PL-1", severity="critical"), actor="nms")
    assert r.alarm.partners == ["P-TT"]
    assert [a.id for a in assurance.alarms(AlarmFilter(partner="P-TT")).items] == [r.alarm.id]


def test_unknown_or_wrong_resources_are_refused_and_write_nothing(
    assurance: AssuranceService, demo_store: GraphStore
) -> None:
    before = (demo_store.counts().get("Alarm", 0), demo_store.last_event_seq())
    with pytest.raises(NotFound):
        assurance.apply_alarm(op("raise", "OLT-404", severity="critical"), actor="nms")
    with pytest.raises(NotFound):
        assurance.apply_alarm(op("clear", "OLT-404"), actor="nms")
    with pytest.raises(ValidationFailed):
        assurance.apply_alarm(op("raise", "H-1", severity="critical"), actor="nms")
    assert (demo_store.counts().get("Alarm", 0), demo_store.last_event_seq()) == before
    # in a batch, a refused operation writes nothing and does not stop the good ones
    good, bad = assurance.apply_alarms(
        [op("raise", "ONT-1", severity="critical"), op("raise", "NOPE", severity="minor")],
        actor="nms",
    )
    assert isinstance(bad, NotFound) and bad.element_id == "NOPE"
    assert not isinstance(good, Exception) and good.outcome == "raised"
    assert demo_store.get("ONT-1").status == "faulty"  # type: ignore[union-attr]
    assert demo_store.counts().get("Alarm", 0) == before[0] + 1


@pytest.mark.neo4j
def test_an_alarms_path_is_read_one_statement_per_level_and_edge_type(
    neo4j_store_session: Any,
) -> None:
    """A circuit's path fans out (sections, ends, their NEs): walking it reads each level's
    nodes together, one statement per edge type, never one per node."""
    store = neo4j_store_session
    store.clear()
    store.upsert(*demo_network(), actor="t", reason="demo")
    names: list[str] = []
    store.client.on_query = lambda name, _seconds: names.append(name)
    try:
        path = store.transact(lambda tx: path_up(tx, "CIR-1"), actor="t", reason="walk")
    finally:
        store.client.on_query = None
    assert len(path) == 14 and path[:5] == ["CIR-1", "NE-A/E1-1", "PL-1", "TS-1", "TS-2"]
    assert [n for n in names if n.startswith("tx.")] == ["tx.peek"] + ["tx.linked"] * 6
    store.clear()
