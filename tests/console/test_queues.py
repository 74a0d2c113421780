"""The queues page on both stores over the reference network with work orders, incidents and a
cutover plan: each queue's rows and totals, filters narrowing rows as links, paging by the API's
cursors, partner keys seeing their own rows only and no household data, bad parameters answered
with the reason (400), never a 500."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from pboss.field.model import Crew
from pboss.inventory.demo import demo_crews
from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, ENGINEER, PARTNER_OC, PARTNER_TT
from tests.api.test_field_api import _work as work
from tests.assurance.repair_network import open_incident, ticket
from tests.console.conftest import Console
from tests.cutover.network import full_splitter

REHOME = """mutation P($input: RehomePlanInput!) {
  planRehome(input: $input) { __typename ... on CutoverPlan { id state } } }"""
HOUSEHOLD = ("王芳", "张伟", "李娜")


def rows(html: str) -> list[str]:
    """The first cell's text of each row of the queue's table."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    assert body, "no table on the page"
    found = re.findall(r"<tr>\s*<td>(?:<a [^>]*>)?([^<]+)", body.group(1))
    return [] if found == ["Nothing matches."] else found


def totals(html: str) -> dict[str, int]:
    """The totals line: label -> count."""
    line = re.search(r'id="queue-totals">(.*?)</p>', html, re.S)
    assert line, "no totals on the page"
    return {
        label: int(n)
        for n, label in re.findall(r"<strong>(\d+)</strong> ([^<]+)</span>", line.group(1))
    }


@pytest.fixture
def queues(console: Console, demo_store: GraphStore) -> Console:
    """The console over the reference network with work, two incidents and a cutover plan."""
    crews, covers = demo_crews()
    demo_store.upsert(crews, covers, actor="test", reason="crews")
    assert any(isinstance(c, Crew) for c in crews)
    work(demo_store, "WO-A", crew="CREW-LJZ-T", site="CP-XX", due_in_hours=2, jeopardy=True)
    work(demo_store, "WO-B", crew="CREW-LJZ-T", due_in_hours=-3, jeopardy=True, breached=True)
    work(demo_store, "WO-C", crew="CREW-OC-1", due_in_hours=30, partner="P-OC")
    work(demo_store, "WO-D", crew="CREW-LJZ-T", due_in_hours=10, state="done")
    work(demo_store, "WO-E", crew=None, due_in_hours=20, state="held")
    open_incident(demo_store, "INC-TT", "PL-1", [ticket("SVC-E1-LL", 1)])
    open_incident(demo_store, "INC-JZ", "SPL-JZ-2A", [ticket("SVC-H1-BB", 2)])
    full_splitter(demo_store)
    now = datetime.now(UTC)
    plan = {
        "source": "SPL-JZ-2A",
        "target": "SPL-JZ-3",
        "reason": "full 1:8",
        "id": "CUT-Q",
        "windowStart": (now + timedelta(hours=1)).isoformat(),
        "windowEnd": (now + timedelta(hours=3)).isoformat(),
    }
    answer = console.client.post(
        "/graphql",
        json={"query": REHOME, "variables": {"input": plan}},
        headers={"Authorization": f"Bearer {ENGINEER}"},
    )
    assert answer.json()["data"]["planRehome"]["__typename"] == "CutoverPlan", answer.text
    return console


def test_work_orders_filter_count_and_page(queues: Console) -> None:
    # construction work only: the repair sweeper may dispatch the incidents' repairs meanwhile
    queues.login(ENGINEER)
    every = queues.get("/ui/queues", tab="work-orders", purpose="construction")
    assert rows(every) == ["WO-B", "WO-A", "WO-D", "WO-E", "WO-C"]
    assert totals(every) == {
        "work orders": 5, "open": 3, "held": 1, "in jeopardy": 2, "breached": 1,
    }  # fmt: skip
    assert rows(
        queues.get(
            "/ui/queues", tab="work-orders", purpose="construction", state="OPEN", site="B-DH"
        )
    ) == [
        "WO-B",
        "WO-C",
    ]
    assert rows(
        queues.get("/ui/queues", tab="work-orders", purpose="construction", site="CP-XX")
    ) == ["WO-A"]
    assert rows(
        queues.get("/ui/queues", tab="work-orders", purpose="construction", breached="yes")
    ) == ["WO-B"]
    assert rows(
        queues.get(
            "/ui/queues", tab="work-orders", purpose="construction", jeopardy="yes", breached="no"
        )
    ) == ["WO-A"]
    assert rows(
        queues.get("/ui/queues", tab="work-orders", purpose="construction", unassigned="yes")
    ) == ["WO-E"]
    assert rows(
        queues.get("/ui/queues", tab="work-orders", purpose="construction", partner="P-OC")
    ) == ["WO-C"]
    # the filter is kept in the form and in the links; paging follows the API's cursor
    first = queues.get(
        "/ui/queues", tab="work-orders", purpose="construction", state="OPEN", first="2"
    )
    assert rows(first) == ["WO-B", "WO-A"] and totals(first)["work orders"] == 3
    assert '<option value="OPEN" selected>' in first
    link = re.search(r'<a href="([^"]+)" rel="next"', first)
    assert link and "state=OPEN" in link.group(1) and "first=2" in link.group(1)
    assert "purpose=construction" in link.group(1)
    rest = queues.client.get(link.group(1).replace("&amp;", "&"))
    assert rest.status_code == 200 and rows(rest.text) == ["WO-C"]
    assert 'rel="next"' not in rest.text and "First page" in rest.text
    assert '<a href="/ui/map?site=CP-XX">CP-XX</a>' in every
    repairs = rows(queues.get("/ui/queues", tab="work-orders", purpose="repair"))
    assert all(w.startswith("WO-R-INC-") for w in repairs), repairs


def test_incidents_orders_and_cutover_plans(queues: Console) -> None:
    queues.login(ENGINEER)
    incidents = queues.get("/ui/queues", tab="incidents")
    assert sorted(rows(incidents)) == ["INC-JZ", "INC-TT"] and totals(incidents) == {"incidents": 2}
    assert rows(queues.get("/ui/queues", tab="incidents", site="B-JZ")) == ["INC-JZ"]
    assert rows(queues.get("/ui/queues", tab="incidents", priority="CRITICAL")) == ["INC-TT"]
    assert rows(queues.get("/ui/queues", tab="incidents", resource="PL-1")) == ["INC-TT"]
    assert rows(queues.get("/ui/queues", tab="incidents", state="RESOLVED")) == []
    assert sorted(rows(queues.get("/ui/queues", tab="incidents", state="open"))) == [
        "INC-JZ",
        "INC-TT",
    ]
    assert '<a href="/ui/impact?id=SPL-JZ-2A">SPL-JZ-2A</a>' in incidents
    orders = queues.get("/ui/queues", tab="orders")
    assert {"ORD-WO-A", "ORD-WO-E"} <= set(rows(orders))
    assert totals(orders)["orders"] == len(rows(orders))
    assert rows(queues.get("/ui/queues", tab="orders", text="ORD-WO-C")) == ["ORD-WO-C"]
    assert '<a href="/ui/trace?id=C-1">C-1</a>' in orders
    plans = queues.get("/ui/queues", tab="cutover")
    assert rows(plans) == ["CUT-Q"] and totals(plans) == {"cutover plans": 1}
    assert "/ui/impact?id=SPL-JZ-2A" in plans and "DRAFT" in plans
    assert rows(queues.get("/ui/queues", tab="cutover", state="COMPLETED")) == []
    assert rows(queues.get("/ui/queues", tab="cutover", state="DRAFT")) == ["CUT-Q"]


def test_partner_keys_see_their_own_rows_and_no_household_data(queues: Console) -> None:
    queues.login(PARTNER_OC)
    work = queues.get("/ui/queues", tab="work-orders", purpose="construction")
    assert rows(work) == ["WO-C"] and totals(work)["work orders"] == 1
    assert rows(queues.get("/ui/queues", tab="work-orders", crew="CREW-LJZ-T")) == []
    assert rows(queues.get("/ui/queues", tab="work-orders", purpose="repair")) == []
    orders = queues.get("/ui/queues", tab="orders")
    assert rows(orders) == [] and "does not read orders" in orders
    assert rows(queues.get("/ui/queues", tab="incidents")) == []
    queues.login(PARTNER_TT)
    incidents = queues.get("/ui/queues", tab="incidents")
    assert rows(incidents) == ["INC-TT"] and totals(incidents) == {"incidents": 1}
    # Tietong's own work only: none of the operator's construction (its incident's repair, once
    # the repair sweeper dispatches it, is Tietong's)
    tt_work = rows(queues.get("/ui/queues", tab="work-orders"))
    assert all(w.startswith("WO-R-INC-TT") for w in tt_work), tt_work
    assert rows(queues.get("/ui/queues", tab="cutover")) == []  # the plan is not on its lines
    for tab in ("orders", "work-orders", "incidents", "cutover"):
        html = queues.get("/ui/queues", tab=tab)
        for name in HOUSEHOLD:
            assert name not in html, (tab, name)
    queues.login(CRM)
    assert sorted(rows(queues.get("/ui/queues", tab="incidents"))) == ["INC-JZ", "INC-TT"]


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"tab": "bogus"}, "Unknown queue &#39;bogus&#39;"),
        ({"tab": "work-orders", "state": "LOST"}, "State: &#39;LOST&#39; is not one of OPEN"),
        ({"tab": "incidents", "priority": "URGENT"}, "Priority: &#39;URGENT&#39; is not one of"),
        ({"tab": "work-orders", "first": "0"}, "Rows per page: a whole number from 1 to 200"),
        ({"tab": "orders", "first": "many"}, "Rows per page"),
        ({"tab": "work-orders", "breached": "maybe"}, "Breached: &#39;maybe&#39;"),
        ({"tab": "incidents", "after": "not-a-cursor"}, "The API did not answer this page"),
    ],
)
def test_bad_parameters_say_why_with_400(
    queues: Console, params: dict[str, str], said: str
) -> None:
    queues.login(ENGINEER)
    answer = queues.client.get("/ui/queues", params=params)
    assert answer.status_code == 400, answer.text
    assert said in answer.text


def test_the_queues_need_a_login(console: Console) -> None:
    answer = console.client.get("/ui/queues", params={"tab": "incidents"})
    assert answer.status_code == 401 and 'id="login-form"' in answer.text
