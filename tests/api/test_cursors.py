"""Partners' sealed rider cursors: AES-GCM under the configured key (`PBOSS_CURSOR_KEY`), so a
cursor one replica issued works on another sharing the key, and a cursor under another key, or
altered, is refused as a typed error (never a 500)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pboss.graphql.connections import CursorSeal, encode_cursor
from pboss.http.app import create_app
from pboss.inventory.store import GraphStore
from tests.api.conftest import PARTNER_OC, PARTNER_TT, Api, api_settings

#: A leased link of the other partner (中国铁通), with riders of its own.
TT_LINK = "PL-1"

RIDERS = """query R($after: String) { riders(resource: "PA-DH-OC", first: 1, after: $after) {
  __typename ... on RiderConnection { totalCount edges { cursor } pageInfo { endCursor } } } }"""


def _answer(
    store: GraphStore,
    key: str | None,
    after: str | None = None,
    *,
    caller: str = PARTNER_OC,
    resource: str = "PA-DH-OC",
) -> Any:
    settings = api_settings(cursor_key=key) if key else api_settings()
    query = RIDERS.replace('"PA-DH-OC"', f'"{resource}"')
    with TestClient(create_app(settings, store=store)) as client:
        response = Api(client).post(query, caller, after=after)
    assert response.status_code == 200, response.text
    return response.json()


def _issued(store: GraphStore, key: str | None) -> str:
    riders = _answer(store, key)["data"]["riders"]
    assert riders["totalCount"] == 1
    cursor: str = riders["pageInfo"]["endCursor"]
    assert "SVC" not in base64.urlsafe_b64decode(cursor).decode("latin-1")  # names no service
    return cursor


def _refused(answer: Any) -> None:
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("invalid cursor")


def test_a_cursor_from_one_replica_works_on_another_with_the_same_key(
    demo_store: GraphStore,
) -> None:
    cursor = _issued(demo_store, "shared secret")
    page = _answer(demo_store, "shared secret", after=cursor)
    assert "errors" not in page
    assert page["data"]["riders"]["edges"] == []  # after the only rider: nothing more


def test_a_cursor_under_another_key_or_altered_is_refused(demo_store: GraphStore) -> None:
    cursor = _issued(demo_store, "shared secret")
    _refused(_answer(demo_store, "another secret", after=cursor))
    raw = bytearray(base64.urlsafe_b64decode(cursor))
    raw[-1] ^= 1
    _refused(_answer(demo_store, "shared secret", after=base64.urlsafe_b64encode(raw).decode()))
    plain = encode_cursor("rider", "SVC-H5-CB")  # a cursor of its own making
    _refused(_answer(demo_store, "shared secret", after=plain))


def test_a_cursor_replayed_on_other_resources_or_by_another_partner_is_refused(
    demo_store: GraphStore,
) -> None:
    """A partner's cursor is good only for the list it was issued for: the same partner asking
    for its own Partner record's riders, or another partner asking for its own link's, cannot
    use it to probe where services sort."""
    cursor = _issued(demo_store, "shared secret")
    _refused(_answer(demo_store, "shared secret", after=cursor, resource="P-OC"))
    tt = _answer(demo_store, "shared secret", caller=PARTNER_TT, resource=TT_LINK)
    assert "errors" not in tt  # the partner's own list answers...
    _refused(  # ...but not past the other partner's cursor
        _answer(demo_store, "shared secret", after=cursor, caller=PARTNER_TT, resource=TT_LINK)
    )


def test_without_a_key_each_process_seals_with_its_own() -> None:
    """Unset: a random key made once per process (apps in one process share it)."""
    first, second = CursorSeal.from_settings(None), CursorSeal.from_settings(None)
    assert second.open("rider", first.seal("rider", "SVC-1")) == "SVC-1"
    assert CursorSeal("configured").open("rider", first.seal("rider", "SVC-1")) is None


@pytest.mark.parametrize("key", ["S", "SVC-H1-BB", "服务-1" * 20])
def test_a_seal_opens_only_for_its_own_list(key: str) -> None:
    seal = CursorSeal("k")
    cursor = seal.seal("rider", key)
    assert seal.open("rider", cursor) == key
    assert seal.open("element", cursor) is None
    assert len(seal.seal("rider", "S")) == len(seal.seal("rider", "SVC-H1-BB"))  # padded
