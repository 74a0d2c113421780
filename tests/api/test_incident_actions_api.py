"""Over HTTP, on both stores: an engineer confirms, re-points and splits an incident through
GraphQL; refusals are typed and write nothing; other roles are refused."""

from __future__ import annotations

from pboss.assurance.model import Incident
from pboss.inventory.store import GraphStore
from tests.api.conftest import CRM, ENGINEER, Api
from tests.assurance.network import build, later, open_ticket

OUTCOME = """
    __typename
    ... on IncidentActionOutcome { id state suspected confirmedBy tickets why }
    ... on IncidentActionRefusedError { code incident reasons }
    ... on NotFound { code id }
    ... on Forbidden { code message }
"""
CONFIRM = 'mutation C($id: ID!) { confirmIncident(id: $id, note: "seen") {' + OUTCOME + "} }"
REPOINT = (
    'mutation R($id: ID!, $r: ID!) { repointIncident(id: $id, resource: $r, note: "dark") {'
    + OUTCOME
    + "} }"
)
SPLIT = (
    'mutation S($id: ID!, $t: [ID!]!) { splitIncident(id: $id, tickets: $t, note: "own") {'
    "__typename ... on IncidentSplitOutcome { incident { id tickets } splitOff { id state "
    "suspected tickets } } ... on IncidentActionRefusedError { code reasons } "
    "... on NotFound { code id } ... on Forbidden { code } } }"
)


def _incident(store: GraphStore) -> Incident:
    build(store)
    inc = None
    for h in range(1, 5):
        inc = open_ticket(store, "SPL-A1a", h, at=later(h))
    assert inc is not None
    return inc


def test_engineer_actions_through_graphql(api: Api, demo_store: GraphStore) -> None:
    inc = _incident(demo_store)
    denied = api.data(CONFIRM, key=CRM, id=inc.id)["confirmIncident"]
    assert denied["__typename"] == "Forbidden"
    done = api.data(CONFIRM, key=ENGINEER, id=inc.id)["confirmIncident"]
    assert (done["state"], done["suspected"]) == ("confirmed", "SPL-A1a")
    assert "confirmed by" in done["why"]
    moved = api.data(REPOINT, id=inc.id, r="OLT-A/1")["repointIncident"]
    assert moved["suspected"] == "OLT-A/1" and "re-pointed by" in moved["why"]
    split = api.data(SPLIT, id=inc.id, t=sorted(inc.tickets)[:1])["splitIncident"]
    assert split["__typename"] == "IncidentSplitOutcome"
    assert len(split["incident"]["tickets"]) == 3 and split["splitOff"]["state"] == "confirmed"
    stored = demo_store.get(inc.id)
    assert isinstance(stored, Incident) and len(stored.tickets) == 3


def test_refusals_are_typed_and_write_nothing(api: Api, demo_store: GraphStore) -> None:
    inc = _incident(demo_store)
    before = demo_store.get(inc.id)
    assert api.data(CONFIRM, id="INC-NONE")["confirmIncident"] == {
        "__typename": "NotFound",
        "code": "NOT_FOUND",
        "id": "INC-NONE",
    }
    bad = api.data(REPOINT, id=inc.id, r="SVC-SPL-A1a-1")["repointIncident"]
    assert bad["__typename"] == "IncidentActionRefusedError"
    assert "not a network resource" in bad["reasons"][0]
    stray = api.data(SPLIT, id=inc.id, t=["TT-NOPE"])["splitIncident"]
    assert stray["__typename"] == "IncidentActionRefusedError"
    assert stray["reasons"] == ["not in the incident: TT-NOPE"]
    assert demo_store.get(inc.id) == before
