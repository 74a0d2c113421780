"""Writes over HTTP: upsert with typed validation issues, status changes through the lifecycle
table, deletes refused while others depend on them, and who may do which."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.api.conftest import ADMIN, CRM, ENGINEER, PARTNER_OC, PARTNER_TT, Api

UPSERT = """
mutation Up($in: UpsertInput!) {
  upsertElements(input: $in) {
    __typename
    ... on UpsertSuccess { nodesAdded nodesUpdated nodesUnchanged edgesAdded edgesUpdated
                           edgesUnchanged elements { id kind status ... on Splitter { ratio } } }
    ... on ValidationError { code message issues { item field reason index } }
    ... on Forbidden { code message action role }
  }
}
"""
STATUS = """
mutation St($id: ID!, $status: Status!, $reason: String!, $accept: Boolean! = false) {
  setStatus(id: $id, status: $status, reason: $reason, acceptImpact: $accept) {
    __typename
    ... on StatusChanged { element { id status } change { fromStatus toStatus actor reason } }
    ... on InvalidTransition { id fromStatus toStatus allowed message }
    ... on NotFound { id }
    ... on Forbidden { action role }
    ... on ValidationError { issues { field reason } }
  }
}
"""
DELETE = """
mutation Del($ids: [ID!]!, $cascade: Boolean!, $accept: Boolean! = false) {
  deleteElements(ids: $ids, cascade: $cascade, acceptImpact: $accept) {
    __typename
    ... on Deleted { ids }
    ... on HasDependants { ids dependants count message }
    ... on NotFound { id }
    ... on Forbidden { action role }
  }
}
"""


def _name(key: str) -> str:
    """How the audit trail names a key configured by PBOSS_API_KEYS: its digest's first 8."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _upsert(api: Api, key: str = ENGINEER, **batch: Any) -> dict[str, Any]:
    return api.data(UPSERT, key=key, **{"in": batch})["upsertElements"]


def test_upsert_creates_a_splitter_with_its_ports_and_edges(api: Api) -> None:
    elements = [
        {
            "kind": "Splitter",
            "id": "SPL-JZ-2C",
            "site": "B-JZ",
            "spec": "SPL-1x4",
            "fields": {"stage": 2},
        }
    ]
    elements += [
        {"kind": "SplitterPort", "id": f"SPL-JZ-2C:{i}", "site": "B-JZ", "fields": {"index": i}}
        for i in range(1, 5)
    ]
    edges = [{"type": "FED_BY", "src": "SPL-JZ-2C", "dst": "SPL-JZ-1:3"}]
    edges += [{"type": "PART_OF", "src": f"SPL-JZ-2C:{i}", "dst": "SPL-JZ-2C"} for i in range(1, 5)]
    got = _upsert(api, elements=elements, edges=edges)
    assert got["__typename"] == "UpsertSuccess"
    assert (got["nodesAdded"], got["edgesAdded"]) == (5, 5)
    assert got["elements"][0] == {
        "id": "SPL-JZ-2C",
        "kind": "Splitter",
        "status": "AVAILABLE",
        "ratio": 4,
    }
    again = _upsert(api, elements=elements, edges=edges)
    assert (again["nodesUnchanged"], again["edgesUnchanged"]) == (5, 5)
    riders = api.data(
        '{ businessResources(site: "B-JZ") { ... on BusinessResources { packages { free } } } }'
    )
    assert riders["businessResources"]["packages"][0]["free"] == 13 + 4


def test_upsert_merges_onto_stored_values_when_asked(api: Api) -> None:
    got = _upsert(
        api, elements=[{"kind": "OLT", "id": "OLT-1", "name": "ZJ-OLT-01-NEW"}], merge=True
    )
    assert got["__typename"] == "UpsertSuccess" and got["nodesUpdated"] == 1
    olt = api.data('{ element(id: "OLT-1") { ... on OLT { name site { id } vendor } } }')
    assert olt["element"] == {"name": "ZJ-OLT-01-NEW", "site": {"id": "EX-1"}, "vendor": "Huawei"}


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        (
            {"elements": [{"kind": "Router", "id": "R-1"}]},
            [("node 'R-1'", "kind", "unknown kind 'Router'")],
        ),
        (
            {"elements": [{"kind": "Splitter", "id": "S-9", "fields": {"ratio": 1}}]},
            [("Splitter 'S-9'", "ratio", "greater than or equal to 2")],
        ),
        (
            {"elements": [{"kind": "ONT", "id": "O-9", "site": "NOWHERE"}]},
            [("ONT 'O-9'", "site", "unknown site 'NOWHERE'")],
        ),
        (
            {"edges": [{"type": "FED_BY", "src": "ONT-1", "dst": "OLT-1"}]},
            [("edge FED_BY('ONT-1' -> 'OLT-1')", None, "FED_BY cannot join ONT -> OLT")],
        ),
        (
            {
                "edges": [
                    {"type": "ROUTED_OVER", "src": "CIR-2", "dst": "TS-2", "seq": 1, "slots": [5]}
                ]
            },
            [("TrunkSection 'TS-2'", "slots", "VC-12 slot 5 already held by 'CIR-1'")],
        ),
        (
            {
                "elements": [
                    {"kind": "ONT", "id": "O-1", "fields": {"id": "x"}},
                    {"kind": "ONT", "id": "O-2", "fields": {"serial": 5}},
                ]
            },
            [
                ("ONT 'O-1'", "fields", "as their own arguments"),
                ("ONT 'O-2'", "serial", "valid string"),
            ],
        ),
    ],
)
def test_upsert_refuses_bad_batches_with_each_issue_and_writes_nothing(
    api: Api, batch: dict, expected: list[tuple[str, str | None, str]]
) -> None:
    before = api.data("{ elements(first: 1) { totalCount } }")["elements"]["totalCount"]
    got = _upsert(api, **batch)
    assert got["__typename"] == "ValidationError" and got["code"] == "VALIDATION_FAILED"
    issues = [(i["item"], i["field"], i["reason"]) for i in got["issues"]]
    assert len(issues) == len(expected)
    for (item, field, reason), (want_item, want_field, want_reason) in zip(
        issues, expected, strict=True
    ):
        assert (item, field) == (want_item, want_field)
        assert want_reason in reason
    after = api.data("{ elements(first: 1) { totalCount } }")["elements"]["totalCount"]
    assert after == before


def test_set_status_records_who_and_why(api: Api) -> None:
    got = api.data(STATUS, id="OLT-2", status="MAINTENANCE", reason="card swap", accept=True)[
        "setStatus"
    ]
    assert got["element"] == {"id": "OLT-2", "status": "MAINTENANCE"}
    assert got["change"] == {
        "fromStatus": "available",
        "toStatus": "maintenance",
        "actor": f"engineer:{_name(ENGINEER)}",
        "reason": "card swap",
    }
    history = api.data('{ element(id: "OLT-2") { ... on Element { history { toStatus actor } } } }')
    assert history["element"]["history"][0] == {
        "toStatus": "maintenance",
        "actor": f"engineer:{_name(ENGINEER)}",
    }
    same = api.data(STATUS, id="OLT-2", status="MAINTENANCE", reason="again")["setStatus"]
    assert same["change"] is None


def test_set_status_refuses_what_the_lifecycle_table_forbids(api: Api) -> None:
    got = api.data(STATUS, id="OLT-1", status="PLANNED", reason="oops")["setStatus"]
    assert got["__typename"] == "InvalidTransition"
    assert (got["fromStatus"], got["toStatus"]) == ("AVAILABLE", "PLANNED")
    assert got["allowed"] == ["RESERVED", "IN_USE", "FAULTY", "MAINTENANCE", "RETIRED"]
    assert api.data(STATUS, id="NOPE", status="FAULTY", reason="x")["setStatus"] == {
        "__typename": "NotFound",
        "id": "NOPE",
    }
    blank = api.data(STATUS, id="OLT-1", status="FAULTY", reason="  ")["setStatus"]
    assert blank["issues"] == [{"field": "reason", "reason": "a status change needs a reason"}]


def test_delete_refuses_while_others_depend_unless_an_admin_cascades(api: Api) -> None:
    got = api.data(DELETE, ids=["SPL-JZ-2B"], cascade=False)["deleteElements"]
    assert got["__typename"] == "HasDependants"
    assert got["ids"] == ["SPL-JZ-2B"]
    assert got["dependants"][:3] == ["ONT-3", "SPL-JZ-2B:1", "SPL-JZ-2B:2"]
    assert got["count"] == 11  # 8 ports, ONT-3 and its two services
    refused = api.data(DELETE, ids=["SPL-JZ-2B"], cascade=True)["deleteElements"]
    assert refused == {"__typename": "Forbidden", "action": "cascade delete", "role": "engineer"}
    done = api.data(DELETE, key=ADMIN, ids=["SPL-JZ-2B"], cascade=True, accept=True)[
        "deleteElements"
    ]
    assert done["__typename"] == "Deleted" and len(done["ids"]) == 12
    gone = api.data('{ element(id: "SVC-H3-VO") { __typename } }')
    assert gone["element"]["__typename"] == "NotFound"
    leaf = api.data(DELETE, ids=["SPL-JZ-1:4"], cascade=False)["deleteElements"]
    assert leaf == {"__typename": "Deleted", "ids": ["SPL-JZ-1:4"]}
    assert api.data(DELETE, ids=["NOPE"], cascade=False)["deleteElements"] == {
        "__typename": "NotFound",
        "id": "NOPE",
    }


def test_crm_may_not_write(api: Api) -> None:
    got = _upsert(api, key=CRM, elements=[{"kind": "ONT", "id": "ONT-Z"}])
    assert (got["__typename"], got["role"], got["action"]) == ("Forbidden", "crm", "write")
    assert api.data(STATUS, key=CRM, id="OLT-1", status="FAULTY", reason="x")["setStatus"] == {
        "__typename": "Forbidden",
        "action": "set status",
        "role": "crm",
    }
    assert (
        api.data(DELETE, key=CRM, ids=["ONT-1"], cascade=False)["deleteElements"]["__typename"]
        == "Forbidden"
    )


def test_a_partner_publishes_its_own_resources_and_status_only(api: Api) -> None:
    own = {
        "kind": "PartnerAccess",
        "id": "PA-JZ-OC",
        "site": "B-JZ",
        "owner": "P-OC",
        "fields": {"total": 50, "used": 0},
    }
    assert _upsert(api, key=PARTNER_OC, elements=[own])["__typename"] == "UpsertSuccess"
    got = api.data(
        STATUS, key=PARTNER_OC, id="PA-DH-OC", status="MAINTENANCE", reason="upgrade", accept=True
    )
    assert got["setStatus"]["change"]["actor"] == f"partner:{_name(PARTNER_OC)}"
    other = dict(own, id="PA-JZ-TT", owner="P-TT")
    refused = _upsert(api, key=PARTNER_OC, elements=[other])
    assert refused["__typename"] == "Forbidden" and "not yours" in refused["message"]
    takeover = {"kind": "OLT", "id": "OLT-1", "owner": "P-OC"}
    assert _upsert(api, key=PARTNER_OC, elements=[takeover])["__typename"] == "Forbidden"
    customer = {"kind": "Customer", "id": "H-9", "owner": "P-OC"}
    assert _upsert(api, key=PARTNER_OC, elements=[customer])["__typename"] == "Forbidden"
    edge = {"type": "USES", "src": "SVC-H5-CB", "dst": "PA-JZ-OC"}
    assert _upsert(api, key=PARTNER_OC, edges=[edge])["__typename"] == "Forbidden"
    hidden = api.data(STATUS, key=PARTNER_TT, id="PA-DH-OC", status="FAULTY", reason="x")
    assert hidden["setStatus"] == {"__typename": "NotFound", "id": "PA-DH-OC"}
    mine = api.data(STATUS, key=PARTNER_TT, id="PL-1", status="FAULTY", reason="fibre cut")
    assert mine["setStatus"]["element"] == {"id": "PL-1", "status": "FAULTY"}
