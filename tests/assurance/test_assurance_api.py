"""Over HTTP, on both stores: tickets and alarms through GraphQL (open, repeat, conflict, state
changes, raise/clear, lists with filters and totals), typed errors, roles, and what a partner
key sees (only its own resources' tickets and alarms, never household names or phones)."""

from __future__ import annotations

from typing import Any

from pboss.assurance.model import TroubleTicket
from pboss.assurance.service import AssuranceService
from pboss.inventory.store import GraphStore
from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api

TICKET = """
    id crmTicketId subject symptom priority state customer service address description
    contactName contactPhone product slaTier path sites partners incident
    history { event state actor note }
"""
OPEN = (
    "mutation O($input: OpenTroubleTicketInput!) { openTroubleTicket(input: $input) { "
    "__typename ... on TroubleTicketOpened { created ticket {" + TICKET + "} "
    "knownIncident { id suspected estimatedRestoration } } "
    "... on NotFound { code id kind } ... on TicketConflict { code id fields } "
    "... on AddressUnresolved { code candidates } ... on ValidationError { code issues { field } } "
    "... on Forbidden { code } } }"
)
STATE = (
    "mutation S($id: ID!, $state: TicketState!) { updateTroubleTicketState(id: $id, "
    "state: $state) { __typename ... on TroubleTicket { state } "
    "... on TicketStateRefused { code fromState toState allowed } ... on NotFound { code } "
    "... on Forbidden { code } } }"
)
ONE = (
    "query T($id: ID!) { troubleTicket(id: $id) { __typename ... on TroubleTicket {"
    + TICKET
    + "} ... on NotFound { code } } }"
)
LIST = (
    "query L($states: [TicketState!], $resource: ID, $partner: ID, $first: Int!, $after: String)"
    " { troubleTickets(states: $states, resource: $resource, partner: $partner, first: $first, "
    "after: $after) { __typename ... on TroubleTicketConnection { totalCount "
    "pageInfo { hasNextPage endCursor } edges { node { id customer contactPhone path } } } "
    "... on Forbidden { code } } }"
)
RAISE = (
    "mutation R($input: RaiseAlarmInput!) { raiseAlarm(input: $input) { __typename "
    "... on AlarmApplied { outcome alarm { id state severity previousStatus partners "
    "history { actor note } } } ... on NotFound { code id } "
    "... on ValidationError { code issues { field reason } } ... on Forbidden { code } } }"
)
CLEAR = (
    "mutation C($input: ClearAlarmInput!) { clearAlarm(input: $input) { __typename "
    "... on AlarmApplied { outcome alarm { state } } ... on NotFound { code } } }"
)
ALARMS = (
    "query A($severity: AlarmSeverity, $partner: ID) { alarms(severity: $severity, "
    "partner: $partner) { __typename ... on AlarmConnection { totalCount "
    "edges { node { id resource severity history { actor } } } } ... on Forbidden { code } } }"
)


def open_(api: Api, key: str = CRM, **fields: Any) -> dict[str, Any]:
    return api.data(OPEN, key, input=fields)["openTroubleTicket"]


def test_open_repeat_conflict_and_errors(api: Api, demo_store: GraphStore) -> None:
    first = open_(api, crmTicketId="G1", symptom="NO_SYNC", service="SVC-H2-BB",
                  contactName="王芳", contactPhone="13822222222", priority="HIGH")  # fmt: skip
    assert first["__typename"] == "TroubleTicketOpened" and first["created"]
    t = first["ticket"]
    assert (t["id"], t["state"], t["slaTier"], t["customer"]) == (
        "TT-G1", "ACKNOWLEDGED", "gold", "H-2",
    )  # fmt: skip
    assert t["path"][0] == "ONT-2" and t["history"][0]["event"] == "opened"
    # nothing is known on its path yet, so the answer names no incident; the batch correlator
    # (the app's thread, or a drain now) then opens one for it (a lone ticket: its own ONT)
    assert first["knownIncident"] is None and t["incident"] is None
    AssuranceService(demo_store).correlate_pending()
    stored = demo_store.get("TT-G1")
    assert isinstance(stored, TroubleTicket) and stored.incident is not None
    again = open_(api, crmTicketId="G1", symptom="NO_SYNC", service="SVC-H2-BB",
                  contactName="王芳", contactPhone="13822222222", priority="HIGH")  # fmt: skip
    assert not again["created"] and again["ticket"]["id"] == "TT-G1"
    assert again["knownIncident"]["id"] == stored.incident  # named at once from now on
    clash = open_(api, crmTicketId="G1", symptom="SLOW", service="SVC-H2-BB",
                  contactName="王芳", contactPhone="13822222222", priority="HIGH")  # fmt: skip
    assert clash == {"__typename": "TicketConflict", "code": "TICKET_CONFLICT", "id": "TT-G1",
                     "fields": ["symptom"]}  # fmt: skip
    missing = open_(api, crmTicketId="G2", symptom="SLOW", service="SVC-404")
    assert missing == {"__typename": "NotFound", "code": "NOT_FOUND", "id": "SVC-404",
                       "kind": "Service"}  # fmt: skip
    both = open_(api, crmTicketId="G3", symptom="SLOW", service="SVC-H1-BB", customer="H-1")
    assert both["__typename"] == "ValidationError"
    many = open_(api, crmTicketId="G4", symptom="SLOW", address="B-JZ 1号")
    assert (many["__typename"], many["candidates"]) == ("AddressUnresolved", 3)
    assert open_(api, PARTNER_TT, crmTicketId="G5", symptom="SLOW", service="SVC-H1-BB") == {
        "__typename": "Forbidden", "code": "FORBIDDEN",
    }  # fmt: skip
    assert demo_store.counts().get("TroubleTicket") == 1


def test_states_through_the_api(api: Api) -> None:
    open_(api, crmTicketId="S1", symptom="SLOW", customer="H-4")
    moved = api.data(STATE, ENGINEER, id="S1", state="IN_PROGRESS")["updateTroubleTicketState"]
    assert moved == {"__typename": "TroubleTicket", "state": "IN_PROGRESS"}
    refused = api.data(STATE, ENGINEER, id="TT-S1", state="CLOSED")["updateTroubleTicketState"]
    assert refused["__typename"] == "TicketStateRefused"
    assert refused["fromState"] == "IN_PROGRESS" and "RESOLVED" in refused["allowed"]
    gone = api.data(STATE, ENGINEER, id="TT-NOPE", state="CLOSED")["updateTroubleTicketState"]
    assert gone["__typename"] == "NotFound"
    assert (
        api.data(STATE, PARTNER_TT, id="S1", state="RESOLVED")["updateTroubleTicketState"][
            "__typename"
        ]
        == "Forbidden"
    )


def test_lists_filter_page_and_count(api: Api) -> None:
    for crm, svc in (("1", "SVC-H1-BB"), ("2", "SVC-H2-BB"), ("3", "SVC-H4-BB")):
        open_(api, crmTicketId=crm, symptom="SLOW", service=svc)
    page = api.data(LIST, CRM, resource="SPL-JZ-1", first=1)["troubleTickets"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"]
    assert [e["node"]["id"] for e in page["edges"]] == ["TT-1"]
    rest = api.data(LIST, CRM, resource="SPL-JZ-1", first=5, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["troubleTickets"]["edges"]] == ["TT-2"]
    acked = api.data(LIST, CRM, states=["ACKNOWLEDGED"], first=50)["troubleTickets"]
    assert acked["totalCount"] == 3


def test_partner_sees_only_tickets_on_its_resources_without_household_data(api: Api) -> None:
    open_(api, crmTicketId="LL", symptom="LEASED_LINE_DOWN", customer="E-1",
          contactName="张经理", contactPhone="13900000000", description="专线中断")  # fmt: skip
    open_(api, crmTicketId="HH", symptom="NO_SYNC", service="SVC-H1-BB",
          contactName="张伟", contactPhone="13811111111")  # fmt: skip
    open_(api, crmTicketId="CB", symptom="SLOW", service="SVC-H5-CB", contactName="陈静")
    mine = api.data(LIST, PARTNER_TT, first=50)["troubleTickets"]
    assert mine["totalCount"] == 1
    [node] = [e["node"] for e in mine["edges"]]
    assert node == {"id": "TT-LL", "customer": None, "contactPhone": None, "path": ["PL-1"]}
    seen = api.data(ONE, PARTNER_TT, id="TT-LL")["troubleTicket"]
    assert seen["customer"] is None and seen["contactName"] is None and seen["slaTier"] is None
    assert seen["description"] is None and seen["partners"] == ["P-TT"]
    assert all(h["actor"] is None and h["note"] is None for h in seen["history"])
    assert api.data(ONE, PARTNER_TT, id="TT-HH")["troubleTicket"]["__typename"] == "NotFound"
    assert api.data(ONE, PARTNER_OC, id="TT-LL")["troubleTicket"]["__typename"] == "NotFound"
    assert api.data(ONE, PARTNER_OC, id="TT-CB")["troubleTicket"]["path"] == ["PA-DH-OC"]
    other = api.data(LIST, PARTNER_TT, partner="P-OC", first=5)["troubleTickets"]
    assert other["__typename"] == "Forbidden"
    # the operator sees it all
    full = api.data(ONE, CRM, id="LL")["troubleTicket"]
    assert full["contactPhone"] == "13900000000" and full["customer"] == "E-1"


def test_alarms_through_the_api(api: Api, demo_store: GraphStore) -> None:
    raise_input = {"resource": "PL-1", "alarmType": "COMMUNICATIONS", "probableCause": "LOS",
                   "severity": "CRITICAL", "time": "2026-03-02T09:00:00Z"}  # fmt: skip
    raised = api.data(RAISE, ENGINEER, input=raise_input)["raiseAlarm"]
    assert raised["outcome"] == "raised" and raised["alarm"]["previousStatus"] == "available"
    assert demo_store.get("PL-1").status == "faulty"  # type: ignore[union-attr]
    again = api.data(RAISE, ADMIN, input=raise_input)["raiseAlarm"]
    assert again["outcome"] == "unchanged" and again["alarm"]["id"] == raised["alarm"]["id"]
    missing = api.data(RAISE, ENGINEER, input={**raise_input, "resource": "X"})["raiseAlarm"]
    assert missing == {"__typename": "NotFound", "code": "NOT_FOUND", "id": "X"}
    blank = api.data(RAISE, ENGINEER, input={**raise_input, "probableCause": " "})["raiseAlarm"]
    assert blank["__typename"] == "ValidationError"
    assert api.data(RAISE, CRM, input=raise_input)["raiseAlarm"]["__typename"] == "Forbidden"
    # partners read alarms on their own resources only, without actors
    tt = api.data(ALARMS, PARTNER_TT)["alarms"]
    assert tt["totalCount"] == 1 and tt["edges"][0]["node"]["history"][0]["actor"] is None
    assert api.data(ALARMS, PARTNER_OC)["alarms"]["totalCount"] == 0
    assert api.data(ALARMS, CRM, severity="MAJOR")["alarms"]["totalCount"] == 1
    clear_input = {k: raise_input[k] for k in ("resource", "alarmType", "probableCause")}
    cleared = api.data(CLEAR, ENGINEER, input=clear_input)["clearAlarm"]
    assert cleared == {"__typename": "AlarmApplied", "outcome": "cleared",
                       "alarm": {"state": "CLEARED"}}  # fmt: skip
    assert demo_store.get("PL-1").status == "available"  # type: ignore[union-attr]


SWEEP = (
    "mutation { sweepUtilisation { __typename ... on UtilisationSwept { readings raised "
    "cleared failed } ... on Forbidden { code } } }"
)


def test_utilisation_sweep_through_the_api(api: Api) -> None:
    swept = api.data(SWEEP, ENGINEER)["sweepUtilisation"]
    assert swept == {"__typename": "UtilisationSwept", "readings": 12, "raised": [],
                     "cleared": [], "failed": []}  # fmt: skip
    assert api.data(SWEEP, CRM)["sweepUtilisation"]["__typename"] == "Forbidden"
