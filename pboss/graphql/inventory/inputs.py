"""Mutation inputs: elements and edges as a write batch, checked by the inventory's own rules."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from pboss.graphql.errors import EdgeTypeEnum, StatusEnum
from pboss.inventory.errors import Issue
from pboss.inventory.model import Edge, Element, parse_edge, parse_node

MAX_BATCH = 1000
_COMMON = ("name", "owner", "status", "site", "spec")
#: Fields an explicit null clears (others fall back to their default when null).
_CLEARABLE = ("site", "spec")


@strawberry.input(description="An element to create or update, idempotent by id.")
class ElementInput:
    kind: str
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    owner: str | None = strawberry.UNSET
    status: StatusEnum | None = strawberry.UNSET
    site: strawberry.ID | None = strawberry.UNSET
    spec: str | None = strawberry.UNSET
    fields: JSON | None = strawberry.field(
        default=strawberry.UNSET, description='The kind\'s own fields, e.g. {"stage": 2}'
    )
    attrs: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Free attributes (flat: scalars or lists)"
    )

    def given(self) -> dict[str, Any]:
        """The values this input sets (unset ones are left out)."""
        raw: dict[str, Any] = {}
        for key in _COMMON:
            value = getattr(self, key)
            if value is strawberry.UNSET or (value is None and key not in _CLEARABLE):
                continue
            raw[key] = value.value if key == "status" and value is not None else value
        if self.fields not in (strawberry.UNSET, None):
            raw.update(self.fields)
        if self.attrs not in (strawberry.UNSET, None):
            raw["attrs"] = self.attrs
        return raw


@strawberry.input(
    description="A relationship from the dependent (src) to what it depends on (dst)."
)
class EdgeInput:
    type: EdgeTypeEnum
    src: strawberry.ID
    dst: strawberry.ID
    seq: int | None = None
    slots: list[int] | None = None
    attrs: JSON | None = None


@strawberry.input(description="A write batch: all of it is written, or none of it.")
class UpsertInput:
    elements: list[ElementInput] = strawberry.field(default_factory=list)
    edges: list[EdgeInput] = strawberry.field(default_factory=list)
    merge: bool = strawberry.field(
        default=False, description="keep stored values of fields an element input leaves unset"
    )
    reason: str = "upsert through the API"
    acknowledged_riders: int | None = strawberry.field(
        default=None,
        description="the riders (services) that the status changes of this batch to RETIRED or "
        "MAINTENANCE take down, as an ImpactNotAcknowledged answer counted them",
    )
    accept_impact: bool = strawberry.field(
        default=False, description="go ahead whatever services this batch takes down"
    )


def _fields_issue(item: ElementInput, index: int) -> list[Issue]:
    fields = item.fields
    if fields in (strawberry.UNSET, None):
        return []
    where = f"{item.kind} {item.id!r}"
    if not isinstance(fields, dict):
        return [Issue(where, "fields must be an object", "fields", index)]
    clash = sorted(set(fields) & {"kind", "id", "attrs", *_COMMON})
    if clash:
        return [
            Issue(where, f"give {clash} as their own arguments, not in fields", "fields", index)
        ]
    return []


def build_nodes(
    items: list[ElementInput], existing: dict[str, Element], merge: bool
) -> tuple[list[Element], list[Issue]]:
    """Typed nodes from inputs (over the stored values when merging), or the issues found."""
    nodes, issues = [], []
    for i, item in enumerate(items):
        bad = _fields_issue(item, i)
        if bad:
            issues += bad
            continue
        old = existing.get(item.id) if merge else None
        raw: dict[str, Any] = {}
        if old is not None and old.kind == item.kind:
            raw = old.model_dump(exclude_none=True)
        raw.update(item.given())
        raw.update(kind=item.kind, id=item.id)
        parsed = parse_node(raw, i)
        if isinstance(parsed, list):
            issues += parsed
        else:
            nodes.append(parsed)
    return nodes, issues


def build_edges(items: list[EdgeInput]) -> tuple[list[Edge], list[Issue]]:
    """Typed edges from inputs, or the issues found."""
    edges, issues = [], []
    for i, e in enumerate(items):
        raw: dict[str, Any] = {"type": e.type.value, "src": e.src, "dst": e.dst}
        if e.seq is not None:
            raw["seq"] = e.seq
        if e.slots is not None:
            raw["slots"] = e.slots
        if e.attrs is not None:
            raw["attrs"] = e.attrs
        parsed = parse_edge(raw, i)
        if isinstance(parsed, list):
            issues += parsed
        else:
            edges.append(parsed)
    return edges, issues
