"""Cursor connections: `edges { cursor node }`, `pageInfo` and `totalCount` (cursors: `cursors`)."""

from __future__ import annotations

import strawberry

from pboss.graphql.types import Element


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
