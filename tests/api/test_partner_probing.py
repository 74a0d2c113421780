"""A partner cannot tell which hidden ids exist by writing elements with them as ids.

An element sent with the id of an element the partner may not see (a household, another
partner's pool, the operator's OLT) gets the answer the same batch gets with a free id whenever
that batch is refused anyway; when it would have been written, the refusal is the one an id of a
site the partner can see gets, naming nothing of the hidden element (docs/api.md, partner role).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import ENGINEER, PARTNER_TT, Api
from tests.api.test_partner_leaks import NOWHERE, UPSERT, _same_as_missing

HIDDEN = ["H-1", "SVC-H1-BB", "PA-DH-OC", "OLT-1", "NE-Z/E1-1"]
#: 铁通's pool at 财富国际金座, sent with the id under test ("@").
POOL = {"kind": "PartnerAccess", "id": "@", "site": "B-JZ", "owner": "P-TT"}


def _upsert(api: Api, key: str, batch: dict[str, Any]) -> dict[str, Any]:
    return api.data(UPSERT, key=key, **{"in": batch})["upsertElements"]


def _stored(api: Api, element_id: str) -> Any:
    query = "query($id: ID!) { element(id: $id) { __typename ... on Element { id status } } }"
    return api.data(query, key=ENGINEER, id=element_id)["element"]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_hidden_id_and_a_free_one_get_the_same_refusal(api: Api, hidden: str) -> None:
    """The issue's probe: a pool with a hidden id and an edge to a missing node."""
    before = _stored(api, hidden)
    batch = {
        "elements": [dict(POOL, fields={"total": 10})],
        "edges": [{"type": "USES", "src": "@", "dst": "ZZ-ALSO-MISSING"}],
    }
    got = _same_as_missing(api, batch, hidden)
    assert got["__typename"] == "ValidationError"
    assert got["message"] == (
        f"1 invalid item(s): #0 edge USES({hidden!r} -> 'ZZ-ALSO-MISSING'): "
        "edge to a missing node: dst 'ZZ-ALSO-MISSING'"
    )
    assert _stored(api, hidden) == before


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_hidden_id_is_refused_as_an_id_of_a_visible_site_is(api: Api, hidden: str) -> None:
    """An otherwise valid pool: a free id is written; a taken one is refused alike whether a
    site the partner sees has it or an element it may not see."""
    pool = dict(POOL, fields={"total": 10})
    as_site = _upsert(api, PARTNER_TT, {"elements": [dict(pool, id="B-DH")]})
    got = _upsert(api, PARTNER_TT, {"elements": [dict(pool, id=hidden)]})
    assert json.loads(json.dumps(got).replace(hidden, "B-DH")) == as_site
    assert got == {
        "__typename": "Forbidden",
        "code": "FORBIDDEN",
        "message": (
            f"write is not allowed for role 'partner': PartnerAccess {hidden!r} is not yours"
        ),
        "action": "write",
        "role": "partner",
    }
    free = _upsert(api, PARTNER_TT, {"elements": [dict(pool, id=NOWHERE)]})
    assert free["__typename"] == "UpsertSuccess"
