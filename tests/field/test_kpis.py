"""KPIs, scorecards, ratings and reports over a month of hand-made history, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pboss.assurance.model import Symptom, TroubleTicket
from pboss.field import kpis, reports
from pboss.field.model import Crew
from pboss.field.ratings import rate
from pboss.inventory.store import GraphStore
from pboss.provisioning.errors import InvalidState
from pboss.provisioning.model import Order, Technology, WorkOrder

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday


def _order(n: int, customer: str, product: str = "FTTH-100M") -> Order:
    return Order(
        id=f"ORD-{n}", crm_order_id=str(n), product=product, technology=Technology.FTTH,
        site="B-JZ", customer=customer, created_at=T0, updated_at=T0,
    )  # fmt: skip


def _job(
    n: int, *, crew: str, hours: float, sla: float = 48, state: str = "done", partner: str = "",
    rating: int | None = None, product: str = "FTTH-100M", paused: float = 0,
) -> WorkOrder:  # fmt: skip
    start = T0 + timedelta(days=n)
    return WorkOrder(
        id=f"WO-{n}", order=f"ORD-{n}", reservation=f"RES-{n}",
        assignee=partner or f"crew:{crew}", assignee_type="partner" if partner else "own_crew",
        crew=crew, product=product, state=state, created_at=start,
        due_at=start + timedelta(hours=sla), completed_at=start + timedelta(hours=hours),
        paused_seconds=paused, rating=rating,
    )  # fmt: skip


@pytest.fixture
def history(demo_store: GraphStore) -> GraphStore:
    """Six closed jobs in November 2026 (one crew of ours, one of a partner) and one repeat
    ticket; one job closed in December (outside the month)."""
    crews = [
        Crew(id="CR-A", skills=["ftthInstall"], work_days=[1, 2, 3, 4, 5], days_off=["2026-11-11"]),
        Crew(id="CR-T", owner="P-TT", skills=["ftthInstall"], work_days=[1, 2, 3, 4, 5, 6]),
    ]
    jobs = [
        _job(1, crew="CR-A", hours=10, rating=5),
        _job(2, crew="CR-A", hours=20, rating=4),
        _job(3, crew="CR-A", hours=60, paused=6 * 3600, rating=2),  # 54 h net, due 48 h: late
        _job(4, crew="CR-A", hours=30, state="failed"),
        _job(5, crew="CR-T", hours=40, partner="P-TT", rating=3),
        _job(6, crew="CR-T", hours=70, sla=72, partner="P-TT", product="MSTP-LL"),
        _job(40, crew="CR-A", hours=5),  # completed in December
    ]
    orders = [_order(n, f"CUST-{n}") for n in (1, 2, 3, 4, 5, 6, 40)]
    repeat = TroubleTicket(
        id="TT-R", crm_ticket_id="R", subject="customer", customer="CUST-2", symptom=Symptom.SLOW,
        state="closed", opened_at=T0 + timedelta(days=10), updated_at=T0 + timedelta(days=10),
    )  # fmt: skip
    demo_store.upsert([*crews, *orders, *jobs, repeat], [], actor="test", reason="history")
    return demo_store


def test_kpis_per_crew_match_the_hand_computed_sample(history: GraphStore) -> None:
    rows = {r.key: r for r in kpis.kpis(history, "2026-11", "crew")}
    a = rows["CR-A"]
    assert (a.jobs, a.done, a.on_time) == (4, 3, 2)  # WO-3 late, WO-4 failed
    assert a.on_time_rate == pytest.approx(0.5)
    assert a.median_hours == pytest.approx(20)  # 10, 20, 54
    assert a.p90_hours == pytest.approx(54)
    assert a.first_time_right_rate == pytest.approx(2 / 3)  # CUST-2 called again within 30 days
    assert a.shifts == 20  # November 2026: 21 weekdays, less the 11th
    assert a.jobs_per_shift == pytest.approx(3 / 20)
    assert a.average_rating == pytest.approx(11 / 3)
    t = rows["CR-T"]
    assert (t.jobs, t.done, t.on_time, t.shifts) == (2, 2, 2, 25)


def test_scorecards_and_products(history: GraphStore) -> None:
    cards = kpis.scorecards(history, "2026-11")
    assert [c.key for c in cards] == ["P-TT", "self"]
    assert cards[0].score == pytest.approx(100 * (50 * 1 + 30 * 1 + 20 * 0.5) / 100)
    by_product = {r.key: r for r in kpis.kpis(history, "2026-11", "product")}
    assert by_product["MSTP-LL"].jobs == 1 and by_product["FTTH-100M"].jobs == 5
    assert by_product["MSTP-LL"].shifts is None


def test_sla_attainment_report_and_csv(history: GraphStore) -> None:
    report = reports.sla_attainment(history, "2026-11")
    rows = {(r[0], r[1]): r for r in report.rows}
    assert rows[("FTTH-100M", "self")][2:] == (4, 2, 1, 1, 0.5)
    assert rows[("FTTH-100M", "P-TT")][2:] == (1, 1, 0, 0, 1.0)
    text = report.csv()
    assert text.splitlines()[0] == "product,partner,closed,on_time,late,failed,attainment"
    assert "MSTP-LL,P-TT,1,1,0,0,1.0" in text


def test_a_rating_needs_acceptance_and_is_given_once(history: GraphStore) -> None:
    history.upsert([_job(7, crew="CR-A", hours=1, state="open")], [], actor="t", reason="t")
    with pytest.raises(InvalidState, match="is open"):
        rate(history, "WO-7", 4, None, actor="crm:test")
    wo, changed = rate(history, "WO-40", 4, "quick and tidy", actor="crm:test")
    assert changed and wo.rating == 4
    assert rate(history, "WO-40", 4, "quick and tidy", actor="crm:test")[1] is False
    with pytest.raises(InvalidState, match="already rated"):
        rate(history, "WO-40", 2, None, actor="crm:test")
    with pytest.raises(ValueError, match="1 to 5"):
        rate(history, "WO-40", 6, None, actor="crm:test")
    stored = history.get("WO-40")
    assert stored.rating == 4 and stored.events()[-1].actor == "crm:test"  # type: ignore[union-attr]
    events = history.events_after(0, types=["WorkOrderRatedEvent"])
    assert [e.subject for e in events] == ["WO-40"]


def test_open_work_by_age(history: GraphStore) -> None:
    history.upsert(
        [_job(8, crew="CR-A", hours=1, state="open"), _job(9, crew="CR-A", hours=1, state="held")],
        [], actor="t", reason="t",
    )  # fmt: skip
    now = T0 + timedelta(days=9, hours=30)  # WO-8 is 54 h old, WO-9 30 h
    report = reports.open_work_by_age(history, now)
    assert report.columns[2:] == ("0-24h", "24-48h", "48-72h", "72h+", "jeopardy", "breached")
    assert report.rows == [("construction", "crew:CR-A", 0, 1, 1, 0, 0, 0)]


def test_a_month_must_be_a_month(history: GraphStore) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        kpis.kpis(history, "November", "crew")
