"""What a partner key must not learn indirectly: service or customer ids from riders' cursors,
and the kind, owner or existence of elements it cannot see from the errors of its writes."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import pytest

from pboss.inventory.demo import demo_rows
from tests.api.conftest import PARTNER_OC, PARTNER_TT, Api

RIDERS = """
query Riders($id: ID!, $first: Int!, $after: String) {
  riders(resource: $id, first: $first, after: $after) {
    __typename
    ... on RiderConnection {
      totalCount
      edges { cursor node { product service { id } customer { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
UPSERT = """
mutation Up($in: UpsertInput!) {
  upsertElements(input: $in) {
    __typename
    ... on UpsertSuccess { nodesAdded edgesAdded }
    ... on ValidationError { code message issues { item field reason index } }
    ... on Forbidden { code message action role }
  }
}
"""
#: More services on 东方有线's cable pool at 都华名苑, so its riders take several pages.
MORE_CABLE = {
    "elements": [
        {"kind": "Service", "id": "SVC-ORD-7001", "fields": {"product": "CABLE-BB"}},
        {"kind": "Service", "id": "SVC-ORD-7002", "fields": {"product": "CABLE-BB"}},
    ],
    "edges": [
        {"type": "USES", "src": "SVC-ORD-7001", "dst": "PA-DH-OC"},
        {"type": "FOR", "src": "SVC-ORD-7001", "dst": "H-4"},
        {"type": "USES", "src": "SVC-ORD-7002", "dst": "PA-DH-OC"},
        {"type": "FOR", "src": "SVC-ORD-7002", "dst": "E-2"},
    ],
}


def _hidden_ids() -> list[str]:
    """Ids of every service and customer of the reference network (none a partner's to see)."""
    nodes, _ = demo_rows()
    ids = [n["id"] for n in nodes if n["kind"] in ("Service", "Customer")]
    return ids + [e["id"] for e in MORE_CABLE["elements"]]


def _layers(cursor: str) -> list[bytes]:
    """The cursor and whatever base64 (nested or prefixed) unwraps it to, layer by layer."""
    out, todo = [], [cursor.encode()]
    while todo:
        raw = todo.pop()
        out.append(raw)
        for part in (raw, raw.rpartition(b":")[2]):
            for decode in (base64.urlsafe_b64decode, base64.b64decode):
                try:
                    inner = decode(part + b"=" * (-len(part) % 4))
                except (binascii.Error, ValueError):
                    continue
                if inner and inner not in out and inner not in todo:
                    todo.append(inner)
    return out


def _leaked(cursor: str, ids: list[str]) -> list[str]:
    layers = _layers(cursor)
    return [i for i in ids if any(i.encode() in layer for layer in layers)]


def _upsert(api: Api, key: str, **batch: Any) -> dict[str, Any]:
    return api.data(UPSERT, key=key, **{"in": batch})["upsertElements"]


def test_a_partner_pages_through_riders_without_cursors_naming_services(api: Api) -> None:
    assert _upsert(api, key="eng-key", **MORE_CABLE)["__typename"] == "UpsertSuccess"
    engineer = api.data(RIDERS, key="eng-key", id="PA-DH-OC", first=10)["riders"]
    assert [e["node"]["service"]["id"] for e in engineer["edges"]] == [
        "SVC-H5-CB",
        "SVC-ORD-7001",
        "SVC-ORD-7002",
    ]
    hidden = _hidden_ids()
    cursors, products, after = [], [], None
    for _ in range(5):
        page = api.data(RIDERS, key=PARTNER_OC, id="PA-DH-OC", first=1, after=after)["riders"]
        assert page["totalCount"] == 3
        [edge] = page["edges"]
        assert edge["node"]["service"] is None and edge["node"]["customer"] is None
        products.append(edge["node"]["product"])
        cursors += [edge["cursor"], page["pageInfo"]["endCursor"]]
        assert page["pageInfo"]["endCursor"] == edge["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert products == ["CABLE-BB"] * 3  # every rider once, in order, then no next page
    for cursor in cursors:
        assert not _leaked(cursor, hidden), (cursor, _leaked(cursor, hidden))
    # the engineer's cursors still name services (they may see them): the check is not blind
    assert _leaked(engineer["edges"][0]["cursor"], hidden) == ["SVC-H5-CB"]


def test_a_partner_cannot_page_with_a_cursor_it_built_from_an_id(api: Api) -> None:
    engineer = api.data(RIDERS, key="eng-key", id="PA-DH-OC", first=1)["riders"]
    forged = engineer["edges"][0]["cursor"]  # what a partner could build from a guessed id
    [error] = api.errors(RIDERS, key=PARTNER_OC, id="PA-DH-OC", first=1, after=forged)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "invalid cursor" in error["message"]
    # nor with one of another partner's lists or a tampered one
    own = api.data(RIDERS, key=PARTNER_OC, id="PA-DH-OC", first=1)["riders"]
    cursor = own["edges"][0]["cursor"]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-1] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode()
    for bad in (tampered, "%%%", ""):
        [error] = api.errors(RIDERS, key=PARTNER_OC, id="PA-DH-OC", first=1, after=bad)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", bad


# ---- writes ------------------------------------------------------------------------------------

#: 铁通's own pool at 财富国际金座: the source of edges it sends.
TT_POOL = {"kind": "PartnerAccess", "id": "PA-JZ-TT", "site": "B-JZ", "owner": "P-TT"}
NOWHERE = "ZZ-NO-SUCH-ID"


def _same_as_missing(api: Api, batch: dict[str, Any], hidden: str) -> dict[str, Any]:
    """The answer to a batch naming `hidden`, checked equal to the one naming a missing id."""
    got = _upsert(api, PARTNER_TT, **json.loads(json.dumps(batch).replace("@", hidden)))
    missing = _upsert(api, PARTNER_TT, **json.loads(json.dumps(batch).replace("@", NOWHERE)))
    assert json.loads(json.dumps(got).replace(hidden, NOWHERE)) == missing, got
    return got


@pytest.mark.parametrize("hidden", ["H-1", "SVC-H1-BB", "PA-DH-OC", "P-OC", "OLT-1", "NE-A"])
def test_a_hidden_site_is_reported_as_if_it_did_not_exist(api: Api, hidden: str) -> None:
    batch = {"elements": [dict(TT_POOL, site="@", fields={"total": 10})]}
    got = _same_as_missing(api, batch, hidden)
    assert got["__typename"] == "ValidationError"
    [issue] = got["issues"]
    assert issue["reason"] == f"unknown site {hidden!r} (no such site)"


@pytest.mark.parametrize("hidden", ["PA-DH-OC", "SVC-H1-BB", "H-1", "OLT-1", "NE-Z/E1-1"])
def test_an_edge_to_a_hidden_element_is_reported_as_if_it_did_not_exist(
    api: Api, hidden: str
) -> None:
    assert _upsert(api, PARTNER_TT, elements=[TT_POOL])["__typename"] == "UpsertSuccess"
    batch = {"edges": [{"type": "USES", "src": "PA-JZ-TT", "dst": "@"}]}
    got = _same_as_missing(api, batch, hidden)
    assert got["__typename"] == "ValidationError"
    assert got["message"] == (
        f"1 invalid item(s): #0 edge USES('PA-JZ-TT' -> {hidden!r}): "
        f"edge to a missing node: dst {hidden!r}"
    )
    text = json.dumps(got, ensure_ascii=False).replace(hidden, "")
    for word in ("PartnerAccess", "Service", "Customer", "OLT", "Port", "P-OC", "self"):
        assert word not in text, word


def test_a_partner_can_write_only_what_it_owns(api: Api) -> None:
    """Writing over an element it cannot see is refused without saying what that element is."""
    over_hidden = dict(TT_POOL, id="PA-DH-OC", fields={"total": 10})
    for merge in (False, True):
        got = _upsert(api, PARTNER_TT, elements=[over_hidden], merge=merge)
        assert got["__typename"] == "Forbidden", got
        assert got["message"] == (
            "write is not allowed for role 'partner': PartnerAccess 'PA-DH-OC' is not yours"
        )
    still = api.data('{ element(id: "PA-DH-OC") { ... on PartnerAccess { owner total } } }')
    assert still["element"] == {"owner": "P-OC", "total": 100}
    # merging onto a hidden element's stored values is no way to learn them: the input stands
    # alone, exactly as for an id that does not exist
    bare = {"kind": "Service", "id": "@"}
    got = _same_as_missing(api, {"elements": [bare], "merge": True}, "SVC-H1-BB")
    assert got["__typename"] == "ValidationError"
    assert [i["field"] for i in got["issues"]] == ["product"]


def test_validation_in_the_store_names_no_hidden_element(api: Api) -> None:
    """VC-12 slots 10 and 11 of 铁通's own link are held by the operator's circuit CIR-1."""
    circuit = {"kind": "Circuit", "id": "CIR-TT-1", "owner": "P-TT"}
    route = {"type": "ROUTED_OVER", "src": "CIR-TT-1", "dst": "PL-1", "seq": 1, "slots": [10]}
    got = _upsert(api, PARTNER_TT, elements=[circuit], edges=[route])
    assert got["__typename"] == "ValidationError"
    text = json.dumps(got, ensure_ascii=False)
    assert "CIR-1'" not in text, text
    [issue] = got["issues"]
    assert issue["reason"] == (
        "VC-12 slot 10 already held by an element you cannot see, not free for 'CIR-TT-1'"
    )
    # the operator's engineer still gets the holder's id
    eng = _upsert(api, "eng-key", elements=[circuit], edges=[route])
    assert "'CIR-1'" in eng["issues"][0]["reason"]
