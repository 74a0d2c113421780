"""The console's door: the login form (an API key, checked against the key ring), logout, the
home page, and the answer every page gives a caller without a known key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from pboss.console.ask import caller, console_state
from pboss.console.render import page
from pboss.console.session import COOKIE, SESSION_SECONDS, LoginRequired

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a console path only (no open redirect)."""
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui"


@router.get("/ui/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The login form."""
    return page(request, "login.html", "Log in", next=_safe_next(next), reason=None)


@router.post("/ui/login")
def login(
    request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/ui"
) -> Response:
    """Check the key; a known one opens a session (cookie) and goes on to `next`."""
    key = key.strip()
    principal = console_state(request)["keyring"].principal(key) if key else None
    if principal is None:
        reason = "The server does not know this API key." if key else "Enter an API key."
        return page(
            request, "login.html", "Log in", status_code=401, next=_safe_next(next), reason=reason
        )
    answer = RedirectResponse(_safe_next(next), status_code=303)
    answer.set_cookie(
        COOKIE,
        key,
        max_age=SESSION_SECONDS,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return answer


@router.post("/ui/logout")
def logout() -> Response:
    """End the session."""
    answer = RedirectResponse("/ui/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/ui")
    return answer


@router.get("/ui")
def home(request: Request) -> Response:
    """The home page: who is logged in and what each page is for."""
    return page(request, "home.html", "pboss console", principal=caller(request))


def add_login_handler(app: FastAPI) -> None:
    """A console page opened without a known key answers with the login form (401)."""

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if not request.url.path.startswith("/ui") or request.url.path.endswith(".svg"):
            return Response(exc.reason, status_code=401, media_type="text/plain")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return page(
            request,
            "login.html",
            "Log in",
            status_code=401,
            next=_safe_next(target),
            reason=exc.reason,
        )
