"""Cursor connections (`edges { cursor node }`, `pageInfo`, `totalCount`) and opaque cursors.

Stores page by id (keyset); a cursor is that id wrapped with a prefix saying which list it
belongs to, base64-encoded so clients treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii

import strawberry

from pboss.graphql.errors import UserInputError
from pboss.graphql.types import Element

MAX_PAGE = 500


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ElementEdge:
    cursor: str
    node: Element


@strawberry.type(description="A page of elements with the total over all pages.")
class ElementConnection:
    edges: list[ElementEdge]
    page_info: PageInfo
    total_count: int


#: `base64.urlsafe_b64encode`'s alphabet from the standard one.
_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode_cursor(prefix: str, key: str) -> str:
    """An opaque cursor for the item `key` of a `prefix` list: `base64.urlsafe_b64encode` of
    `prefix:key`, spelled with binascii (a riders page makes fifty)."""
    plain = binascii.b2a_base64(f"{prefix}:{key}".encode(), newline=False)
    return plain.translate(_URLSAFE).decode()


def decode_cursor(prefix: str, cursor: str | None) -> str | None:
    """The key inside a cursor of a `prefix` list (UserInputError when it is not one)."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raw = ""
    kind, sep, key = raw.partition(":")
    if not sep or kind != prefix or not key:
        raise UserInputError(f"invalid cursor {cursor[:80]!r} for this list")
    return key


def page_size(first: int, limit: int = MAX_PAGE) -> int:
    """`first` checked against 1..limit (UserInputError otherwise)."""
    if not 1 <= first <= limit:
        raise UserInputError(f"first must be between 1 and {limit}, got {first}")
    return first
