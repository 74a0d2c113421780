"""SLA clocks for work orders and incidents: the catalog's terms, business hours, pauses.

A clock counts *SLA seconds*: every second on a calendar clock, only seconds inside business hours
(local time, working days, no holidays) on a business clock. A job's deadline is its start plus its
SLA hours plus the SLA seconds it was paused (held for the customer), so pausing and resuming moves
the deadline exactly by the paused time the clock would have counted. Pure functions: the caller
passes `now` from its injectable clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pboss.inventory.catalog import BusinessHours, Catalog, SlaRule

#: Longest stretch the business-hours walk looks ahead for open time (a calendar full of holidays
#: would otherwise loop for ever).
_MAX_DAYS = 3660


@dataclass(frozen=True)
class SlaClock:
    """How one job's SLA time passes: the rule that set it and the business hours it uses."""

    rule: SlaRule
    hours: BusinessHours

    @property
    def budget(self) -> float:
        """The SLA in SLA seconds."""
        return self.rule.hours * 3600.0

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """SLA seconds from `start` to `end` (0 when end is not after start)."""
        if end <= start:
            return 0.0
        if self.rule.clock == "calendar":
            return (end - start).total_seconds()
        return _business_seconds(self.hours, start, end)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` SLA seconds after `start`."""
        if self.rule.clock == "calendar":
            return start + timedelta(seconds=seconds)
        return _business_add(self.hours, start, seconds)

    def due_at(self, start: datetime, paused_seconds: float = 0.0) -> datetime:
        """The deadline of a job started at `start` that was paused `paused_seconds` so far."""
        return self.add(start, self.budget + paused_seconds)

    def used_share(
        self,
        start: datetime,
        now: datetime,
        paused_seconds: float = 0.0,
        held_since: datetime | None = None,
    ) -> float:
        """The share of the SLA used by `now` (1.0 = breached), not counting time paused so far
        nor the current hold, if any."""
        until = min(now, held_since) if held_since is not None else now
        used = self.seconds_between(start, until) - paused_seconds
        return max(0.0, used) / self.budget

    def jeopardy_at(self, start: datetime, paused_seconds: float = 0.0) -> datetime:
        """When the job enters jeopardy (the rule's share of the SLA used)."""
        return self.add(start, self.budget * self.rule.jeopardy + paused_seconds)

    def escalation_target(self, level: int) -> str | None:
        """The queue a breach escalates to at `level` (1 = first escalation), None past the last."""
        chain = self.rule.escalate
        return chain[level - 1] if 1 <= level <= len(chain) else None


def clock_for(
    catalog: Catalog, work: str, product: str | None, tier: str | None, partner: bool
) -> SlaClock:
    """The SLA clock of a job: the catalog's first matching rule and its business hours."""
    return SlaClock(catalog.sla_for(work, product, tier, partner), catalog.business_hours)


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _day_window(hours: BusinessHours, day: date) -> tuple[datetime, datetime] | None:
    """The business window of one local day in UTC, or None when it is not a working day."""
    if day.isoweekday() not in hours.days or day.isoformat() in hours.holidays:
        return None
    tz = _zone(hours.timezone)
    start = datetime.combine(day, time.fromisoformat(hours.start), tz).astimezone(UTC)
    end = datetime.combine(day, time.fromisoformat(hours.end), tz).astimezone(UTC)
    return start, end


def _local_day(hours: BusinessHours, moment: datetime) -> date:
    return moment.astimezone(_zone(hours.timezone)).date()


def _business_seconds(hours: BusinessHours, start: datetime, end: datetime) -> float:
    """Seconds inside business windows between two moments."""
    total = 0.0
    day = _local_day(hours, start)
    last = _local_day(hours, end)
    while day <= last:
        window = _day_window(hours, day)
        if window is not None:
            lo, hi = max(window[0], start), min(window[1], end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def _business_add(hours: BusinessHours, start: datetime, seconds: float) -> datetime:
    """The moment `seconds` business seconds after `start`."""
    remaining = seconds
    day = _local_day(hours, start)
    for _ in range(_MAX_DAYS):
        window = _day_window(hours, day)
        if window is not None:
            lo = max(window[0], start)
            if window[1] > lo:
                available = (window[1] - lo).total_seconds()
                if remaining <= available:
                    return lo + timedelta(seconds=remaining)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError(f"business hours leave no open time within {_MAX_DAYS} days")
