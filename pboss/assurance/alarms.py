"""Alarms (TMF642): raise and clear on a resource, deduplicated by the alarm's stable id, and the
resource's `faulty` status they set and restore.

One unit of work per operation: lock the alarm id and the resource (in sorted-id order), read the
resource's other alarms when clearing, then write the alarm (a raise or clear that changes it is
marked `correlate_due`: the batch correlator of `pending.py` adds or takes away its evidence soon
after, so the ingest never waits on an incident's lock), its ON edge, the resource's status and
the event together. What each case does:

- a first raise records the alarm; when the configuration (`config.AssuranceConfig.sets_faulty`:
  `[[alarm_rule]]` per alarm type and probable cause, with a minimum severity) says so and the
  lifecycle table allows it, the resource becomes `faulty`, its status before kept in the alarm's
  `previous_status`;
- a repeat raise with the same severity changes nothing; another severity is recorded (history,
  AlarmAttributeValueChangeEvent), and may set the resource faulty then;
- a raise older than the alarm's last clear is stale and only entered in its history;
- a clear restores `previous_status` if the resource is still `faulty` (a person or another
  process who changed it meanwhile wins) and no other raised alarm holds it faulty (that alarm
  then keeps the status to restore); a repeat clear changes nothing; a clear with no raise is
  recorded as a cleared alarm and otherwise ignored (no status, no event, no correlation).

Impact acknowledgement: `faulty` is not in `impact.NEEDS_ACK`, and these writes go through
`GraphStore.transact`, which asks for none: an alarm reports a failure that has already
happened (the riders are down whatever pboss records), so it is the network's truth, never
refused for want of a person's acknowledgement. Restoring to `maintenance` (a status that does
need acknowledgement when a person sets it) is likewise not refused: it puts back what a person
already acknowledged. The lifecycle table still applies: a planned or retired resource is not
moved (the alarm says so in its history).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pboss.assurance.config import AssuranceConfig
from pboss.assurance.model import (
    RESOURCE_KINDS,
    Alarm,
    AlarmState,
    AlarmType,
    Entry,
    Incident,
    Severity,
    alarm_id,
)
from pboss.assurance.record_events import (
    ALARM_CHANGED,
    ALARM_CLEARED,
    ALARM_CREATED,
    alarm_event,
)
from pboss.assurance.seam import Correlator
from pboss.inventory.errors import Issue, NotFound, ValidationFailed
from pboss.inventory.lifecycle import Status, allowed
from pboss.inventory.model import SELF, Edge, Element
from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import GraphTx

Action = Literal["raise", "clear"]
Outcome = Literal["raised", "updated", "unchanged", "cleared", "ignored", "stale"]


@dataclass(frozen=True, slots=True)
class AlarmOp:
    """One alarm operation as a source sends it."""

    action: Action
    resource: str
    alarm_type: AlarmType
    probable_cause: str
    at: datetime
    severity: Severity = Severity.MAJOR
    source_alarm_id: str | None = None
    specific_problem: str = ""
    origin: Literal["network", "utilisation"] = "network"

    @property
    def id(self) -> str:
        """The alarm's stable id (`model.alarm_id`)."""
        return alarm_id(self.resource, self.alarm_type, self.probable_cause, self.source_alarm_id)


@dataclass(frozen=True, slots=True)
class AlarmResult:
    """What one operation did, the alarm as it now is and the incident it is in, if any."""

    outcome: Outcome
    alarm: Alarm
    incident: Incident | None = None


def _entry(now: datetime, event: str, actor: str, note: str = "", state: str | None = None) -> str:
    return Entry(at=now, event=event, state=state, actor=actor, note=note).dumps()


def _resource(locked: dict[str, Element], op: AlarmOp) -> Element:
    """The locked resource, a copy to change (the store keeps what it read as read)."""
    el = locked.get(op.resource)
    if el is None:
        raise NotFound(op.resource, "resource")
    if el.kind not in RESOURCE_KINDS:
        why = f"alarms are raised on network resources, not {el.kind}"
        raise ValidationFailed([Issue(op.resource, why, "resource")])
    return el.model_copy(deep=True)


def _alarm(locked: dict[str, Element], op: AlarmOp) -> Alarm | None:
    """The locked alarm, a copy to change, or None when there is none yet."""
    found = locked.get(op.id)
    if found is not None and not isinstance(found, Alarm):
        raise ValidationFailed([Issue(op.id, "the id belongs to another kind", "id")])
    return found.model_copy(deep=True) if found is not None else None


def _new_alarm(op: AlarmOp, res: Element, now: datetime, actor: str) -> Alarm:
    return Alarm(
        id=op.id,
        source_alarm_id=op.source_alarm_id,
        resource=res.id,
        alarm_type=op.alarm_type,
        probable_cause=op.probable_cause,
        specific_problem=op.specific_problem,
        severity=op.severity,
        raised_at=op.at,
        origin=op.origin,
        sites=[res.site] if res.site else [],
        partners=[res.owner] if res.owner != SELF else [],
        history=[],
    )


def _set_faulty(
    alarm: Alarm, res: Element, cfg: AssuranceConfig, now: datetime, actor: str
) -> Element | None:
    """Move the resource to faulty for this alarm when the rules say so; the changed resource,
    or None (the alarm's history says why when the lifecycle refused)."""
    if alarm.origin == "utilisation":
        return None  # capacity running out is no failure
    if not cfg.sets_faulty(alarm.alarm_type, alarm.probable_cause, alarm.severity):
        return None
    status = str(res.status)
    if status == Status.FAULTY:
        return None  # already down (by another alarm or a person): that one restores it
    if not allowed(status, Status.FAULTY):
        alarm.history.append(_entry(now, "status_kept", actor, f"{res.id} is {status}"))
        return None
    alarm.previous_status = status
    res.status = Status.FAULTY  # type: ignore[assignment]
    return res


def raise_alarm(
    tx: GraphTx,
    op: AlarmOp,
    *,
    now: datetime,
    actor: str,
    config: AssuranceConfig,
    correlator: Correlator,
) -> AlarmResult:
    """The unit of work of one raise (see the module docstring)."""
    locked = tx.lock([op.id, op.resource])
    res = _resource(locked, op)
    alarm = _alarm(locked, op)
    if alarm is not None and alarm.resource != res.id:
        raise ValidationFailed(
            [Issue(op.id, f"source alarm id is already used on {alarm.resource}", "resource")]
        )
    if alarm is None:
        alarm = _new_alarm(op, res, now, actor)
        alarm.history.append(_entry(now, "raised", actor, str(op.severity), AlarmState.RAISED))
        changed = _set_faulty(alarm, res, config, now, actor)
        incident = _write(tx, alarm, changed, ALARM_CREATED, now, correlator, new=True)
        return AlarmResult("raised", alarm, incident)
    if alarm.state == AlarmState.CLEARED:
        if alarm.cleared_at is not None and utc(op.at) <= utc(alarm.cleared_at):
            alarm.history.append(_entry(now, "stale_raise", actor, utc(op.at).isoformat()))
            tx.put(alarm)
            return AlarmResult("stale", alarm)
        alarm.state = AlarmState.RAISED
        alarm.raised_at = op.at
        alarm.cleared_at = None
        alarm.severity = op.severity
        alarm.previous_status = None
        alarm.history.append(_entry(now, "raised", actor, str(op.severity), AlarmState.RAISED))
        changed = _set_faulty(alarm, res, config, now, actor)
        incident = _write(tx, alarm, changed, ALARM_CREATED, now, correlator)
        return AlarmResult("raised", alarm, incident)
    if alarm.severity == op.severity:
        return AlarmResult("unchanged", alarm, _incident(tx, alarm))
    before = alarm.severity
    alarm.severity = op.severity
    alarm.history.append(_entry(now, "severity", actor, f"{before} -> {op.severity}"))
    changed = None if alarm.previous_status else _set_faulty(alarm, res, config, now, actor)
    incident = _write(tx, alarm, changed, ALARM_CHANGED, now, correlator)
    return AlarmResult("updated", alarm, incident)


def _write(
    tx: GraphTx,
    alarm: Alarm,
    changed: Element | None,
    event_type: str,
    now: datetime,
    correlator: Correlator,
    *,
    new: bool = False,
) -> Incident | None:
    """Write a raised or changed alarm (queued for correlation; a new one `ON` its resource),
    the resource it set faulty if any, and its event; the incident it is in so far."""
    incident = _queue(tx, alarm, now, correlator)
    tx.put(alarm, new=new)
    if new:
        tx.link(Edge(type="ON", src=alarm.id, dst=alarm.resource))
    if changed is not None:
        tx.put(changed)
    tx.emit(alarm_event(alarm, event_type, now))
    return incident


def _incident(tx: GraphTx, alarm: Alarm) -> Incident | None:
    """The incident the alarm is in, read without a lock (correlation may be writing it)."""
    if not alarm.incident:
        return None
    found = tx.peek([alarm.incident]).get(alarm.incident)
    return found if isinstance(found, Incident) else None


def _queue(tx: GraphTx, alarm: Alarm, now: datetime, correlator: Correlator) -> Incident | None:
    """Mark the changed alarm for the batch correlator; the incident it is in so far."""
    if correlator.live:
        alarm.correlate_due = now
    return _incident(tx, alarm)


def clear_alarm(
    tx: GraphTx,
    op: AlarmOp,
    *,
    now: datetime,
    actor: str,
    config: AssuranceConfig,
    correlator: Correlator,
) -> AlarmResult:
    """The unit of work of one clear (see the module docstring)."""
    locked = tx.lock([op.id, op.resource])
    res = _resource(locked, op)
    alarm = _alarm(locked, op)
    if alarm is None:
        alarm = _new_alarm(op, res, now, actor)
        alarm.state = AlarmState.CLEARED
        alarm.cleared_at = op.at
        alarm.history.append(
            _entry(now, "clear_without_raise", actor, "recorded and ignored", AlarmState.CLEARED)
        )
        tx.put(alarm, new=True)
        tx.link(Edge(type="ON", src=alarm.id, dst=res.id))
        return AlarmResult("ignored", alarm)
    if alarm.state == AlarmState.CLEARED:
        return AlarmResult("unchanged", alarm)
    if utc(op.at) < utc(alarm.raised_at):
        alarm.history.append(_entry(now, "stale_clear", actor, utc(op.at).isoformat()))
        tx.put(alarm)
        return AlarmResult("stale", alarm, _incident(tx, alarm))
    heir: Alarm | None = None
    if alarm.previous_status is not None:
        for _, other in tx.linked(res.id, "ON", "in"):
            if (
                isinstance(other, Alarm)
                and other.id != alarm.id
                and other.state == AlarmState.RAISED
                and config.sets_faulty(other.alarm_type, other.probable_cause, other.severity)
            ):
                heir = other
                break
    alarm.state = AlarmState.CLEARED
    alarm.cleared_at = op.at
    restore = alarm.previous_status
    note = ""
    if restore is not None and heir is not None:
        heir = tx.lock([heir.id])[heir.id].model_copy(deep=True)  # type: ignore[assignment]
        note = f"{res.id} stays faulty: {heir.id} is raised"  # type: ignore[union-attr]
    elif restore is not None and str(res.status) != Status.FAULTY:
        note = f"{res.id} is {res.status} now: not restored"
        restore = None
    elif restore is not None and not allowed(Status.FAULTY, restore):
        note = f"{restore} cannot follow faulty: not restored"
        restore = None
    alarm.history.append(_entry(now, "cleared", actor, note, AlarmState.CLEARED))
    incident = _queue(tx, alarm, now, correlator)
    if heir is not None:
        heir.previous_status = alarm.previous_status
        heir.history.append(_entry(now, "holds_status", actor, f"after {alarm.id} cleared"))
        tx.put(heir)
    elif restore is not None:
        res.status = Status(restore)  # type: ignore[assignment]
        tx.put(res)
    tx.put(alarm)
    tx.emit(alarm_event(alarm, ALARM_CLEARED, now))
    return AlarmResult("cleared", alarm, incident)
