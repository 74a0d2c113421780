"""The reports page on both stores: each chart's CSV holds exactly the numbers the chart draws
(its bars' labels and values, read back from the SVG's text), the filters narrow the data, a
partner key sees only its own scorecard and no household data, and bad filters say what is
wrong."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest

from pboss.console import charts
from pboss.console import reports as console_reports
from pboss.field import reports as field_reports
from pboss.inventory.demo import demo_network
from pboss.inventory.store import GraphStore
from tests.api.conftest import ENGINEER, PARTNER_TT
from tests.console.conftest import Console
from tests.field.test_kpis import history  # noqa: F401 - the fixture, reused


def _csv(console: Console, name: str, **params: str) -> list[list[str]]:
    answer = console.client.get(f"/ui/reports/{name}.csv", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert f"{name}" in answer.headers["content-disposition"]
    return list(csv.reader(io.StringIO(answer.text.removeprefix("\ufeff"))))


def _svg_texts(console: Console, name: str, **params: str) -> list[str]:
    answer = console.client.get(f"/ui/reports/{name}.svg", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("image/svg+xml")
    return [unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", answer.text)]


def _after(texts: list[str], axis: str, count: int) -> list[str]:
    """The `count` texts after the x axis's title: the bars' labels, top to bottom."""
    at = texts.index(axis)
    return texts[at + 1 : at + 1 + count]


def test_utilisation_csv_is_the_charts_bars(console: Console, demo_store: GraphStore) -> None:
    console.login(ENGINEER)
    rows = _csv(console, "utilisation", kind="SPLITTER")
    header, body = rows[0], rows[1:]
    assert header == ["id", "name", "site", "owner", "capacity", "used", "held", "free", "share"]
    expected = field_reports.utilisation(demo_store, "Splitter").rows
    assert [r[0] for r in body] == [r[0] for r in expected]  # fullest first, all five
    assert [float(r[-1]) for r in body] == [r[-1] for r in expected]
    texts = _svg_texts(console, "utilisation", kind="SPLITTER")
    labels = _after(texts, "share of capacity used or held", len(body))
    assert labels == [f"{r[0]} {r[1]}".strip() for r in body]
    values = texts[texts.index(labels[-1]) + 1 : texts.index(labels[-1]) + 1 + len(body)]
    assert values == [f"{float(r[-1]) * 100:.1f}%" for r in body]
    page = console.get("/ui/reports", kind="SPLITTER")
    assert "Download CSV" in page and "/ui/reports/utilisation.csv?" in page
    for row in body:  # the text alternative: the same rows as a table
        assert "<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" in page


def test_sla_and_scorecards_csv_match_the_chart(console: Console, history: GraphStore) -> None:  # noqa: F811
    console.login(ENGINEER)
    sla = _csv(console, "sla", period="2026-11")
    assert sla == [
        ["product", "partner", "closed", "on_time", "late", "failed", "attainment"],
        ["FTTH-100M", "self", "4", "2", "1", "1", "0.5"],
        ["FTTH-100M", "P-TT", "1", "1", "0", "0", "1.0"],
        ["MSTP-LL", "P-TT", "1", "1", "0", "0", "1.0"],
    ]
    texts = _svg_texts(console, "sla", period="2026-11")
    assert _after(texts, "work orders closed", 3) == [
        "FTTH-100M · own (operator)", "FTTH-100M · 中国铁通", "MSTP-LL · 中国铁通",
    ]  # fmt: skip
    assert {"on time", "late", "failed"} <= set(texts)  # the stacked series' legend
    cards = _csv(console, "scorecards", period="2026-11")
    assert cards[0][0] == "partner" and {r[0] for r in cards[1:]} == {"self", "P-TT"}
    texts = _svg_texts(console, "scorecards", period="2026-11")
    scores = [float(r[-1]) for r in cards[1:]]
    assert scores == sorted(scores, reverse=True)
    labels = _after(texts, "score (out of 100)", len(scores))
    assert texts[texts.index(labels[-1]) + 1 :][: len(scores)] == [f"{s:g}" for s in scores]


def test_filters_narrow_the_data(console: Console, history: GraphStore) -> None:  # noqa: F811
    console.login(ENGINEER)
    at_dh = _csv(console, "utilisation", kind="SPLITTER", site="B-DH")
    assert len(at_dh) > 1 and {r[2] for r in at_dh[1:]} == {"B-DH"}
    assert len(at_dh) < len(_csv(console, "utilisation", kind="SPLITTER"))
    pools = _csv(console, "utilisation", kind="PARTNER_POOL", partner="P-OC")
    assert [r[0] for r in pools[1:]] == ["PA-DH-OC"]
    assert _csv(console, "utilisation", kind="PARTNER_POOL", partner="P-TT")[1:] == []
    assert [r[1] for r in _csv(console, "sla", period="2026-11", partner="P-TT")[1:]] == [
        "P-TT", "P-TT",
    ]  # fmt: skip
    december = _csv(console, "sla", period="2026-12")
    assert december[1:] == [["FTTH-100M", "self", "1", "1", "0", "0", "1.0"]]  # WO-40 only
    assert [r[0] for r in _csv(console, "take-up", site="B-JZ")[1:]] == ["B-JZ"]
    page = console.get("/ui/reports", period="2026-11", site="B-DH", kind="SPLITTER")
    assert "fullest splitters at B-DH" in page and "SPL-JZ-1" not in page


def test_a_partner_sees_only_its_own(console: Console, history: GraphStore) -> None:  # noqa: F811
    console.login(PARTNER_TT)
    page = console.get("/ui/reports", period="2026-11")
    assert page.count("Not shown to you") == 3  # utilisation, take-up, SLA: the operator's
    assert "Partner scorecards 2026-11 of 中国铁通" in page
    assert [r[0] for r in _csv(console, "scorecards", period="2026-11")[1:]] == ["P-TT"]
    for name in ("utilisation", "take-up", "sla"):
        answer = console.client.get(f"/ui/reports/{name}.csv", params={"period": "2026-11"})
        assert answer.status_code == 403 and "not allowed" in answer.text
    other = console.client.get("/ui/reports", params={"partner": "P-OC"})
    assert other.status_code == 400
    assert "a partner key sees only its own partner (P-TT), not &#39;P-OC&#39;" in other.text
    nodes, _ = demo_network()
    households = [n.name for n in nodes if type(n).__name__ == "Customer" and n.name]
    assert households
    for text in (page, console.client.get("/ui/reports/scorecards.svg").text):
        assert not any(name in text for name in households)
        assert not re.search(r"1[3-9]\d{9}", text)  # no mobile number


def test_bad_params_say_what_is_wrong(console: Console, demo_store: GraphStore) -> None:
    console.login(ENGINEER)
    page = console.client.get(
        "/ui/reports", params={"period": "2026-13", "kind": "fibre", "site": "NOPE"}
    )
    assert page.status_code == 400
    text = unescape(page.text)
    assert "period must be a month written YYYY-MM (e.g. 2026-11), not '2026-13'" in text
    assert "kind must be one of OLT, PON_PORT, SPLITTER" in text and "not 'FIBRE'" in text
    assert "site 'NOPE' is not a site you can see" in text
    assert 'role="alert"' in page.text and "<img" not in page.text
    bad = console.client.get("/ui/reports/sla.csv", params={"period": "11/2026"})
    assert bad.status_code == 400 and "YYYY-MM" in bad.text
    assert console.client.get("/ui/reports/sla.csv", params={"partner": "P-XX"}).status_code == 400
    missing = console.client.get("/ui/reports/nothing.svg")
    assert missing.status_code == 404 and "there are utilisation, take-up" in missing.text
    console.client.cookies.clear()
    assert console.client.get("/ui/reports/sla.svg").status_code == 401


def test_a_chart_keeps_chinese_as_text_and_is_drawn_once_per_figures() -> None:
    labels = ["财富国际金座 (B-JZ)", "都华名苑 (B-DH)"]
    before = charts._drawn.cache_info()
    first = charts.bar_chart("Take-up", labels, [charts.Series("take-up", [0.025, 0.005])], "x")
    again = charts.bar_chart("Take-up", labels, [charts.Series("take-up", (0.025, 0.005))], "x")
    after = charts._drawn.cache_info()
    assert first == again and (after.hits, after.misses) == (before.hits + 1, before.misses + 1)
    assert ">财富国际金座 (B-JZ)</text>" in first  # a <text>, not glyph outlines
    assert "<path" in first and "<dc:date>" not in first  # no timestamp: the same every time
    other = charts.bar_chart("Take-up", labels, [charts.Series("take-up", [0.5, 0.005])], "x")
    assert other != first


def test_a_chart_shows_the_top_rows_and_says_of_how_many(
    console: Console, demo_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_reports, "TOP", 2)
    console.login(ENGINEER)
    expected = field_reports.utilisation(demo_store, "Splitter").rows
    assert len(expected) == 5
    top = _csv(console, "utilisation", kind="SPLITTER")
    assert [r[0] for r in top[1:]] == [r[0] for r in expected[:2]]
    assert "The 2 fullest of 5 splitters" in console.get("/ui/reports", kind="SPLITTER")
    mine = console.get("/ui/reports", kind="SPLITTER", partner="self")  # filtered: counted here
    assert "The 2 fullest of 5 splitters of own (operator)" in mine
