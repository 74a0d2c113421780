"""`sites` is a connection like the other lists: paged with first/after, best matches first,
totalCount over what this caller may see (a partner never counts a customer's premises)."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import CRM, ENGINEER, PARTNER_TT, Api

SITES = """query($q: String!, $n: Int!, $after: String) {
  sites(query: $q, first: $n, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }"""


def _all_pages(api: Api, key: str, query: str, n: int) -> tuple[list[list[str]], int]:
    pages, after, total = [], None, -1
    while True:
        got = api.data(SITES, key=key, q=query, n=n, after=after)["sites"]
        pages.append([e["node"]["id"] for e in got["edges"]])
        total = got["totalCount"]
        if not got["pageInfo"]["hasNextPage"]:
            return pages, total
        after = got["pageInfo"]["endCursor"]
        assert after == got["edges"][-1]["cursor"]


def test_sites_page_through_every_match_once(api: Api) -> None:
    pages, total = _all_pages(api, CRM, "浦东新区", 2)
    assert pages == [["B-DH", "B-JZ"], ["CP-XX", "EX-1"], ["EX-2"]] and total == 5
    best_first = api.data(SITES, key=CRM, q="B0002", n=5)["sites"]
    assert [e["node"]["id"] for e in best_first["edges"]] == ["B-DH"]


def test_a_partner_pages_and_counts_only_the_sites_it_may_see(api: Api) -> None:
    home = """mutation { upsertElements(input: {elements: [
        {kind: "Site", id: "CP-H8", name: "王府 8 号",
         fields: {site_type: "customer_premises", address: "浦东新区王府路8号"}}]})
        { __typename } }"""
    assert api.data(home, key=ENGINEER)["upsertElements"] == {"__typename": "UpsertSuccess"}
    pages, total = _all_pages(api, ENGINEER, "浦东新区", 4)
    # its address starts with the words asked for: a better match than the others' substrings
    assert [i for p in pages for i in p] == ["CP-H8", "B-DH", "B-JZ", "CP-XX", "EX-1", "EX-2"]
    assert total == 6
    pages, total = _all_pages(api, PARTNER_TT, "浦东新区", 4)
    assert pages == [["B-DH", "B-JZ", "CP-XX", "EX-1"], ["EX-2"]] and total == 5


def test_a_cursor_of_another_list_is_refused(api: Api) -> None:
    other = api.data("{ elements(first: 1) { pageInfo { endCursor } } }")["elements"]
    errors: list[Any] = api.errors(
        SITES, key=CRM, q="浦东新区", n=2, after=other["pageInfo"]["endCursor"]
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
