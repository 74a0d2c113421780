"""Over HTTP: retiring, maintaining or deleting what live services ride answers
ImpactNotAcknowledged (writing nothing) until the riders are acknowledged by count or accepted."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ADMIN, ENGINEER, PARTNER_TT, Api

REFUSED = """
    ... on ImpactNotAcknowledged {
      code message resources action riders customers acknowledged stale
      totals { services customers bySlaTier { key count } }
      affected { product service { id } customer { id name } }
    }
"""
STATUS = (
    """
mutation St($id: ID!, $status: Status!, $n: Int, $accept: Boolean! = false) {
  setStatus(id: $id, status: $status, reason: "decommission", acknowledgedRiders: $n,
            acceptImpact: $accept) {
    __typename
    ... on StatusChanged { element { id status } change { fromStatus toStatus } }
    ... on ValidationError { issues { field reason } }
"""
    + REFUSED
    + "} }"
)
DELETE = (
    """
mutation Del($ids: [ID!]!, $n: Int, $accept: Boolean! = false) {
  deleteElements(ids: $ids, cascade: true, acknowledgedRiders: $n, acceptImpact: $accept) {
    __typename
    ... on Deleted { ids }
"""
    + REFUSED
    + "} }"
)
UPSERT = (
    """
mutation Up($in: UpsertInput!) {
  upsertElements(input: $in) {
    __typename
    ... on UpsertSuccess { nodesUpdated elements { id status } }
"""
    + REFUSED
    + "} }"
)


def _status(api: Api, key: str = ENGINEER, **args: Any) -> dict[str, Any]:
    return api.data(STATUS, key=key, **args)["setStatus"]


def _stored_status(api: Api, element_id: str) -> str:
    got = api.data(f'{{ element(id: "{element_id}") {{ ... on Element {{ status }} }} }}')
    return str(got["element"]["status"])


def test_retiring_a_trunk_with_a_live_circuit_answers_its_riders_and_writes_nothing(
    api: Api,
) -> None:
    got = _status(api, id="TS-1", status="RETIRED")
    assert got["__typename"] == "ImpactNotAcknowledged"
    assert got["code"] == "IMPACT_NOT_ACKNOWLEDGED"
    assert (got["riders"], got["customers"], got["acknowledged"], got["stale"]) == (
        1,
        1,
        None,
        False,
    )
    assert got["resources"] == ["TS-1"] and "1 service(s)" in got["message"]
    assert got["totals"]["bySlaTier"] == [{"key": "platinum", "count": 1}]
    assert got["affected"] == [
        {
            "product": "MSTP-LL",
            "service": {"id": "SVC-E1-LL"},
            "customer": {"id": "E-1", "name": "上海信息技术有限公司"},
        }
    ]
    assert _stored_status(api, "TS-1") == "AVAILABLE"

    stale = _status(api, id="TS-1", status="RETIRED", n=3)
    assert (stale["__typename"], stale["stale"], stale["acknowledged"]) == (
        "ImpactNotAcknowledged",
        True,
        3,
    )
    assert _stored_status(api, "TS-1") == "AVAILABLE"
    bad = _status(api, id="TS-1", status="RETIRED", n=-1)
    assert bad["issues"] == [{"field": "acknowledgedRiders", "reason": "must be 0 or more"}]

    done = _status(api, id="TS-1", status="RETIRED", n=got["riders"])
    assert done["__typename"] == "StatusChanged"
    assert done["change"] == {"fromStatus": "available", "toStatus": "retired"}
    assert _stored_status(api, "TS-1") == "RETIRED"


def test_accepting_the_impact_and_faults_need_no_count(api: Api) -> None:
    assert _status(api, id="OLT-2", status="MAINTENANCE")["__typename"] == "ImpactNotAcknowledged"
    assert _status(api, id="OLT-2", status="MAINTENANCE", accept=True)["__typename"] == (
        "StatusChanged"
    )
    assert _status(api, id="OLT-1", status="FAULTY")["__typename"] == "StatusChanged"


def test_a_partner_sees_the_count_but_not_the_operators_services(api: Api) -> None:
    got = _status(api, key=PARTNER_TT, id="PL-1", status="MAINTENANCE")
    assert got["__typename"] == "ImpactNotAcknowledged"
    assert got["riders"] == 1
    assert got["affected"] == [{"product": "MSTP-LL", "service": None, "customer": None}]


def test_a_cascade_delete_of_ridden_resources_needs_their_acknowledgement(api: Api) -> None:
    got = api.data(DELETE, key=ADMIN, ids=["SPL-JZ-2B"])["deleteElements"]
    assert got["__typename"] == "ImpactNotAcknowledged"
    assert (got["riders"], got["action"]) == (2, "cascade delete")
    assert {a["service"]["id"] for a in got["affected"]} == {"SVC-H3-BB", "SVC-H3-VO"}
    assert _stored_status(api, "SVC-H3-VO") == "IN_USE"
    done = api.data(DELETE, key=ADMIN, ids=["SPL-JZ-2B"], n=2)["deleteElements"]
    assert done["__typename"] == "Deleted" and "SVC-H3-VO" in done["ids"]


def test_an_upsert_retiring_a_ridden_trunk_needs_the_acknowledgement(api: Api) -> None:
    element = {"kind": "TrunkSection", "id": "TS-1", "status": "RETIRED"}
    got = api.data(UPSERT, **{"in": {"elements": [element], "merge": True}})["upsertElements"]
    assert got["__typename"] == "ImpactNotAcknowledged" and got["riders"] == 1
    assert _stored_status(api, "TS-1") == "AVAILABLE"
    batch = {"elements": [element], "merge": True, "acknowledgedRiders": 1}
    done = api.data(UPSERT, **{"in": batch})["upsertElements"]
    assert done["elements"] == [{"id": "TS-1", "status": "RETIRED"}]
