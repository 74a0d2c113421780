"""Read-your-writes over HTTP: `X-Pboss-Bookmark` after a write, sent back, refused malformed.

On Neo4j a write's answer carries the bookmark (header and `extensions.bookmark`) and a request
sending it back has every store session wait for it (the request's causal scope reaches the
store threads); the embedded store has nothing to wait for and returns none after a write.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pboss.inventory.consistency import decode, encode
from pboss.inventory.store import GraphStore
from tests.api.conftest import ENGINEER, Api

UPSERT = """
mutation Up($in: UpsertInput!) {
  upsertElements(input: $in) { __typename ... on UpsertSuccess { nodesAdded } }
}
"""
OLT = {"kind": "OLT", "id": "OLT-BM", "site": "EX-1", "name": "bookmarked"}
READ = '{ element(id: "OLT-BM") { ... on OLT { id name } } }'
HEADER = "X-Pboss-Bookmark"


def _post(api: Api, query: str, bookmark: str | None = None, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {ENGINEER}"}
    if bookmark is not None:
        headers[HEADER] = bookmark
    body: dict[str, Any] = {"query": query, "variables": variables}
    return api.client.post("/graphql", json=body, headers=headers)


def test_a_write_returns_its_bookmark_on_neo4j_and_none_on_the_embedded_store(
    api: Api, demo_store: GraphStore
) -> None:
    response = _post(api, UPSERT, **{"in": {"elements": [OLT]}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["upsertElements"] == {"__typename": "UpsertSuccess", "nodesAdded": 1}
    if demo_store.name == "neo4j":
        token = response.headers[HEADER]
        assert body["extensions"]["bookmark"] == token
        assert all(b.startswith("FB:") for b in decode(token))
    else:
        assert HEADER not in response.headers and "bookmark" not in body.get("extensions", {})
    read = _post(api, READ)  # a read sending nothing gets nothing back
    assert read.json()["data"]["element"]["name"] == "bookmarked"
    assert HEADER not in read.headers


@pytest.mark.neo4j
def test_reads_sent_with_the_bookmark_wait_for_it_in_every_store_session(
    api: Api, demo_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    if demo_store.name != "neo4j":
        pytest.skip("the embedded store has one process and no followers")
    token = _post(api, UPSERT, **{"in": {"elements": [OLT]}}).headers[HEADER]
    driver = demo_store.client.driver  # type: ignore[attr-defined]
    seen: list[frozenset[str]] = []
    real = driver.session

    def session(**config: Any) -> Any:
        # the requests' store calls run on the store threads; the sweepers' own reads (their
        # threads, no request, no bookmark) may interleave and are not what this test is about
        if threading.current_thread().name.startswith("pboss-store"):
            bookmarks = config.get("bookmarks")
            seen.append(bookmarks.raw_values if bookmarks is not None else frozenset())
        return real(**config)

    monkeypatch.setattr(driver, "session", session)
    read = _post(api, READ, bookmark=token)
    assert read.json()["data"]["element"]["name"] == "bookmarked"
    assert read.headers[HEADER] == token  # echoed: the client may keep the last one it got
    assert seen and all(b == decode(token) for b in seen)
    seen.clear()
    _post(api, READ)
    assert seen and not any(seen)  # without one, reads may be served by any follower


@pytest.mark.parametrize(
    "bad", ["not base64 at all!", encode([]).replace("W", "{"), "e30", "x" * 5000]
)
def test_a_malformed_bookmark_is_refused_before_anything_runs(
    api: Api, demo_store: GraphStore, bad: str
) -> None:
    response = _post(api, UPSERT, bookmark=bad, **{"in": {"elements": [OLT]}})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_BOOKMARK"
    assert HEADER in error["message"]
    assert demo_store.get("OLT-BM") is None  # nothing written


@pytest.mark.neo4j
def test_a_bookmark_the_database_never_issued_is_a_typed_error(
    api: Api, demo_store: GraphStore
) -> None:
    if demo_store.name != "neo4j":
        pytest.skip("the embedded store ignores bookmarks")
    response = _post(api, READ, bookmark=encode(["FB:not-from-this-database"]))
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_BOOKMARK"
    assert "does not know the bookmark" in errors[0]["message"]
