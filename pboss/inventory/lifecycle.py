"""Resource lifecycle: the one table of legal status transitions, and TMF639 state mapping."""

from __future__ import annotations

from enum import StrEnum

from pboss.inventory.errors import InvalidTransition


class Status(StrEnum):
    """Lifecycle status of every element (design.md §3)."""

    PLANNED = "planned"
    AVAILABLE = "available"
    RESERVED = "reserved"
    IN_USE = "in_use"
    FAULTY = "faulty"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


S = Status

#: The legal transitions and nothing else. A change to the same status is a no-op.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.PLANNED: frozenset({S.AVAILABLE, S.IN_USE, S.RETIRED}),
    S.AVAILABLE: frozenset({S.RESERVED, S.IN_USE, S.FAULTY, S.MAINTENANCE, S.RETIRED}),
    S.RESERVED: frozenset({S.AVAILABLE, S.IN_USE, S.FAULTY}),
    S.IN_USE: frozenset({S.AVAILABLE, S.FAULTY, S.MAINTENANCE}),
    S.FAULTY: frozenset({S.AVAILABLE, S.IN_USE, S.MAINTENANCE, S.RETIRED}),
    S.MAINTENANCE: frozenset({S.AVAILABLE, S.IN_USE, S.FAULTY, S.RETIRED}),
    S.RETIRED: frozenset(),
}

#: Statuses that mean "whatever depends on this does not work".
DOWN = frozenset({S.FAULTY, S.RETIRED})
#: Statuses that mean "whatever depends on this is at risk".
DEGRADED = frozenset({S.MAINTENANCE})


def allowed(from_status: Status | str, to_status: Status | str) -> bool:
    """True when the lifecycle table allows the change (or it changes nothing)."""
    a, b = Status(from_status), Status(to_status)
    return a == b or b in TRANSITIONS[a]


def check_transition(element_id: str, from_status: Status | str, to_status: Status | str) -> None:
    """Raise InvalidTransition unless the lifecycle table allows the change."""
    if not allowed(from_status, to_status):
        raise InvalidTransition(element_id, str(from_status), str(to_status))


def health_of(statuses: list[Status | str]) -> str:
    """The health a dependant inherits from the statuses it depends on: ok, degraded or down."""
    seen = {Status(s) for s in statuses}
    if seen & DOWN:
        return "down"
    if seen & DEGRADED:
        return "degraded"
    return "ok"


def tmf639_state(status: Status | str) -> dict[str, str]:
    """Map a pboss status to TMF639's four state fields, so telecom tools read it natively."""
    s = Status(status)
    admin = {S.RETIRED: "shutdown", S.MAINTENANCE: "locked", S.PLANNED: "locked"}.get(s, "unlocked")
    oper = "disable" if s in {S.FAULTY, S.RETIRED, S.PLANNED} else "enable"
    usage = {S.IN_USE: "busy", S.RESERVED: "active"}.get(s, "idle")
    resource_status = {
        S.PLANNED: "standby",
        S.AVAILABLE: "available",
        S.RESERVED: "reserved",
        S.IN_USE: "available",
        S.FAULTY: "alarm",
        S.MAINTENANCE: "suspended",
        S.RETIRED: "unknown",
    }[s]
    return {
        "administrativeState": admin,
        "operationalState": oper,
        "usageState": usage,
        "resourceStatus": resource_status,
    }
