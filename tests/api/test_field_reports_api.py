"""Over HTTP, on both stores: reports as tables with CSV, KPIs and scorecards, the customer's
rating, and what a partner key may read of them."""

from __future__ import annotations

from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api
from tests.field.test_kpis import _job, history  # noqa: F401 - the fixture, reused

TABLE = "{ name columns rows totalCount truncated csv }"


def test_utilisation_report_is_a_table_with_csv(api: Api) -> None:
    data = api.data("{ utilisationReport(kind: SPLITTER, first: 2) " + TABLE + " }")
    table = data["utilisationReport"]
    assert table["columns"][:3] == ["id", "kind", "name"]
    assert len(table["rows"]) == 2 and table["totalCount"] >= 2
    assert table["truncated"] == (table["totalCount"] > 2)
    shares = [r[-1] for r in table["rows"]]
    assert shares == sorted(shares, reverse=True)
    lines = table["csv"].splitlines()
    assert lines[0].startswith("id,kind,name") and len(lines) == 3


def test_take_up_and_partner_usage(api: Api) -> None:
    take_up = api.data("{ takeUpReport " + TABLE + " }")["takeUpReport"]
    assert take_up["rows"] and {r[2] for r in take_up["rows"]} <= {"building", "estate"}
    usage = api.data("{ partnerUsageReport " + TABLE + " }")["partnerUsageReport"]
    assert {r[0] for r in usage["rows"]} == {"P-TT", "P-OC"}
    mine = api.data("{ partnerUsageReport " + TABLE + " }", key=PARTNER_TT)
    assert [r[0] for r in mine["partnerUsageReport"]["rows"]] == ["P-TT"]
    errors = api.errors("{ takeUpReport " + TABLE + " }", key=PARTNER_OC)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


def test_kpis_scorecards_and_rating(api: Api, history: GraphStore) -> None:  # noqa: F811
    kpi = "{ key jobs done onTimeRate medianHours firstTimeRightRate shifts averageRating score }"
    rows = api.data('{ fieldKpis(month: "2026-11", groupBy: CREW) ' + kpi + " }")["fieldKpis"]
    assert {r["key"]: r["jobs"] for r in rows} == {"CR-A": 4, "CR-T": 2}
    assert api.data('{ fieldKpis(month: "2026-11", groupBy: CREW) { key } }', key=PARTNER_TT) == {
        "fieldKpis": [{"key": "CR-T"}]
    }
    cards = api.data('{ partnerScorecards(month: "2026-11") ' + kpi + " }", key=PARTNER_TT)
    assert [c["key"] for c in cards["partnerScorecards"]] == ["P-TT"]
    bad = api.errors('{ fieldKpis(month: "2026-13", groupBy: CREW) { key } }')
    assert "YYYY-MM" in bad[0]["message"]

    rate = """mutation R($id: ID!, $r: Int!) { rateWorkOrder(workOrderId: $id, rating: $r,
      comment: "very tidy") { __typename ... on WorkOrder { id }
      ... on InvalidState { reasons } ... on ValidationError { issues { reason } }
      ... on Forbidden { code } ... on NotFound { id } } }"""
    assert api.data(rate, key=CRM, id="WO-40", r=5)["rateWorkOrder"]["__typename"] == "WorkOrder"
    assert api.data(rate, key=CRM, id="WO-40", r=3)["rateWorkOrder"]["__typename"] == (
        "InvalidState"
    )
    assert api.data(rate, key=CRM, id="WO-40", r=9)["rateWorkOrder"]["__typename"] == (
        "ValidationError"
    )
    assert api.data(rate, key=CRM, id="WO-NOPE", r=4)["rateWorkOrder"] == {
        "__typename": "NotFound", "id": "WO-NOPE"
    }  # fmt: skip
    assert api.data(rate, key=PARTNER_TT, id="WO-40", r=4)["rateWorkOrder"]["__typename"] == (
        "Forbidden"
    )
    sla = api.data('{ slaAttainmentReport(month: "2026-11") ' + TABLE + " }", key=ADMIN)
    assert sla["slaAttainmentReport"]["csv"].startswith("product,partner,closed")


def test_open_work_by_age(api: Api, history: GraphStore) -> None:  # noqa: F811
    history.upsert([_job(8, crew="CR-A", hours=1, state="open")], [], actor="t", reason="t")
    table = api.data("{ openWorkByAgeReport " + TABLE + " }", key=ENGINEER)["openWorkByAgeReport"]
    assert table["rows"] == [["construction", "crew:CR-A", 0, 0, 0, 1, 0, 0]]
