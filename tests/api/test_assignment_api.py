"""Over HTTP, on both stores: dispatching work orders through GraphQL (a batch with its
explanations, a manual choice and its typed refusals, roles)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pboss.assurance.model import TroubleTicket
from pboss.field.model import Crew
from pboss.inventory.model import Site
from pboss.inventory.store import GraphStore
from pboss.provisioning.model import WorkOrder, WorkPurpose
from tests.api.conftest import CRM, Api

PLACEMENT = """
    workOrder crew predictedBreach explanation refusal written plannedEnd
    candidates { crew outcome reason onTime } otherCrews
"""
BATCH = (
    "mutation B($ids: [ID!]) { assignWorkOrders(workOrders: $ids) { __typename "
    "... on WorkOrderAssignment { predictedBreaches unplaced released placements {"
    + PLACEMENT
    + "} } ... on AssignmentRefused { code reasons } ... on NotFound { code id } "
    "... on Forbidden { code } ... on ValidationError { code issues { item reason } } } }"
)
ONE = (
    "mutation O($w: ID!, $c: ID!) { assignWorkOrder(workOrder: $w, crew: $c) { __typename "
    "... on WorkOrderPlacement {"
    + PLACEMENT
    + "} ... on AssignmentRefused { code reasons } ... on NotFound { code id } "
    "... on Forbidden { code } } }"
)


def _field(store: GraphStore) -> None:
    """Two buildings in two regions, a repair crew and an SDH crew, three open work orders."""
    now = datetime.now(UTC)
    every_day = {"shift_start": "00:00", "shift_end": "23:59", "work_days": [1, 2, 3, 4, 5, 6, 7]}
    store.upsert(
        [
            Site(id="FS-1", name="FS-1", region="FR-1", lat=31.2, lon=121.4),
            Site(id="FS-2", name="FS-2", region="FR-2", lat=31.0, lon=121.3),
            Crew(id="CR-REP", skills=["repair"], areas=["FR-1"], site="FS-1", timezone="UTC",
                 **every_day),
            Crew(id="CR-SDH", skills=["mstpSdh"], areas=["FR-2"], site="FS-2", timezone="UTC",
                 **every_day),
        ]
        + [
            WorkOrder(id=w, purpose=WorkPurpose.REPAIR, ticket=f"TT-{w}", assignee="unassigned",
                      skill=skill, site=at, created_at=now, due_at=now + timedelta(hours=72))
            for w, skill, at in (("WO-A", "repair", "FS-1"), ("WO-B", "mstpSdh", "FS-2"),
                                 ("WO-C", "repair", "FS-2"))
        ]
        + [  # the repairs' tickets (without them the repair sweeper cancels the orphans)
            TroubleTicket(id=f"TT-{w}", crm_ticket_id=w, subject="address", address="x",
                          symptom="noSync", state="inProgress", opened_at=now, updated_at=now,
                          work_order=w)
            for w in ("WO-A", "WO-B", "WO-C")
        ],
        actor="test",
        reason="field",
    )  # fmt: skip


def test_assign_work_orders_through_graphql(api: Api, demo_store: GraphStore) -> None:
    """A batch places what it can, explains each, refuses WO-C (no repair crew in FR-2)."""
    _field(demo_store)
    assert api.data(BATCH, key=CRM)["assignWorkOrders"]["__typename"] == "Forbidden"
    got = api.data(BATCH, ids=["WO-A", "WO-B", "WO-C"])["assignWorkOrders"]
    assert got["__typename"] == "WorkOrderAssignment"
    by = {p["workOrder"]: p for p in got["placements"]}
    assert by["WO-A"]["crew"] == "CR-REP" and by["WO-A"]["written"]
    assert by["WO-B"]["crew"] == "CR-SDH" and not by["WO-B"]["predictedBreach"]
    assert by["WO-C"]["crew"] is None and by["WO-C"]["refusal"] == "no_crew"
    assert {c["crew"]: c["outcome"] for c in by["WO-B"]["candidates"]} == {"CR-SDH": "chosen"}
    assert by["WO-B"]["otherCrews"] == 1  # CR-REP: neither mstpSdh nor FR-2
    reasons = {c["crew"]: c["reason"] for c in by["WO-C"]["candidates"]}
    assert reasons["CR-REP"].startswith("area") and reasons["CR-SDH"].startswith("skill")
    wo = demo_store.get("WO-A")
    assert isinstance(wo, WorkOrder) and wo.crew == "CR-REP"
    again = api.data(BATCH, ids=["WO-A"])["assignWorkOrders"]
    assert again["placements"][0]["written"] is False  # already assigned: left as it is


def test_assign_one_through_graphql_refuses_typed(api: Api, demo_store: GraphStore) -> None:
    """A crew without the skill: AssignmentRefused, nothing written; an unknown crew: NotFound."""
    _field(demo_store)
    refused = api.data(ONE, w="WO-B", c="CR-REP")["assignWorkOrder"]
    assert refused["__typename"] == "AssignmentRefused" and refused["code"] == "CREW_LACKS_SKILL"
    wo = demo_store.get("WO-B")
    assert isinstance(wo, WorkOrder) and wo.crew is None
    assert api.data(ONE, w="WO-B", c="CR-X")["assignWorkOrder"] == {
        "__typename": "NotFound",
        "code": "NOT_FOUND",
        "id": "CR-X",
    }
    ok = api.data(ONE, w="WO-B", c="CR-SDH")["assignWorkOrder"]
    assert ok["__typename"] == "WorkOrderPlacement" and ok["crew"] == "CR-SDH", ok
