"""Over HTTP: an element's `history` shows every change (kind, before/after, edges), not only
status changes, with the fields it had before unchanged."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ENGINEER, PARTNER_TT, Api

UPSERT = """
mutation Up($in: UpsertInput!) { upsertElements(input: $in) { __typename } }
"""
HISTORY = """
query H($id: ID!) { element(id: $id) { ... on Element { history(limit: 5) {
  elementId fromStatus toStatus actor reason at change before after edge { type src dst }
} } } }
"""


def _history(api: Api, element_id: str, key: str = ENGINEER) -> list[dict[str, Any]]:
    return list(api.data(HISTORY, key=key, id=element_id)["element"]["history"])


def test_renaming_and_moving_an_olt_shows_in_its_history(api: Api) -> None:
    element = {"kind": "OLT", "id": "OLT-1", "name": "ZJ-OLT-01b", "site": "EX-2"}
    batch = {"elements": [element], "merge": True, "reason": "consolidation"}
    assert api.data(UPSERT, **{"in": batch})["upsertElements"]["__typename"] == "UpsertSuccess"
    latest = _history(api, "OLT-1")[0]
    assert latest["change"] == "UPDATED" and latest["reason"] == "consolidation"
    assert latest["before"] == {"name": "ZJ-OLT-01", "site": "EX-1"}
    assert latest["after"] == {"name": "ZJ-OLT-01b", "site": "EX-2"}
    assert (latest["fromStatus"], latest["toStatus"], latest["edge"]) == (
        "available",
        "available",
        None,
    )
    assert latest["actor"].startswith("engineer:")
    again = api.data(UPSERT, **{"in": batch})["upsertElements"]["__typename"]
    assert again == "UpsertSuccess" and _history(api, "OLT-1")[0]["at"] == latest["at"]


def test_an_added_edge_shows_at_both_ends(api: Api) -> None:
    batch = {
        "elements": [{"kind": "PonPort", "id": "OLT-1/0/9", "site": "EX-1"}],
        "edges": [{"type": "PART_OF", "src": "OLT-1/0/9", "dst": "OLT-1"}],
        "reason": "new card",
    }
    assert api.data(UPSERT, **{"in": batch})["upsertElements"]["__typename"] == "UpsertSuccess"
    edge = {"type": "PART_OF", "src": "OLT-1/0/9", "dst": "OLT-1"}
    at_olt = _history(api, "OLT-1")[0]
    assert at_olt["change"] == "EDGE_ADDED"
    assert at_olt["edge"] == edge and at_olt["reason"] == "new card"
    port = _history(api, "OLT-1/0/9")
    assert [h["change"] for h in port] == ["EDGE_ADDED", "CREATED"]
    assert port[1]["after"]["site"] == "EX-1"


def test_a_partner_sees_no_edge_to_what_it_may_not_see(api: Api) -> None:
    own = [h for h in _history(api, "PL-1", key=PARTNER_TT) if h["edge"]]
    ends = {h["edge"]["src"] for h in own} | {h["edge"]["dst"] for h in own}
    assert "CIR-1" not in ends  # the operator's circuit routed over the partner's link
    everyone = {h["edge"]["src"] for h in _history(api, "PL-1") if h["edge"]}
    assert "CIR-1" in everyone
