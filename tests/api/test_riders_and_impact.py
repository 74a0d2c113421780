"""Bottom-up over HTTP: who rides a resource, with totals; impact of several, de-duplicated.

Every expected answer is worked out by hand from pboss/inventory/demo.py.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import Api

RIDERS = """
query Riders($id: ID!, $first: Int!, $after: String) {
  riders(resource: $id, first: $first, after: $after) {
    __typename
    ... on RiderConnection {
      resources totalCount
      totals { services customers byProduct { key count } byCustomerType { key count }
               bySlaTier { key count } }
      edges { cursor node { product health impairedBy service { id } customer { id name } } }
      pageInfo { hasNextPage endCursor }
    }
    ... on NotFound { id message }
  }
}
"""

# resource -> [(service, customer id, customer name)], services in id order
EXPECTED = {
    "OLT-1": [
        ("SVC-H1-BB", "H-1", "张伟"),
        ("SVC-H1-TV", "H-1", "张伟"),
        ("SVC-H2-BB", "H-2", "王芳"),
        ("SVC-H3-BB", "H-3", "李娜"),
        ("SVC-H3-VO", "H-3", "李娜"),
    ],
    "SPL-JZ-2A": [
        ("SVC-H1-BB", "H-1", "张伟"),
        ("SVC-H1-TV", "H-1", "张伟"),
        ("SVC-H2-BB", "H-2", "王芳"),
    ],
    "TS-2": [
        ("SVC-E1-LL", "E-1", "上海信息技术有限公司"),
        ("SVC-E2-LL", "E-2", "都华物业管理公司"),
    ],
    "NE-1": [
        ("SVC-E1-LL", "E-1", "上海信息技术有限公司"),
        ("SVC-E2-LL", "E-2", "都华物业管理公司"),
    ],
    "PL-1": [("SVC-E1-LL", "E-1", "上海信息技术有限公司")],
    "OLT-2": [("SVC-E2-BB", "E-2", "都华物业管理公司"), ("SVC-H4-BB", "H-4", "刘洋")],
    "PA-DH-OC": [("SVC-H5-CB", "H-5", "陈静")],
    "OLT-1/0/2": [],
}

TOTALS = {
    "OLT-1": (
        5,
        3,
        {"FTTH-1000M": 1, "FTTH-100M": 2, "IPTV": 1, "VOICE": 1},
        {"household": 3},
        {"gold": 1, "standard": 2},
    ),
    "SPL-JZ-2A": (
        3,
        2,
        {"FTTH-1000M": 1, "FTTH-100M": 1, "IPTV": 1},
        {"household": 2},
        {"gold": 1, "standard": 1},
    ),
    "TS-2": (2, 2, {"MSTP-LL": 2}, {"enterprise": 2}, {"gold": 1, "platinum": 1}),
    "NE-1": (2, 2, {"MSTP-LL": 2}, {"enterprise": 2}, {"gold": 1, "platinum": 1}),
    "OLT-2": (
        2,
        2,
        {"FTTH-1000M": 1, "FTTH-100M": 1},
        {"enterprise": 1, "household": 1},
        {"gold": 1, "standard": 1},
    ),
}


def _counts(rows: list[dict]) -> dict[str, int]:
    return {r["key"]: r["count"] for r in rows}


@pytest.mark.parametrize("resource", sorted(EXPECTED))
def test_riders_are_exactly_the_services_and_customers_on_it(api: Api, resource: str) -> None:
    got = api.data(RIDERS, id=resource, first=50)["riders"]
    assert got["__typename"] == "RiderConnection"
    rows = [
        (e["node"]["service"]["id"], e["node"]["customer"]["id"], e["node"]["customer"]["name"])
        for e in got["edges"]
    ]
    assert rows == EXPECTED[resource]
    assert got["totalCount"] == got["totals"]["services"] == len(rows)
    assert got["totals"]["customers"] == len({r[1] for r in rows})
    assert {e["node"]["health"] for e in got["edges"]} <= {"OK"}
    assert got["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("resource", sorted(TOTALS))
def test_rider_totals_by_product_customer_type_and_sla_tier(api: Api, resource: str) -> None:
    totals = api.data(RIDERS, id=resource, first=1)["riders"]["totals"]
    services, customers, product, ctype, tier = TOTALS[resource]
    assert (totals["services"], totals["customers"]) == (services, customers)
    assert _counts(totals["byProduct"]) == product
    assert _counts(totals["byCustomerType"]) == ctype
    assert _counts(totals["bySlaTier"]) == tier


def test_riders_page_with_cursors_and_stable_totals(api: Api) -> None:
    seen, after, pages = [], None, 0
    while True:
        got = api.data(RIDERS, id="OLT-1", first=2, after=after)["riders"]
        assert got["totalCount"] == 5
        seen += [e["node"]["service"]["id"] for e in got["edges"]]
        pages += 1
        if not got["pageInfo"]["hasNextPage"]:
            break
        after = got["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == [s for s, _, _ in EXPECTED["OLT-1"]]


def test_riders_show_the_health_a_fault_upstream_gives_them(api: Api) -> None:
    api.data('mutation { setStatus(id: "OLT-1", status: FAULTY, reason: "power") { __typename } }')
    got = api.data(RIDERS, id="SPL-JZ-2A", first=10)["riders"]
    assert {e["node"]["health"] for e in got["edges"]} == {"DOWN"}
    assert {tuple(e["node"]["impairedBy"]) for e in got["edges"]} == {("OLT-1",)}


IMPACT = """
query Impact($ids: [ID!]!) {
  impact(resources: $ids, first: 100) {
    __typename
    ... on RiderConnection { resources totalCount totals { customers }
                             edges { node { service { id } } } }
    ... on NotFound { id }
    ... on ValidationError { issues { reason } }
  }
}
"""


def test_impact_of_a_fibre_cut_counts_each_service_once(api: Api) -> None:
    got = api.data(IMPACT, ids=["TS-1", "TS-2", "PL-1", "TS-2"])["impact"]
    assert got["resources"] == ["TS-1", "TS-2", "PL-1"]
    assert [e["node"]["service"]["id"] for e in got["edges"]] == ["SVC-E1-LL", "SVC-E2-LL"]
    mixed = api.data(IMPACT, ids=["TS-1", "OLT-2"])["impact"]
    ids = [e["node"]["service"]["id"] for e in mixed["edges"]]
    assert ids == ["SVC-E1-LL", "SVC-E2-BB", "SVC-H4-BB"]
    assert (mixed["totalCount"], mixed["totals"]["customers"]) == (3, 3)


def test_impact_and_riders_of_unknown_ids_are_typed_not_found(api: Api) -> None:
    assert api.data(IMPACT, ids=["TS-1", "NOPE"])["impact"] == {
        "__typename": "NotFound",
        "id": "NOPE",
    }
    got = api.data(RIDERS, id="NOPE", first=5)["riders"]
    assert got == {"__typename": "NotFound", "id": "NOPE", "message": "element 'NOPE' not found"}
    empty = api.data(IMPACT, ids=[])["impact"]
    assert empty["__typename"] == "ValidationError"


def test_a_bad_cursor_or_page_size_is_a_clear_error_not_a_crash(api: Api) -> None:
    errors = api.errors(RIDERS, id="OLT-1", first=2, after="not-a-cursor")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "invalid cursor" in errors[0]["message"]
    errors = api.errors(RIDERS, id="OLT-1", first=0)
    assert "first must be between 1 and" in errors[0]["message"]
