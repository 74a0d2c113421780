"""Bulk alarm ingest: NDJSON lines, one alarm operation each, parsed into `AlarmOp`s or a typed
line error naming the line and field, and the per-line result each line gets back.

A line is one JSON object:
`{"op": "raise"|"clear", "resource": "<id>", "alarmType": "<TMF642 type>", "probableCause":
"<text>", "severity": "critical"|...(raise only), "time": "<ISO-8601>", "sourceAlarmId": "<id>",
"specificProblem": "<text>"}`; `op`, `resource`, `alarmType`, `probableCause` and `time` are
required (and `severity` to raise); any other key is refused, so a misspelt field is not
silently dropped. Blank lines are skipped (they keep their number).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pboss.assurance.alarms import AlarmOp, AlarmResult
from pboss.assurance.model import AlarmType, Severity
from pboss.inventory.errors import InvalidTransition, NotFound, PbossError, ValidationFailed

#: The keys a line may carry.
KEYS = frozenset(
    {"op", "resource", "alarmType", "probableCause", "severity", "time", "sourceAlarmId",
     "specificProblem"}
)  # fmt: skip
#: Longest text field accepted (ids, cause, specific problem).
MAX_TEXT = 2000
#: Most lines one request may carry.
MAX_LINES = 2000


@dataclass(frozen=True, slots=True)
class LineError:
    """Why one line was refused (nothing of it was written)."""

    line: int
    code: str
    message: str
    field: str | None = None

    def row(self) -> dict[str, Any]:
        """The line's answer."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            err["field"] = self.field
        return {"line": self.line, "ok": False, "error": err}


def _text(raw: dict[str, Any], key: str, line: int, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise _Bad(LineError(line, "missing_field", f"{key} is required", key))
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise _Bad(LineError(line, "invalid_field", f"{key} must be 1..{MAX_TEXT} chars", key))
    return value


class _Bad(Exception):
    def __init__(self, error: LineError):
        self.error = error


def parse_line(line: int, text: str) -> AlarmOp | LineError | None:
    """The operation on one NDJSON line, its error, or None for a blank line."""
    if not text.strip():
        return None
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return LineError(line, "invalid_json", f"not JSON: {str(exc)[:200]}")
    if not isinstance(raw, dict):
        return LineError(line, "invalid_json", "each line must be one JSON object")
    try:
        unknown = sorted(set(raw) - KEYS)
        if unknown:
            raise _Bad(LineError(line, "unknown_field", f"unknown keys {unknown}", unknown[0]))
        action = raw.get("op")
        if action not in ("raise", "clear"):
            raise _Bad(LineError(line, "invalid_field", 'op must be "raise" or "clear"', "op"))
        resource = _text(raw, "resource", line)
        kind = _text(raw, "alarmType", line)
        if kind not in {t.value for t in AlarmType}:
            types = ", ".join(t.value for t in AlarmType)
            raise _Bad(LineError(line, "invalid_field", f"alarmType must be one of {types}",
                                 "alarmType"))  # fmt: skip
        cause = _text(raw, "probableCause", line)
        sev_text = _text(raw, "severity", line, required=action == "raise")
        if sev_text is not None and sev_text not in {s.value for s in Severity}:
            sevs = ", ".join(s.value for s in Severity)
            raise _Bad(LineError(line, "invalid_field", f"severity must be one of {sevs}",
                                 "severity"))  # fmt: skip
        when = _text(raw, "time", line)
        try:
            at = datetime.fromisoformat(str(when))
        except ValueError:
            raise _Bad(LineError(line, "invalid_field", "time must be ISO-8601", "time")) from None
        if at.tzinfo is None:
            raise _Bad(LineError(line, "invalid_field", "time needs a UTC offset", "time"))
        return AlarmOp(
            action=action,
            resource=str(resource),
            alarm_type=AlarmType(kind),
            probable_cause=str(cause),
            at=at,
            severity=Severity(sev_text) if sev_text else Severity.INDETERMINATE,
            source_alarm_id=_text(raw, "sourceAlarmId", line, required=False),
            specific_problem=_text(raw, "specificProblem", line, required=False) or "",
        )
    except _Bad as bad:
        return bad.error


def result_row(line: int, result: AlarmResult | PbossError) -> dict[str, Any]:
    """The answer of one line that was applied (or refused by the store's rules)."""
    if isinstance(result, PbossError):
        field = None
        if isinstance(result, NotFound):
            field = "resource"
        elif isinstance(result, ValidationFailed) and result.issues:
            field = result.issues[0].field
        elif isinstance(result, InvalidTransition):
            field = "resource"
        return LineError(line, result.code, str(result)[:500], field).row()
    alarm = result.alarm
    return {
        "line": line,
        "ok": True,
        "outcome": result.outcome,
        "alarm": alarm.id,
        "state": str(alarm.state),
        "incident": result.incident.id if result.incident else alarm.incident,
    }
