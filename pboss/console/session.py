"""Who is using the console: the API key of the session cookie (set by the login form) or of the
request's headers (`Authorization: Bearer` / `X-API-Key`, for tools that embed a picture).

The cookie holds the key itself (HttpOnly, SameSite=Strict, path /ui), so any replica or worker
serves the session without shared state, and a key removed from the configuration ends it at
once. Console pages only read; the login form is the one POST, and SameSite keeps it first-party.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from pboss.graphql.permissions import Principal
from pboss.http.auth import key_from_headers

COOKIE = "pboss_console"
#: How long a console login lasts (seconds): one working day.
SESSION_SECONDS = 12 * 3600


class LoginRequired(Exception):
    """The console was opened without a key it knows: the login page answers (401)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def request_key(request: Request) -> str | None:
    """The API key a console request carries: a header first, else the session cookie."""
    return key_from_headers(request.headers) or request.cookies.get(COOKIE) or None


def principal_of(request: Request, state: dict[str, Any]) -> Principal:
    """The caller of a console request, or LoginRequired saying why there is none."""
    key = request_key(request)
    if key is None:
        raise LoginRequired("Enter an API key to open the console.")
    principal = state["keyring"].principal(key)
    if principal is None:
        raise LoginRequired("The server does not know this API key.")
    return principal
