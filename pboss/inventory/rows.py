"""Rows of a bulk insert: what a validated load found new, in the form stores write it.

The loader's first pass validates every row against the model, the catalog and the whole feed;
rows whose nodes the store does not hold yet (and edges leaving such nodes) then skip the
per-batch re-validation and read-before-write of `upsert` and go to `GraphStore.insert_new`,
which checks only what may have changed since validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from pboss.inventory.errors import Issue, ValidationFailed
from pboss.inventory.model import SINGLE_UPSTREAM

#: A node as stored: `Element.props()`, flat, with `id` and `kind`.
NodeRow = dict[str, Any]


class EdgeRow(NamedTuple):
    """An edge as stored: its type, ends and flat properties (`Edge.props()`)."""

    type: str
    src: str
    dst: str
    props: dict[str, Any]


def edge_conflict(row: EdgeRow, src_exists: bool, dst_exists: bool, upstream: str | None) -> Issue:
    """Why `insert_new` could not write an edge validation had accepted (the store changed)."""
    item = f"edge {row.type}({row.src!r} -> {row.dst!r})"
    missing = [end for end, ok in (("src", src_exists), ("dst", dst_exists)) if not ok]
    if missing:
        ends = ", ".join(f"{end} {getattr(row, end)!r}" for end in missing)
        return Issue(item, f"edge to a missing node: {ends} (deleted since validation?)")
    if row.type in SINGLE_UPSTREAM and upstream is not None:
        reason = f"{row.src!r} already has {row.type} {upstream!r} (written since validation)"
        return Issue(item, reason)
    return Issue(item, "not written (the store changed since validation)")


def refuse_own_conflicts(nodes: Sequence[NodeRow], edges: Sequence[EdgeRow]) -> None:
    """Refuse a call that contradicts itself (an id twice, two targets of one single-upstream
    source): what no store check would see, since neither half is in the store yet."""
    issues = []
    seen: set[str] = set()
    for n in nodes:
        if n["id"] in seen:
            issues.append(Issue(f"{n['kind']} {n['id']!r}", "id given twice in this call", "id"))
        seen.add(n["id"])
    upstream: dict[tuple[str, str], str] = {}
    for e in edges:
        if e.type in SINGLE_UPSTREAM:
            other = upstream.setdefault((e.type, e.src), e.dst)
            if other != e.dst:
                item = f"edge {e.type}({e.src!r} -> {e.dst!r})"
                issues.append(Issue(item, f"{e.src!r} has {e.type} {other!r} in this call too"))
    if issues:
        raise ValidationFailed(issues)
