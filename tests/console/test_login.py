"""The console's door: a page opened without a key asks for one, a known key opens a session
that shows who is logged in, an unknown key is refused, and logging out ends the session."""

from __future__ import annotations

from tests.api.conftest import ENGINEER, PARTNER_TT
from tests.console.conftest import Console


def test_a_page_without_a_key_asks_for_one(console: Console) -> None:
    answer = console.client.get("/ui")
    assert answer.status_code == 401
    assert 'action="/ui/login"' in answer.text
    assert "Enter an API key" in answer.text
    assert "no-store" in answer.headers["cache-control"]
    assert "cdn" not in answer.headers["content-security-policy"].lower()


def test_an_unknown_key_is_refused_and_opens_nothing(console: Console) -> None:
    answer = console.client.post("/ui/login", data={"key": "not-a-key"}, follow_redirects=False)
    assert answer.status_code == 401
    assert "does not know this API key" in answer.text
    assert "pboss_console" not in answer.cookies


def test_a_known_key_opens_a_session_until_logout(console: Console) -> None:
    console.login(ENGINEER)
    home = console.get("/ui")
    assert "role <code>engineer</code>" in home
    assert 'href="/ui/search"' in home
    console.client.post("/ui/logout", follow_redirects=False)
    console.client.cookies.clear()
    assert console.client.get("/ui").status_code == 401


def test_a_partner_key_is_shown_as_its_partner(console: Console) -> None:
    console.login(PARTNER_TT)
    assert "partner <code>P-TT</code>" in console.get("/ui")


def test_login_goes_on_only_to_console_pages(console: Console) -> None:
    answer = console.client.post(
        "/ui/login",
        data={"key": ENGINEER, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/ui"
    answer = console.client.post(
        "/ui/login", data={"key": ENGINEER, "next": "/ui/search?q=OLT"}, follow_redirects=False
    )
    assert answer.headers["location"] == "/ui/search?q=OLT"


def test_a_header_key_works_without_a_session(console: Console) -> None:
    answer = console.client.get("/ui", headers={"Authorization": f"Bearer {ENGINEER}"})
    assert answer.status_code == 200


def test_the_session_cookie_stays_in_the_console_and_out_of_scripts(console: Console) -> None:
    answer = console.client.post("/ui/login", data={"key": ENGINEER}, follow_redirects=False)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/ui" in cookie
    assert "max-age=43200" in cookie


def test_console_requests_are_counted_as_one_route(console: Console) -> None:
    console.login(ENGINEER)
    console.get("/ui")
    console.client.get("/ui/no-such-page")
    metrics = console.client.get("/metrics").text
    assert 'route="/ui"' in metrics
    assert 'route="/ui/no-such-page"' not in metrics
