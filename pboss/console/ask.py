"""Console pages ask the in-process GraphQL schema, in the caller's context, exactly what a client
of the API would: the same roles, partner isolation, masking of household data and limits."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from pboss.console.session import principal_of
from pboss.graphql.context import Context
from pboss.graphql.permissions import Principal
from pboss.http.endpoint import make_context


class ConsoleQueryError(Exception):
    """The API refused or failed a console page's query: its messages, shown on the page."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def console_state(request: Request) -> dict[str, Any]:
    """The app-wide state every console page works over (`create_app`'s `app.state.pboss`)."""
    return request.app.state.pboss


def context_for(request: Request) -> Context:
    """A GraphQL context for the console's caller (LoginRequired without a known key)."""
    state = console_state(request)
    return make_context(state, principal_of(request, state))


def caller(request: Request) -> Principal:
    """The console's caller (LoginRequired without a known key)."""
    return principal_of(request, console_state(request))


async def ask(request: Request, document: str, variables: dict[str, Any] | None = None) -> Any:
    """Run one GraphQL operation for the console's caller; its data, or ConsoleQueryError."""
    schema = request.app.state.pboss_schema
    result = await schema.execute(document, variables, context_for(request))
    if result.errors:
        raise ConsoleQueryError([error.message for error in result.errors])
    return result.data
