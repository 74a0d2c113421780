"""Inventory queries: one element by id, and elements filtered by kind, site, owner, status and
text, paged by id.

Each is one store call through the request's loaders or the store; results pass the caller's
visibility check; expected failures are members of the result union.
"""

from __future__ import annotations

import operator
import re
from functools import reduce
from typing import Annotated

import strawberry

from pboss.graphql.connections import PageInfo, decode_cursor, encode_cursor, page_size
from pboss.graphql.context import Info
from pboss.graphql.errors import NotFound, StatusEnum, UserInputError
from pboss.graphql.inventory.types import (
    ELEMENT_TYPES,
    ElementConnection,
    ElementEdge,
    to_type,
)
from pboss.graphql.permissions import owner_scope, sees_phones
from pboss.inventory.model import KINDS
from pboss.inventory.results import FindQuery

ELEMENT_CURSOR = "element"

ElementResult = Annotated[
    reduce(operator.or_, (*ELEMENT_TYPES, NotFound)), strawberry.union("ElementResult")
]


#: What a phone number typed by CRM may look like: digits with the usual punctuation.
_PHONE_TEXT = re.compile(r"^\+?[0-9][0-9 ()\-.]*$")
#: Fewest digits a phone search compares (fewer would match half the customers).
MIN_PHONE_DIGITS = 6


def phone_digits(text: str) -> str | None:
    """The digits of a text that looks like a phone number (country code 86 dropped from a
    full mobile number), or None when it does not look like one."""
    text = text.strip()
    if not _PHONE_TEXT.match(text):
        return None
    digits = "".join(c for c in text if c.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


@strawberry.type
class InventoryQuery:
    """Lookups by id, filtered lists and site search."""

    @strawberry.field(description="One element by id; NotFound when missing or not yours to see.")
    async def element(self, info: Info, id: strawberry.ID) -> ElementResult:
        el = await info.context.element(id)
        return to_type(el) if el is not None else NotFound.of(id)

    @strawberry.field(
        description="Elements filtered by kind, site, owner, status and text (id, name, code, "
        "address; and a customer's phone number, for the roles that see phones)."
    )
    async def elements(
        self,
        info: Info,
        kind: str | None = None,
        site: strawberry.ID | None = None,
        owner: str | None = None,
        status: StatusEnum | None = None,
        text: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ElementConnection:
        ctx = info.context
        if kind is not None and kind not in KINDS:
            raise UserInputError(f"unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}")
        scope = owner_scope(ctx.principal)
        if scope is not None and owner not in (None, scope):
            return ElementConnection(
                edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None), total_count=0
            )
        query = FindQuery(
            kind=kind,
            site=site,
            owner=scope or owner,
            status=status.value if status else None,
            text=text or None,
            phone=phone_digits(text) if text and sees_phones(ctx.principal) else None,
            after=decode_cursor(ELEMENT_CURSOR, after),
            limit=page_size(first),
        )
        page = await ctx.call(ctx.store.find, query)
        edges = [
            ElementEdge(cursor=encode_cursor(ELEMENT_CURSOR, el.id), node=to_type(el))
            for el in page.items
            if ctx.sees(el)
        ]
        return ElementConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.next_cursor is not None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total,
        )
