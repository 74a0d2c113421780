"""The field API over HTTP on each store: crews (partner isolation, phones for the operator only,
COVERS kept in step with areas), removal refused with open work, sickness unassigning work, work
queues with filters and totals, and the field engineer's step report with its typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.field.model import Crew
from pboss.http.app import create_app
from pboss.inventory.demo import demo_crews
from pboss.inventory.model import Edge
from pboss.inventory.store import GraphStore
from pboss.provisioning.model import Order, Reservation, WorkOrder
from tests.api.conftest import ENGINEER, PARTNER_OC, PARTNER_TT, Api, api_settings

NOW = datetime.now(UTC).replace(microsecond=0)

CREWS = """
query($skill: Skill, $area: String, $owner: String, $state: CrewState) {
  crews(skill: $skill, area: $area, owner: $owner, state: $state) {
    total active unavailable
    crews { id owner areas state members { name phone } }
  }
}"""
UPSERT = """
mutation($input: CrewInput!) {
  upsertCrew(input: $input) {
    __typename
    ... on Crew { id areas skills members { name phone } }
    ... on ValidationError { message issues { field reason } }
    ... on Forbidden { message }
  }
}"""
REMOVE = """
mutation($id: ID!) {
  removeCrew(crewId: $id) {
    __typename
    ... on CrewRemoved { id }
    ... on CrewHasOpenWork { message crewId workOrders }
  }
}"""
SICK = """
mutation($id: ID!) {
  setCrewState(crewId: $id, state: UNAVAILABLE, reason: "flu") {
    __typename
    ... on CrewStateChange { crew { id state } unassigned }
    ... on Error { message }
  }
}"""
QUEUE = """
query($crew: ID, $partner: String, $state: WorkOrderState, $site: ID, $due: DateTime,
      $jeopardy: Boolean, $breached: Boolean, $unassigned: Boolean, $first: Int, $after: String) {
  workOrders(crew: $crew, partner: $partner, state: $state, site: $site, dueBefore: $due,
             inJeopardy: $jeopardy, breached: $breached, unassigned: $unassigned,
             first: $first, after: $after) {
    totals { total open held inJeopardy breached }
    pageInfo { hasNextPage endCursor }
    edges { node { id crewId site state } }
  }
}"""
STEP = """
mutation($wo: ID!, $step: FieldStep!, $reason: String! = "", $heldFor: HeldFor! = US) {
  recordFieldStep(workOrder: $wo, step: $step, reason: $reason, heldFor: $heldFor) {
    __typename
    ... on WorkOrder { id state milestonesDone heldSince steps { step actor reason heldFor } }
    ... on InvalidState { message reasons }
    ... on NotYourWork { message workOrderId }
    ... on NotFound { message }
  }
}"""


def _work(
    store: GraphStore,
    wid: str,
    *,
    crew: str | None,
    site: str = "B-DH",
    due_in_hours: float = 48,
    state: str = "open",
    jeopardy: bool = False,
    breached: bool = False,
    partner: str | None = None,
    escalation: int = 0,
) -> None:
    """A construction work order with its order and hold, assigned to `crew`."""
    created = NOW - timedelta(hours=1)
    order = Order(
        id=f"ORD-{wid}",
        crm_order_id=wid,
        product="CABLE-BB",
        technology="cable",
        site=site,
        customer="C-1",
        state="inProgress",
        created_at=created,
        updated_at=created,
    )
    res = Reservation(
        id=f"RSV-{wid}",
        order=order.id,
        technology="cable",
        valid_from=created,
        valid_until=NOW + timedelta(days=5),
    )
    wo = WorkOrder(
        id=wid,
        order=order.id,
        reservation=res.id,
        assignee=partner or f"crew:{site}",
        assignee_type="partner" if partner else "own_crew",
        crew=crew,
        site=site,
        product="CABLE-BB",
        state=state,
        created_at=created,
        due_at=NOW + timedelta(hours=due_in_hours),
        jeopardy=jeopardy,
        breached=breached,
        escalation=escalation,
    )
    edges = [Edge(type="ASSIGNED_TO", src=wid, dst=crew)] if crew else []
    store.upsert([order, res, wo], edges, actor="test", reason="work")


@pytest.fixture
def field_api(demo_store: GraphStore) -> Iterator[Api]:
    """The app on the reference network plus its crews and a few work orders."""
    crews, covers = demo_crews()
    demo_store.upsert(crews, covers, actor="test", reason="crews")
    _work(demo_store, "WO-A", crew="CREW-LJZ-T", site="CP-XX", due_in_hours=2, jeopardy=True)
    _work(demo_store, "WO-B", crew="CREW-LJZ-T", due_in_hours=-3, jeopardy=True, breached=True)
    _work(demo_store, "WO-C", crew="CREW-OC-1", due_in_hours=30, partner="P-OC")
    _work(demo_store, "WO-D", crew="CREW-LJZ-T", due_in_hours=10, state="done")
    _work(demo_store, "WO-E", crew=None, due_in_hours=20, state="held")
    with TestClient(create_app(api_settings(), store=demo_store)) as client:
        yield Api(client)


def test_crews_are_filtered_and_partners_see_only_their_own(field_api: Api) -> None:
    every = field_api.data(CREWS)["crews"]
    assert (every["total"], every["active"], every["unavailable"]) == (4, 4, 0)
    assert every["crews"][0]["members"][0]["phone"] == "13800000003"  # the operator sees phones
    sdh = field_api.data(CREWS, skill="MSTP_SDH")["crews"]["crews"]
    assert [c["id"] for c in sdh] == ["CREW-LJZ-T", "CREW-TT-1"]
    assert [c["id"] for c in field_api.data(CREWS, area="B-DH")["crews"]["crews"]] == [
        "CREW-LJZ-T",
        "CREW-OC-1",
    ]
    mine = field_api.data(CREWS, PARTNER_TT)["crews"]
    assert [c["id"] for c in mine["crews"]] == ["CREW-TT-1"] and mine["total"] == 1
    assert mine["crews"][0]["members"] == [{"name": "赵强", "phone": None}]
    other = field_api.data('{ crew(id: "CREW-OC-1") { __typename } }', PARTNER_TT)
    assert other["crew"]["__typename"] == "NotFound"


def test_upsert_crew_keeps_covers_in_step_and_refuses_bad_areas(
    field_api: Api, demo_store: GraphStore
) -> None:
    crew = {
        "id": "CREW-NEW",
        "name": "新班组",
        "skills": ["FTTH_INSTALL"],
        "areas": ["B-JZ", "OLT-1"],
        "shiftStart": "25:00",
    }
    bad = field_api.data(UPSERT, input=crew)["upsertCrew"]
    assert bad["__typename"] == "ValidationError"
    assert [i["field"] for i in bad["issues"]] == ["shift_start"]
    assert demo_store.get("CREW-NEW") is None
    crew["shiftStart"] = "08:00"
    bad = field_api.data(UPSERT, input=crew)["upsertCrew"]
    assert (
        bad["__typename"] == "ValidationError"
        and "'OLT-1' is not a Region or Site" in bad["message"]
    )
    assert demo_store.get("CREW-NEW") is None
    crew["areas"] = ["B-JZ", "EX-1"]
    crew["members"] = [{"name": "周", "phone": "139", "skills": ["FTTH_INSTALL"]}]
    ok = field_api.data(UPSERT, input=crew)["upsertCrew"]
    assert ok["__typename"] == "Crew" and ok["areas"] == ["B-JZ", "EX-1"]
    covers = sorted(e.dst for e, _ in demo_store.neighbours("CREW-NEW", "out", ["COVERS"]))
    assert covers == ["B-JZ", "EX-1"]
    crew["areas"] = ["R-PD"]
    field_api.data(UPSERT, input=crew)
    covers = sorted(e.dst for e, _ in demo_store.neighbours("CREW-NEW", "out", ["COVERS"]))
    assert covers == ["R-PD"]
    # a partner may not create a crew for the operator, nor for another partner
    crew["owner"] = "P-OC"
    refused = field_api.data(UPSERT, PARTNER_TT, input=crew)["upsertCrew"]
    assert refused["__typename"] == "Forbidden"


def test_remove_crew_is_refused_while_it_has_open_work(
    field_api: Api, demo_store: GraphStore
) -> None:
    refused = field_api.data(REMOVE, id="CREW-LJZ-T")["removeCrew"]
    assert refused["__typename"] == "CrewHasOpenWork"
    assert refused["workOrders"] == ["WO-A", "WO-B"]  # WO-D is done
    assert isinstance(demo_store.get("CREW-LJZ-T"), Crew)
    assert demo_store.get("CREW-LJZ-T").state == "active"  # type: ignore[union-attr]
    assert field_api.data(REMOVE, id="CREW-ZJ-1")["removeCrew"] == {
        "__typename": "CrewRemoved",
        "id": "CREW-ZJ-1",
    }
    assert demo_store.get("CREW-ZJ-1") is None


def test_a_sick_crew_leaves_its_open_work_unassigned_with_history(
    field_api: Api, demo_store: GraphStore
) -> None:
    out = field_api.data(SICK, id="CREW-LJZ-T")["setCrewState"]
    assert out["crew"]["state"] == "UNAVAILABLE" and out["unassigned"] == ["WO-A", "WO-B"]
    wo = demo_store.get("WO-A")
    assert isinstance(wo, WorkOrder) and wo.crew is None
    assert wo.events()[-1].event == "unassigned" and "flu" in wo.events()[-1].note
    done = demo_store.get("WO-D")
    assert isinstance(done, WorkOrder) and done.crew == "CREW-LJZ-T"
    queue = field_api.data(QUEUE, unassigned=True)["workOrders"]
    assert [e["node"]["id"] for e in queue["edges"]] == ["WO-B", "WO-A", "WO-E"]
    # now it can go
    assert field_api.data(REMOVE, id="CREW-LJZ-T")["removeCrew"]["__typename"] == "CrewRemoved"


def test_work_queues_filter_and_count(field_api: Api) -> None:
    def ids(data: dict[str, Any]) -> list[str]:
        return [e["node"]["id"] for e in data["workOrders"]["edges"]]

    every = field_api.data(QUEUE)["workOrders"]
    assert every["totals"] == {"total": 5, "open": 3, "held": 1, "inJeopardy": 2, "breached": 1}
    assert [e["node"]["id"] for e in every["edges"]] == ["WO-B", "WO-A", "WO-D", "WO-E", "WO-C"]
    assert ids(field_api.data(QUEUE, crew="CREW-LJZ-T", state="OPEN")) == ["WO-B", "WO-A"]
    assert ids(field_api.data(QUEUE, jeopardy=True, breached=False)) == ["WO-A"]
    assert ids(field_api.data(QUEUE, breached=True)) == ["WO-B"]
    assert ids(field_api.data(QUEUE, site="CP-XX")) == ["WO-A"]
    due = (NOW + timedelta(hours=12)).isoformat()
    assert ids(field_api.data(QUEUE, due=due)) == ["WO-B", "WO-A", "WO-D"]
    assert ids(field_api.data(QUEUE, partner="P-OC")) == ["WO-C"]
    page = field_api.data(QUEUE, first=2)["workOrders"]
    assert page["pageInfo"]["hasNextPage"] and page["totals"]["total"] == 5
    rest = field_api.data(QUEUE, first=10, after=page["pageInfo"]["endCursor"])
    assert ids(rest) == ["WO-D", "WO-E", "WO-C"]
    # a partner key sees its own work only, whatever it asks for
    assert ids(field_api.data(QUEUE, PARTNER_OC)) == ["WO-C"]
    assert ids(field_api.data(QUEUE, PARTNER_OC, crew="CREW-LJZ-T")) == []
    assert field_api.data(QUEUE, PARTNER_TT)["workOrders"]["totals"]["total"] == 0


def test_the_field_app_reports_steps_with_typed_errors(field_api: Api) -> None:
    mine = field_api.data(STEP, PARTNER_OC, wo="WO-C", step="ACCEPTED")["recordFieldStep"]
    assert mine["__typename"] == "WorkOrder"
    [accepted] = mine["steps"]
    assert accepted["step"] == "accepted" and accepted["actor"].startswith("partner:")
    assert (accepted["reason"], accepted["heldFor"]) == ("", None)
    theirs = field_api.data(STEP, PARTNER_TT, wo="WO-C", step="ACCEPTED")["recordFieldStep"]
    assert theirs["__typename"] == "NotYourWork" and theirs["workOrderId"] == "WO-C"
    unknown = field_api.data(STEP, PARTNER_TT, wo="WO-NONE", step="ACCEPTED")["recordFieldStep"]
    assert unknown["__typename"] == "NotYourWork"  # a partner learns nothing of others' work
    assert (
        field_api.data(STEP, wo="WO-NONE", step="SURVEY")["recordFieldStep"]["__typename"]
        == "NotFound"
    )
    early = field_api.data(STEP, PARTNER_OC, wo="WO-C", step="INSTALLATION")["recordFieldStep"]
    assert early["__typename"] == "InvalidState" and "out of order" in early["message"]
    held = field_api.data(
        STEP, PARTNER_OC, wo="WO-C", step="HELD", reason="not home", heldFor="CUSTOMER"
    )["recordFieldStep"]
    assert held["state"] == "HELD" and held["heldSince"] is not None
    assert held["steps"][-1]["heldFor"] == "customer"
    survey = field_api.data(STEP, ENGINEER, wo="WO-C", step="SURVEY")["recordFieldStep"]
    assert survey["state"] == "OPEN" and survey["milestonesDone"] == ["SURVEY"]
    assert survey["heldSince"] is None


def test_record_milestone_says_whose_hold_it_is(field_api: Api, demo_store: GraphStore) -> None:
    hold = """
    mutation($wo: ID!, $whose: HeldFor!) {
      recordMilestone(workOrderId: $wo, milestone: SURVEY, outcome: HELD, note: "away",
                      heldFor: $whose) {
        __typename ... on WorkOrder { state heldSince steps { step actor heldFor } }
      }
    }"""
    ours = field_api.data(hold, wo="WO-A", whose="US")["recordMilestone"]
    assert ours["state"] == "HELD" and ours["heldSince"] is None
    theirs = field_api.data(hold, wo="WO-C", whose="CUSTOMER")["recordMilestone"]
    assert theirs["state"] == "HELD" and theirs["heldSince"] is not None
    [step] = theirs["steps"]
    assert step["heldFor"] == "customer" and step["actor"].startswith("engineer:")


def test_a_work_order_says_which_queue_it_is_escalated_to(
    field_api: Api, demo_store: GraphStore
) -> None:
    _work(demo_store, "WO-X", crew="CREW-OC-1", partner="P-OC", breached=True, escalation=2)
    query = "{ workOrders(breached: true) { edges { node { id escalation escalatedTo } } } }"
    got = {e["node"]["id"]: e["node"] for e in field_api.data(query)["workOrders"]["edges"]}
    assert got["WO-X"]["escalatedTo"] == "partner-manager"  # build-partner: supervisor, then it
    assert got["WO-B"] == {"id": "WO-B", "escalation": 0, "escalatedTo": None}


def test_a_sick_crews_work_goes_to_a_crew_that_can_take_it(
    field_api: Api, demo_store: GraphStore
) -> None:
    spare = Crew(
        id="CREW-DH-2", name="都华有线二班", site="B-DH", skills=["cableTv"], areas=["B-DH"],
        work_days=[1, 2, 3, 4, 5, 6, 7],
    )  # fmt: skip
    demo_store.upsert(
        [spare], [Edge(type="COVERS", src="CREW-DH-2", dst="B-DH")], actor="t", reason="t"
    )
    out = field_api.data(SICK, id="CREW-LJZ-T")["setCrewState"]
    assert out["unassigned"] == ["WO-A", "WO-B"]
    moved = demo_store.get("WO-B")
    assert isinstance(moved, WorkOrder) and moved.crew == "CREW-DH-2"  # same skill, covers B-DH
    stays = demo_store.get("WO-A")
    assert isinstance(stays, WorkOrder) and stays.crew is None  # nobody else covers CP-XX
