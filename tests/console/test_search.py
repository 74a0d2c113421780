"""The search page on both stores over the reference network: results grouped by kind with the
right links, Chinese addresses found the way availability normalises them, phone numbers only
for roles that see customers, a partner key seeing no household data, and bad input answered
with a clear message (never a 500)."""

from __future__ import annotations

import re

from tests.api.conftest import CRM, ENGINEER, PARTNER_OC, PARTNER_TT
from tests.console.conftest import Console

_SECTION = re.compile(r'<section class="result-group"[^>]*data-group="(\w+)">(.*?)</section>', re.S)
_ITEM = re.compile(
    r'<li data-id="([^"]+)" data-kind="(\w+)">\s*(?:<a class="result-link" href="([^"]+)")?'
)


def groups(body: str) -> dict[str, list[tuple[str, str, str | None]]]:
    """Each result group's items: (id, kind, link) in the order listed."""
    return {
        key: [(i, k, (href or None)) for i, k, href in _ITEM.findall(section)]
        for key, section in _SECTION.findall(body)
    }


def test_circuit_ids_are_grouped_and_open_their_trace(console: Console) -> None:
    console.login(ENGINEER)
    found = groups(console.get("/ui/search", q="CIR"))
    assert found == {
        "circuits": [
            ("CIR-1", "Circuit", "/ui/trace?id=CIR-1"),
            ("CIR-2", "Circuit", "/ui/trace?id=CIR-2"),
        ]
    }


def test_an_address_finds_its_site_and_the_customers_there(console: Console) -> None:
    console.login(ENGINEER)
    body = console.get("/ui/search", q="B-DH")
    found = groups(body)
    assert found["sites"] == [("B-DH", "Site", "/ui/map?site=B-DH")]
    assert [i for i, _, _ in found["customers"]] == ["E-2", "H-4", "H-5"]
    assert all(href == f"/ui/trace?id={i}" for i, _, href in found["customers"])
    assert "Sites (1)" in body and "Customers (3)" in body


def test_chinese_addresses_are_compared_normalised(console: Console) -> None:
    console.login(CRM)
    # full-width digit, a space, the city and district prefixes: as availability reads them
    for typed in ("上海市浦东新区 世纪大道８号", "世纪大道8號", "浦东新区世纪大道8号"):
        found = groups(console.get("/ui/search", q=typed))
        assert found.get("sites") == [("B-JZ", "Site", "/ui/map?site=B-JZ")], typed


def test_resources_open_their_impact_and_ids_rank_first(console: Console) -> None:
    console.login(ENGINEER)
    found = groups(console.get("/ui/search", q="olt-1"))
    assert found["resources"][0] == ("OLT-1", "OLT", "/ui/impact?id=OLT-1")
    assert ("OLT-1/0/1", "PonPort", "/ui/impact?id=OLT-1%2F0%2F1") in found["resources"]
    names = groups(console.get("/ui/search", q="中国铁通"))
    assert names["partners"] == [("P-TT", "Partner", None)]


def test_phone_numbers_for_the_roles_that_see_them(console: Console) -> None:
    console.login(CRM)
    body = console.get("/ui/search", q="+86 138-3333-3333")
    assert groups(body) == {"customers": [("H-3", "Customer", "/ui/trace?id=H-3")]}
    assert "李娜" in body and "13833333333" in body
    console.client.cookies.clear()
    console.login(PARTNER_TT)
    body = console.get("/ui/search", q="+86 138-3333-3333")
    assert groups(body) == {}
    assert "李娜" not in body and "13833333333" not in body.replace("138-3333-3333", "")
    assert "Phone numbers are searched only for roles that may see customers" in body


def test_a_partner_key_sees_no_household_data(console: Console) -> None:
    console.login(PARTNER_TT)
    body = console.get("/ui/search", q="B-DH")
    found = groups(body)
    assert "customers" not in found and found["sites"] == [("B-DH", "Site", "/ui/map?site=B-DH")]
    for secret in ("刘洋", "陈静", "都华物业管理公司", "138444", "B-DH 1号"):
        assert secret not in body, secret
    assert groups(console.get("/ui/search", q="张伟")) == {}
    assert groups(console.get("/ui/search", q="PL-1")) == {
        "resources": [("PL-1", "PartnerLink", "/ui/impact?id=PL-1")]
    }
    console.client.cookies.clear()
    console.login(PARTNER_OC)
    assert groups(console.get("/ui/search", q="PL-1")) == {}


def test_nothing_found_says_so(console: Console) -> None:
    console.login(ENGINEER)
    body = console.get("/ui/search", q="no-such-thing-anywhere")
    assert groups(body) == {} and "Nothing this key may see matches" in body


def test_bad_input_gets_a_clear_message_never_a_500(console: Console) -> None:
    console.login(ENGINEER)
    for bad, reason in (
        ("", "is empty"),
        ("   ", "is empty"),
        ("x" * 201, "201 characters long; at most 200"),
        ("CIR\x00", "U+0000"),
        ("CIR\x1b[31m", "U+001B"),
        ("CIR\u202e", "U+202E"),
    ):
        answer = console.client.get("/ui/search", params={"q": bad})
        assert answer.status_code == 400, bad
        assert reason in answer.text and 'role="alert"' in answer.text, bad
    long_ok = console.client.get("/ui/search", params={"q": "世" * 200})
    assert long_ok.status_code == 200
    assert 'id="search-q"' in console.get("/ui/search")
