"""SLA terms from the catalog and the clock arithmetic: business hours, holidays, pauses."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from pboss.field.sla import SlaClock, clock_for
from pboss.inventory.catalog import DEFAULT_CATALOG, BusinessHours, SlaRule, _load, load_catalog

HOURS = BusinessHours(
    timezone="Asia/Shanghai", start="08:30", end="17:30", days=(1, 2, 3, 4, 5), holidays=()
)


def business(hours: float, holidays: tuple[str, ...] = ()) -> SlaClock:
    bh = BusinessHours(HOURS.timezone, HOURS.start, HOURS.end, HOURS.days, holidays)
    return SlaClock(SlaRule(id="t", work="repair", hours=hours, clock="business"), bh)


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2026 given in Shanghai time (UTC+8)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_the_catalog_names_the_examples_of_the_issues() -> None:
    cat = load_catalog()
    assert cat.sla_for("construction", "FTTH-100M", "standard", False).hours == 48
    assert cat.sla_for("construction", "MSTP-LL", "gold", False).hours == 24
    assert cat.sla_for("construction", "MSTP-LL", "gold", True).hours == 72
    assert cat.sla_for("repair", "MSTP-LL", "gold", True).hours == 4
    assert cat.sla_for("repair", "FTTH-100M", "standard", False).hours == 24


def test_a_business_clock_skips_nights_and_weekends() -> None:
    clock = business(4)
    friday_4pm = shanghai(11, 16)  # 2026-12-11 is a Friday
    # 1.5 h on Friday, then Monday 08:30 + 2.5 h = 11:00
    assert clock.due_at(friday_4pm) == shanghai(14, 11)
    assert clock.seconds_between(friday_4pm, shanghai(14, 11)) == 4 * 3600


def test_a_holiday_is_not_counted() -> None:
    clock = business(2, holidays=("2026-12-14",))
    assert clock.due_at(shanghai(11, 17)) == shanghai(15, 10)


def test_a_pause_moves_the_deadline_by_the_time_held() -> None:
    clock = SlaClock(SlaRule(id="t", work="construction", hours=48), HOURS)
    start = shanghai(7, 9)
    paused = clock.seconds_between(shanghai(7, 12), shanghai(7, 18))
    assert clock.due_at(start, paused) == clock.due_at(start) + timedelta(hours=6)
    # while held, the used share stops growing
    held = shanghai(7, 12)
    assert clock.used_share(start, shanghai(8, 12), 0, held) == pytest.approx(3 / 48)


def test_jeopardy_and_escalation_follow_the_rule() -> None:
    cat = load_catalog()
    clock = clock_for(cat, "repair", "MSTP-LL", "gold", True)
    start = shanghai(7, 9)
    assert clock.jeopardy_at(start) == start + timedelta(hours=2)
    assert clock.escalation_target(1) == "supervisor"
    assert clock.escalation_target(2) == "partner-manager"
    assert clock.escalation_target(9) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"products": ["NOPE"]}, "unknown product NOPE"),
        ({"clock": "lunar"}, "clock must be one of"),
        ({"hours": 0}, "hours must be > 0"),
        ({"colour": "red"}, "unknown keys ['colour']"),
    ],
)
def test_a_bad_sla_rule_makes_the_catalog_invalid(change: dict, message: str) -> None:
    data = tomllib.loads(DEFAULT_CATALOG.read_text())
    data["sla"][0].update(change)
    with pytest.raises(ValueError, match="invalid") as e:
        _load(data, "test")
    assert message in str(e.value)


def test_each_kind_of_work_needs_a_catch_all() -> None:
    data = tomllib.loads(DEFAULT_CATALOG.read_text())
    data["sla"] = [r for r in data["sla"] if r["id"] != "repair-household"]
    with pytest.raises(ValueError, match="repair work needs a catch-all"):
        _load(data, "test")
