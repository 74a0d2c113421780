"""The per-request context: the store, who is calling, settings, app-wide state and loaders.

It is built in one place, the HTTP endpoint's context factory (`pboss.http.endpoint`), for every
operation alike.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from typing import Any, TypeVar

import strawberry
from strawberry.fastapi import BaseContext

from pboss.config import Settings
from pboss.graphql.connections import CursorSeal
from pboss.graphql.dataloaders import Loaders
from pboss.graphql.permissions import Action, Principal, allows, can_see
from pboss.inventory.catalog import Catalog
from pboss.inventory.model import Element
from pboss.inventory.store import GraphStore

T = TypeVar("T")


class Context(BaseContext):
    """What every resolver gets through `info.context`."""

    def __init__(
        self,
        *,
        store: GraphStore,
        principal: Principal,
        settings: Settings,
        state: dict[str, Any],
    ):
        super().__init__()
        self.store = store
        self.principal = principal
        self.settings = settings
        self.state = state
        self.catalog: Catalog = state["catalog"]
        self.executor: Executor = state["executor"]
        self.loaders = Loaders(store, self.call)

    @property
    def cursor_seal(self) -> CursorSeal:
        """The app's seal for cursors a caller may not read (`pboss.graphql.connections`)."""
        return self.state["cursor_seal"]

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call on the store threads, so the event loop keeps serving; in a
        copy of this operation's context variables, so the store sees the request's causal
        scope (`pboss.inventory.consistency`), as `asyncio.to_thread` would."""
        loop = asyncio.get_running_loop()
        run = contextvars.copy_context().run
        return await loop.run_in_executor(self.executor, partial(run, fn, *args, **kwargs))

    def sees(self, el: Element | None) -> bool:
        """True when the element exists and this caller may see it."""
        return el is not None and can_see(self.principal, el)

    def allows(self, action: Action) -> bool:
        """True when this caller's role may perform the action."""
        return allows(self.principal, action)

    async def element(self, element_id: str) -> Element | None:
        """One element through the loader, or None when missing or hidden from this caller."""
        el = await self.loaders.elements.load(element_id)
        return el if self.sees(el) else None


Info = strawberry.Info[Context, None]
