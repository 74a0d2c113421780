"""The provisioning GraphQL fields, merged into the API's own schema, with typed union errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import strawberry
from strawberry.tools import merge_types

from pboss.config import Settings
from pboss.graphql.context import Context
from pboss.graphql.errors import ERROR_TYPES
from pboss.graphql.inventory.types import ELEMENT_TYPES
from pboss.graphql.permissions import Principal
from pboss.graphql.provisioning.mutations import ProvisioningMutation
from pboss.graphql.provisioning.queries import ProvisioningQuery
from pboss.graphql.schema import MUTATION_TYPES, QUERY_TYPES
from pboss.inventory.store import GraphStore
from pboss.provisioning.service import ProvisioningService

QUERY = [t for t in QUERY_TYPES if t is not ProvisioningQuery] + [ProvisioningQuery]
MUTATION = [t for t in MUTATION_TYPES if t is not ProvisioningMutation] + [ProvisioningMutation]
SCHEMA = strawberry.Schema(
    query=merge_types("Query", tuple(QUERY)),
    mutation=merge_types("Mutation", tuple(MUTATION)),
    types=[*ELEMENT_TYPES, *ERROR_TYPES],
)

SUBMIT = """
mutation($input: SubmitOrderInput!) {
  submitOrder(input: $input) {
    __typename
    ... on Order { id state crmOrderId history { event state } }
    ... on Error { message code }
    ... on Conflict { reasons }
  }
}"""
RESERVE = """
mutation($id: ID!) {
  reserve(orderId: $id) {
    __typename
    ... on Reservation {
      id state items { id role seq slots element { id kind } }
      explanation { chosen alternatives { label whyLost } excluded { id reason } }
    }
    ... on NoCapacity { message code reasons }
  }
}"""
CONFIRM = """
mutation($id: ID!) {
  confirm(reservationId: $id) {
    __typename
    ... on Reservation { state serviceId service { id kind } }
    ... on Error { code }
  }
}"""
RELEASE = """
mutation($id: ID!) {
  release(reservationId: $id, reason: "changed plans") {
    __typename ... on Error { code message } ... on InvalidState { reasons }
  }
}"""
MILESTONE = """
mutation($id: ID!, $m: Milestone!) {
  recordMilestone(workOrderId: $id, milestone: $m) {
    __typename ... on WorkOrder { milestonesDone nextMilestone } ... on Error { code }
  }
}"""


class Api:
    """Runs operations against the schema as a given role."""

    def __init__(self, store: GraphStore, svc: ProvisioningService, executor: ThreadPoolExecutor):
        self.state: dict[str, Any] = {
            "catalog": svc.catalog,
            "executor": executor,
            "provisioning": svc,
        }
        self.store = store

    def __call__(self, query: str, role: str = "crm", partner: str | None = None, **vs: Any) -> Any:
        ctx = Context(
            store=self.store,
            principal=Principal(role=role, name="test", partner_id=partner),
            settings=Settings(),
            state=self.state,
        )
        result = asyncio.run(SCHEMA.execute(query, variable_values=vs, context_value=ctx))
        assert result.errors is None, result.errors
        return result.data


@pytest.fixture
def api(net: GraphStore, svc: ProvisioningService) -> Iterator[Api]:
    with ThreadPoolExecutor(4) as executor:
        yield Api(net, svc, executor)


def _input(crm: str, **extra: Any) -> dict[str, Any]:
    return {"crmOrderId": crm, "product": "FTTH-100M", "site": "B-JZ", "customer": "H-G", **extra}


def test_order_reserve_confirm_through_graphql(api: Api) -> None:
    made = api(SUBMIT, input=_input("G1"))["submitOrder"]
    assert made["__typename"] == "Order" and made["state"] == "ACKNOWLEDGED"
    assert api(SUBMIT, input=_input("G1"))["submitOrder"]["id"] == made["id"]  # idempotent
    clash = api(SUBMIT, input=_input("G1", site="B-DH"))["submitOrder"]
    assert clash["__typename"] == "Conflict" and clash["reasons"] == [
        "site: 'B-JZ' recorded, 'B-DH' sent"
    ]
    plan = api(
        "query($id: ID!) { orderPlan(orderId: $id) { ... on PathExplanation { chosen } } }",
        id=made["id"],
    )
    assert plan["orderPlan"]["chosen"] == "SPL-JZ-2A"
    res = api(RESERVE, id=made["id"])["reserve"]
    assert res["__typename"] == "Reservation" and res["state"] == "HELD"
    assert res["items"] == [
        {
            "id": "SPL-JZ-2A:3",
            "role": "access",
            "seq": None,
            "slots": None,
            "element": {"id": "SPL-JZ-2A:3", "kind": "SplitterPort"},
        }
    ]
    assert res["explanation"]["chosen"] == "SPL-JZ-2A"
    done = api(CONFIRM, id=res["id"])["confirm"]
    assert done == {
        "__typename": "Reservation",
        "state": "CONFIRMED",
        "serviceId": "SVC-G1",
        "service": {"id": "SVC-G1", "kind": "Service"},
    }
    refused = api(RELEASE, id=res["id"])["release"]
    assert refused["__typename"] == "InvalidState" and refused["code"] == "INVALID_STATE"
    order = api('query { order(crmOrderId: "G1") { ... on Order { state history { event } } } }')[
        "order"
    ]
    assert order["state"] == "COMPLETED"
    assert [h["event"] for h in order["history"]] == [
        "acknowledged",
        "resourcesReserved",
        "serviceActivated",
    ]
    listed = api("query { orders(first: 10) { totalCount edges { node { crmOrderId } } } }")
    assert listed["orders"]["totalCount"] == 1


def test_typed_errors_and_roles(api: Api) -> None:
    faulty = api(SUBMIT, input=_input("G2", site="CP-XX"))["submitOrder"]
    no_cap = api(RESERVE, id=faulty["id"])["reserve"]
    assert no_cap["__typename"] == "NoCapacity" and no_cap["code"] == "NO_CAPACITY"
    assert "CP-XX: no splitter at this site" in no_cap["reasons"]
    missing = api(CONFIRM, id="RSV-NOPE")["confirm"]
    assert missing == {"__typename": "NotFound", "code": "NOT_FOUND"}
    bad = api(SUBMIT, input=_input("G3", product="NOPE"))["submitOrder"]
    assert bad["__typename"] == "ValidationError"
    partner = api(SUBMIT, role="partner", partner="P-TT", input=_input("G4"))["submitOrder"]
    assert partner["__typename"] == "Forbidden"


def test_a_partner_reports_milestones_only_on_its_own_work_orders(api: Api) -> None:
    ll = {"crmOrderId": "G5", "product": "MSTP-LL", "aSite": "CP-XX", "zSite": "B-DH",
          "customer": "E-G", "customerType": "enterprise"}  # fmt: skip
    order = api(SUBMIT, input=ll)["submitOrder"]
    api(RESERVE, id=order["id"])
    wo_id = "WO-G5-1"  # routed over Tietong's PL-1: assigned to P-TT
    other = api(MILESTONE, role="partner", partner="P-OC", id=wo_id, m="SURVEY")
    assert other["recordMilestone"] == {"__typename": "NotFound", "code": "NOT_FOUND"}
    mine = api(MILESTONE, role="partner", partner="P-TT", id=wo_id, m="SURVEY")
    assert mine["recordMilestone"] == {
        "__typename": "WorkOrder",
        "milestonesDone": ["SURVEY"],
        "nextMilestone": "INSTALLATION",
    }
    seen = api(
        'query { workOrder(id: "WO-G5-1") { __typename ... on WorkOrder { assignee } } }',
        role="partner",
        partner="P-OC",
    )
    assert seen["workOrder"]["__typename"] == "NotFound"
