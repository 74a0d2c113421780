"""Which callback URLs a listener may register (`pboss.hub.urls`): the operator's allow-list."""

from __future__ import annotations

import pytest

from pboss.hub.urls import CallbackRefused, check_callback, parse_allow_list

RULES = parse_allow_list(
    ["127.0.0.1", "crm.example.com", "*.partner.example:8443", "10.0.0.0/8", "[::1]:9000"]
)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8123/events",
        "https://crm.example.com/hub",
        "https://a.partner.example:8443/x",
        "http://10.20.30.40/cb",
        "http://[::1]:9000/cb",
    ],
)
def test_allowed_callbacks_pass(url: str) -> None:
    assert check_callback(url, RULES) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://127.0.0.1/x", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("http:///nohost", "no host"),
        ("http://user:pw@127.0.0.1/", "credentials"),
        ("http://127.0.0.1/#frag", "fragment"),
        ("http://127.0.0.1:99999/", "malformed"),
        ("https://partner.example:8443/", "allow-list"),  # the domain itself is not *.domain
        ("https://a.partner.example/", "allow-list"),  # wrong port
        ("http://11.0.0.1/", "allow-list"),
        ("http://localhost:7474/", "allow-list"),  # a name is not its address
        ("http://127.0.0.1/" + "x" * 2100, "longer than"),
    ],
)
def test_refused_callbacks_say_why(url: str, why: str) -> None:
    with pytest.raises(CallbackRefused, match=why):
        check_callback(url, RULES)


def test_an_empty_allow_list_refuses_every_callback() -> None:
    with pytest.raises(CallbackRefused, match="PBOSS_HUB_ALLOWED_HOSTS"):
        check_callback("http://127.0.0.1/", [])


def test_a_bad_allow_list_entry_is_named() -> None:
    with pytest.raises(ValueError, match="'host:port:x'"):
        parse_allow_list(["host:port:x"])


@pytest.mark.parametrize("entry", ["", "bad host", "a:b:c", "10.0.0.0/33", "host:0", "h:70000"])
def test_malformed_allow_list_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="PBOSS_HUB_ALLOWED_HOSTS entry"):
        parse_allow_list([entry])
