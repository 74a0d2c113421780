"""Over HTTP, on both stores: cutover plans through GraphQL (plan, impact, steps, approve,
schedule, execute, roll back, cancel), typed errors, and what a partner key sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api
from tests.cutover.network import full_splitter, network, self_built_beside_tietong

PLAN_FIELDS = """
    __typename
    ... on CutoverPlan {
      id state move holds riders partners
      steps { op rider type src dst newDst }
      impact { serviceCount customers goldCustomers partnerSegments outageMinutes
               services { service customer customerName slaTier gold }
               byProduct { key count } }
      verification { ok problems services planned }
      history { event state actor }
      before { type src dst } after { type src dst }
    }
    ... on CutoverPlanInvalid { code message reasons }
    ... on CutoverStateRefused { code reasons }
    ... on CutoverAssumptionBroken { code reasons }
    ... on NotFound { code id }
    ... on Forbidden { code message }
    ... on ValidationError { code issues { item reason } }
"""
REHOME = "mutation P($input: RehomePlanInput!) { planRehome(input: $input) {" + PLAN_FIELDS + "} }"
REROUTE = (
    "mutation R($input: ReroutePlanInput!) { planReroute(input: $input) {" + PLAN_FIELDS + "} }"
)
STEP = "mutation S($id: ID!) { %s(id: $id) {" + PLAN_FIELDS + "} }"
READ = (
    "query Q($id: ID!) { cutoverPlan(id: $id) {"
    + PLAN_FIELDS.split("... on CutoverPlanInvalid")[0]
    + "... on NotFound { code id } ... on Forbidden { code } } }"
)


def _window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "windowStart": (now - timedelta(hours=1)).isoformat(),
        "windowEnd": (now + timedelta(hours=3)).isoformat(),
    }


def _step(api: Api, name: str, plan: str, key: str = ENGINEER) -> dict[str, Any]:
    return api.data(STEP % name, key=key, id=plan)[name]


def test_rehome_through_graphql(api: Api, demo_store: GraphStore) -> None:
    full_splitter(demo_store)
    before = network(demo_store)
    inp = {"source": "SPL-JZ-2A", "target": "SPL-JZ-3", "reason": "full 1:8", "id": "CUT-G"}
    denied = api.data(REHOME, key=CRM, input={**inp, **_window()})["planRehome"]
    assert denied["__typename"] == "Forbidden"
    plan = api.data(REHOME, input={**inp, **_window()})["planRehome"]
    assert plan["__typename"] == "CutoverPlan" and plan["state"] == "DRAFT"
    assert plan["holds"] == [f"SPL-JZ-3:{i}" for i in range(1, 9)]
    assert plan["impact"]["serviceCount"] == 9 and plan["impact"]["goldCustomers"] == ["H-2"]
    assert plan["steps"][0] == {
        "op": "move", "rider": "ONT-1", "type": "FED_BY",
        "src": "ONT-1", "dst": "SPL-JZ-2A:1", "newDst": "SPL-JZ-3:1",
    }  # fmt: skip
    again = api.data(REHOME, input={**inp, **_window()})["planRehome"]
    assert again["__typename"] == "CutoverPlanInvalid" and again["code"] == "CONFLICT"
    early = _step(api, "executeCutover", "CUT-G")
    assert early["__typename"] == "CutoverStateRefused"
    assert early["reasons"] == ["only a scheduled plan executes"]
    # a partner whose resources the plan does not touch does not see it
    assert api.data(READ, key=PARTNER_TT, id="CUT-G")["cutoverPlan"]["__typename"] == "NotFound"
    for name in ("approveCutover", "scheduleCutover", "executeCutover"):
        done = _step(api, name, "CUT-G")
    assert done["state"] == "COMPLETED" and done["verification"]["ok"]
    q = '{ events(types: ["CutoverPlanApprovedEvent"]) { ... on EventConnection { edges { node '
    q += "{ subject body } } } } }"
    told = api.data(q, key=CRM)["events"]["edges"]
    assert [e["node"]["subject"] for e in told] == ["CUT-G"]
    crm_body = told[0]["node"]["body"]["event"]["cutoverPlan"]
    assert [c["id"] for c in crm_body["affectedCustomers"]] == ["H-1", "H-2", "H-3"]
    assert [e["dst"] for e in done["after"]] == [f"SPL-JZ-3:{i}" for i in range(1, 9)]
    back = _step(api, "rollbackCutover", "CUT-G")
    assert back["state"] == "ROLLED_BACK"
    assert [h["event"] for h in back["history"]][-1] == "rolledBack"
    assert network(demo_store) == before
    crm_view = api.data(READ, key=CRM, id="CUT-G")["cutoverPlan"]
    assert crm_view["impact"]["services"][0]["customer"] == "H-1"


def test_invalid_plans_are_typed(api: Api) -> None:
    bad = api.data(
        REHOME,
        input={
            "source": "SPL-JZ-2A", "target": "SPL-JZ-2B", "reason": "x",
            "mappings": [{"rider": "ONT-1", "targetPort": "SPL-JZ-2B:1"}], **_window(),
        },
    )["planRehome"]  # fmt: skip
    assert bad["__typename"] == "CutoverPlanInvalid"
    assert bad["reasons"] == ["SPL-JZ-2B:1 is taken (FED_BY from ONT-3)"]
    gone = _step(api, "approveCutover", "CUT-NONE")
    assert gone["__typename"] == "NotFound" and gone["id"] == "CUT-NONE"


def test_a_partner_sees_plans_on_its_links_without_household_data(
    api: Api, demo_store: GraphStore
) -> None:
    self_built_beside_tietong(demo_store)
    inp = {"link": "PL-1", "reason": "own fibre ready", "id": "CUT-TT", **_window()}
    plan = api.data(REROUTE, input=inp)["planReroute"]
    assert plan["partners"] == ["P-TT"] and plan["impact"]["services"][0]["customer"] == "E-1"
    seen = api.data(READ, key=PARTNER_TT, id="CUT-TT")["cutoverPlan"]
    assert seen["__typename"] == "CutoverPlan"
    assert seen["impact"]["services"] == [] and seen["impact"]["customers"] == 0
    assert seen["impact"]["serviceCount"] == 1 and seen["impact"]["partnerSegments"] == ["PL-1"]
    assert seen["riders"] == [] and seen["steps"] == []
    assert api.data(READ, key=PARTNER_OC, id="CUT-TT")["cutoverPlan"]["__typename"] == "NotFound"
    listed = api.data("{ cutoverPlans { id } }", key=PARTNER_OC)["cutoverPlans"]
    assert listed == []
    assert _step(api, "approveCutover", "CUT-TT", key=PARTNER_TT)["__typename"] == "Forbidden"
