"""Over HTTP, on both stores: incidents through GraphQL (issue 19 item 6): the list with filters
and totals, one incident with its repair, impact, explanation and evidence, the dispatch, resolve
and close mutations with typed errors, and what a partner key sees (its own only, no tickets,
no customers)."""

from __future__ import annotations

from pboss.assurance.model import TicketState, TroubleTicket
from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api
from tests.api.test_events import events
from tests.assurance.repair_network import open_incident, ticket

INCIDENT = """
    __typename
    ... on Incident {
      id state priority suspected dueAt jeopardy breached escalation partners
      evidence { ticketCount alarmCount tickets alarms shareAffected }
      explanation { chosen candidates { resource whyLost } }
      repair { id state assignee assigneeType crew skill site slaHours dueAt }
      impact(first: 10) {
        services customers bySlaTier { key count } byProduct { key count }
        riders { service customer customerName slaTier }
      }
    }
    ... on IncidentStateRefused { code message reasons }
    ... on NotFound { code id }
    ... on Forbidden { code }
"""
ONE = (
    "query Q($id: ID!) { incident(id: $id) {"
    + INCIDENT.replace("... on IncidentStateRefused { code message reasons }", "")
    + "} }"
)
STEP = "mutation M($id: ID!, $note: String!) { %s(id: $id, note: $note) {" + INCIDENT + "} }"
DISPATCH = "mutation D($id: ID!) { dispatchIncident(id: $id) {" + INCIDENT + "} }"
LIST = """
query L($states: [IncidentState!], $site: String, $resource: ID, $partner: String,
        $priority: IncidentPriority, $first: Int!, $after: String) {
  incidents(states: $states, site: $site, resource: $resource, partner: $partner,
            priority: $priority, first: $first, after: $after) {
    totalCount edges { cursor node { id state suspected } } pageInfo { hasNextPage endCursor }
  }
}
"""


def open_repairs(store: GraphStore) -> None:
    """A Tietong link incident (a platinum leased line) and a splitter incident (two homes)."""
    open_incident(store, "INC-TT", "PL-1", [ticket("SVC-E1-LL", 1)])
    open_incident(store, "INC-JZ", "SPL-JZ-2A", [ticket("SVC-H1-BB", 2), ticket("SVC-H2-BB", 3)])


def test_dispatch_resolve_and_close_through_graphql(api: Api, demo_store: GraphStore) -> None:
    open_repairs(demo_store)
    tt = api.data(DISPATCH, ENGINEER, id="INC-TT")["dispatchIncident"]
    assert (tt["repair"]["assignee"], tt["repair"]["assigneeType"]) == ("P-TT", "partner")
    assert tt["repair"]["slaHours"] == 4 and tt["repair"]["crew"] is None
    jz = api.data(DISPATCH, ENGINEER, id="INC-JZ")["dispatchIncident"]
    assert (jz["repair"]["assignee"], jz["repair"]["site"]) == ("crew:B-JZ", "B-JZ")
    assert jz["repair"]["slaHours"] == 24
    impact = jz["impact"]
    assert impact["riders"][0]["slaTier"] == "gold"  # gold first (H-2 on SPL-JZ-2A:2)
    assert impact["riders"][0]["customerName"] == "王芳"
    assert [c["key"] for c in impact["bySlaTier"]] == ["gold", "standard"]
    # CRM reads but does not act
    assert api.data(DISPATCH, CRM, id="INC-JZ")["dispatchIncident"]["__typename"] == "Forbidden"
    # Tietong resolves its own, not the splitter's
    other = api.data(STEP % "resolveIncident", PARTNER_TT, id="INC-JZ", note="x")
    assert other["resolveIncident"]["__typename"] == "NotFound"
    done = api.data(STEP % "resolveIncident", PARTNER_TT, id="INC-TT", note="spliced")
    assert done["resolveIncident"]["state"] == "RESOLVED"
    t = demo_store.get("TT-1")
    assert isinstance(t, TroubleTicket) and t.state == TicketState.RESOLVED
    refused = api.data(STEP % "closeIncident", ENGINEER, id="INC-JZ", note="")["closeIncident"]
    assert refused["__typename"] == "IncidentStateRefused"
    assert refused["reasons"] == ["resolve it before closing"]
    closed = api.data(STEP % "closeIncident", ENGINEER, id="INC-TT", note="ok")["closeIncident"]
    assert closed["state"] == "CLOSED"
    missing = api.data(DISPATCH, ENGINEER, id="INC-NONE")["dispatchIncident"]
    assert missing == {"__typename": "NotFound", "code": "NOT_FOUND", "id": "INC-NONE"}
    again = api.data(DISPATCH, ENGINEER, id="INC-TT")["dispatchIncident"]
    assert again["__typename"] == "IncidentStateRefused" and "closed" in again["message"]


def test_the_list_filters_pages_and_counts(api: Api, demo_store: GraphStore) -> None:
    open_repairs(demo_store)
    api.data(DISPATCH, ENGINEER, id="INC-TT")
    every = api.data(LIST, ENGINEER, first=1)["incidents"]
    assert every["totalCount"] == 2 and every["pageInfo"]["hasNextPage"]
    rest = api.data(LIST, ENGINEER, first=1, after=every["pageInfo"]["endCursor"])["incidents"]
    assert rest["totalCount"] == 2 and not rest["pageInfo"]["hasNextPage"]
    ids = {every["edges"][0]["node"]["id"], rest["edges"][0]["node"]["id"]}
    assert ids == {"INC-TT", "INC-JZ"}

    def ids_of(**filters: object) -> list[str]:
        page = api.data(LIST, ENGINEER, first=50, **filters)["incidents"]
        return sorted(e["node"]["id"] for e in page["edges"])

    assert ids_of(site="B-JZ") == ["INC-JZ"]
    assert ids_of(resource="PL-1") == ["INC-TT"]
    assert ids_of(partner="P-TT") == ["INC-TT"]
    assert ids_of(priority="CRITICAL") == ["INC-TT"]
    assert ids_of(states=["RESOLVED"]) == []
    assert ids_of(states=["OPEN"]) == ["INC-JZ", "INC-TT"]


def test_a_partner_key_sees_only_its_incidents_without_customers(
    api: Api, demo_store: GraphStore
) -> None:
    open_repairs(demo_store)
    api.data(DISPATCH, ENGINEER, id="INC-TT")
    page = api.data(LIST, PARTNER_TT, first=50)["incidents"]
    assert [e["node"]["id"] for e in page["edges"]] == ["INC-TT"] and page["totalCount"] == 1
    assert api.data(LIST, PARTNER_OC, first=50)["incidents"]["totalCount"] == 0
    seen = api.data(ONE, PARTNER_TT, id="INC-TT")["incident"]
    assert seen["evidence"]["tickets"] == [] and seen["evidence"]["ticketCount"] == 1
    assert seen["impact"]["riders"] == [] and seen["impact"]["services"] >= 1
    assert seen["partners"] == ["P-TT"]
    text = str(seen)
    assert "'E-1'" not in text and "'TT-1'" not in text and "上海信息技术" not in text
    hidden = api.data(ONE, PARTNER_TT, id="INC-JZ")["incident"]
    assert hidden == {"__typename": "NotFound", "code": "NOT_FOUND", "id": "INC-JZ"}
    errors = api.errors(LIST, PARTNER_TT, first=50, partner="P-OC")
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


def test_a_partner_reads_its_repairs_events_in_its_view(api: Api, demo_store: GraphStore) -> None:
    open_repairs(demo_store)
    api.data(DISPATCH, ENGINEER, id="INC-TT")
    api.data(DISPATCH, ENGINEER, id="INC-JZ")
    page = events(api, key=PARTNER_TT, first=50)
    bodies = [e["node"]["body"] for e in page["edges"]]
    # its repair, and the leased line's ticket over its link going in progress (its view)
    assert [b["eventType"] for b in bodies] == [
        "RepairWorkOrderCreateEvent",
        "TroubleTicketStateChangeEvent",
    ]
    ticket_seen = bodies[1]["event"]["troubleTicket"]
    assert ticket_seen["state"] == "inProgress"
    assert "customer" not in ticket_seen and "contactPhone" not in ticket_seen
    event = bodies[0]["event"]
    assert event["repairWorkOrder"]["assignee"] == "P-TT"
    assert set(event) == {"repairWorkOrder", "incident"}  # no change note, no tickets
    assert "ticketId" not in event["repairWorkOrder"]
    assert events(api, key=PARTNER_OC, first=50)["edges"] == []
    crm = [e["node"]["eventType"] for e in events(api, key=CRM, first=50)["edges"]]
    assert crm.count("RepairWorkOrderCreateEvent") == 2
    assert crm.count("TroubleTicketStateChangeEvent") == 3
