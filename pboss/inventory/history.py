"""History entries of every change to an element or an edge, written once for both stores.

An element's history says who changed what, when and why: created (with what), fields changed
(before/after of only the changed ones, attrs included: a rename, a move to another site), status
changes, deleted (with what it was), and edges added, changed or removed at either end (an OLT's
history shows the port that was added to it). Each store builds the entries with these functions
inside its write transaction, from what it read there, and writes them with the change; a write
that changes nothing leaves no entry.

An edge change is entered in the history of both its ends; `history()` of all elements lists it
once (at its source).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pboss.inventory.model import Edge, Element
from pboss.inventory.results import ChangeRecord, EdgeRef

#: Properties that identify an element and never change: not shown as before/after.
_IDENTITY = frozenset({"id", "kind"})


class ChangeKind(StrEnum):
    """What one history entry records."""

    CREATED = "created"
    UPDATED = "updated"
    STATUS = "status"
    DELETED = "deleted"
    EDGE_ADDED = "edge_added"
    EDGE_UPDATED = "edge_updated"
    EDGE_REMOVED = "edge_removed"
    EDGE_MOVED = "edge_moved"


def _draft(
    element_id: str,
    change: ChangeKind,
    from_status: str | None,
    to_status: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    edge: EdgeRef | None = None,
) -> ChangeRecord:
    # actor, reason and time are stamped by `stamped`; a None status of an edge entry is the
    # end's status, filled in by the store when it writes the entry
    return ChangeRecord.model_construct(
        element_id=element_id,
        from_status=from_status,
        to_status=to_status,
        actor="",
        reason="",
        at=datetime.min,
        change=str(change),
        before=before,
        after=after,
        edge=edge,
    )


def shown(props: Mapping[str, Any]) -> dict[str, Any]:
    """An element's properties as an entry shows them (no identity, no internal `_` keys)."""
    return {k: v for k, v in props.items() if k not in _IDENTITY and not k.startswith("_")}


def field_diff(
    old: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changed properties before and after (a property added or dropped shows as null)."""
    keys = sorted((old.keys() | new.keys()) - _IDENTITY)
    changed = [k for k in keys if old.get(k) != new.get(k) and not k.startswith("_")]
    return {k: old.get(k) for k in changed}, {k: new.get(k) for k in changed}


def created(el: Element) -> ChangeRecord:
    """The entry of a new element, with what it was created with."""
    return _draft(el.id, ChangeKind.CREATED, None, str(el.status), None, shown(el.props()))


def updated(old: Element, new: Element) -> ChangeRecord | None:
    """The entry of a changed element (None when nothing changed): STATUS when only the
    status changed, else UPDATED; before/after hold only the changed properties."""
    before, after = field_diff(old.props(), new.props())
    if not before:
        return None
    kind = ChangeKind.STATUS if before.keys() == {"status"} else ChangeKind.UPDATED
    return _draft(new.id, kind, str(old.status), str(new.status), before, after)


def status_changed(element_id: str, old: str, new: str) -> ChangeRecord:
    """The entry of a status change alone (`set_status`)."""
    return _draft(element_id, ChangeKind.STATUS, old, new, {"status": old}, {"status": new})


def deleted(props: Mapping[str, Any]) -> ChangeRecord:
    """The entry of a deleted element, with what it was."""
    return _draft(props["id"], ChangeKind.DELETED, props.get("status"), "deleted", shown(props))


def edge_entries(
    change: ChangeKind,
    edge_type: str,
    src: str,
    dst: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    ends: Iterable[str] | None = None,
) -> list[ChangeRecord]:
    """The entries of one edge change, one in the history of each end (or of `ends` only)."""
    ref = EdgeRef(type=edge_type, src=src, dst=dst)
    b = dict(before) if before is not None else None
    a = dict(after) if after is not None else None
    at = list(dict.fromkeys(ends if ends is not None else (src, dst)))
    return [_draft(i, change, None, None, b, a, ref) for i in at]


def edge_moved(before: Edge, after: Edge) -> list[ChangeRecord]:
    """The entries of one re-pointed edge (`pboss.inventory.edges`), one at each of its ends
    old and new: `before`/`after` hold its ends (`src`, `dst`) and the properties that changed,
    so the move can be read, and undone, from any end's history."""
    old, new = before.props(), after.props()
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    b = {"src": before.src, "dst": before.dst, **{k: old.get(k) for k in changed}}
    a = {"src": after.src, "dst": after.dst, **{k: new.get(k) for k in changed}}
    ref = EdgeRef(type=after.type, src=after.src, dst=after.dst)
    ends = dict.fromkeys((after.src, after.dst, before.src, before.dst))
    return [_draft(i, ChangeKind.EDGE_MOVED, None, None, b, a, ref) for i in ends]


def fold_moves(
    entries: Sequence[ChangeRecord], moves: Sequence[tuple[Edge, Edge]]
) -> list[ChangeRecord]:
    """A transaction's entries with each re-point (`GraphTx.repoint`: (before, after)) entered
    as one move at its ends, in place of the removal and the addition it was written as."""
    if not moves:
        return list(entries)
    gone = {(b.type, b.src, b.dst) for b, _ in moves}
    made = {(a.type, a.src, a.dst) for _, a in moves}

    def folded(e: ChangeRecord) -> bool:
        key = (e.edge.type, e.edge.src, e.edge.dst) if e.edge is not None else None
        return (e.change == ChangeKind.EDGE_REMOVED and key in gone) or (
            e.change == ChangeKind.EDGE_ADDED and key in made
        )

    out = [e for e in entries if not folded(e)]
    for before, after in moves:
        out += edge_moved(before, after)
    return out


def plan_entries(
    new: Sequence[Element],
    changed: Sequence[Element],
    existing: Mapping[str, Any],
    edges_new: Sequence[Edge],
    edges_changed: Sequence[Edge],
    existing_edges: Mapping[tuple[str, str, str], Mapping[str, Any]],
) -> list[ChangeRecord]:
    """The entries of a validated batch (`rules.BatchPlan`'s parts), given what it replaces."""
    out = [created(n) for n in new]
    for n in changed:
        entry = updated(existing[n.id], n)
        if entry is not None:
            out.append(entry)
    for e in edges_new:
        out += edge_entries(ChangeKind.EDGE_ADDED, e.type, e.src, e.dst, None, e.props())
    for e in edges_changed:
        before, after = field_diff(existing_edges.get(e.key) or {}, e.props())
        out += edge_entries(ChangeKind.EDGE_UPDATED, e.type, e.src, e.dst, before, after)
    return out


def stamped(entries: Sequence[ChangeRecord], actor: str, reason: str) -> list[ChangeRecord]:
    """The entries with who, why and one time (now) set."""
    at = datetime.now(UTC)
    return [e.model_copy(update={"actor": actor, "reason": reason, "at": at}) for e in entries]


def listed_once(entry: ChangeRecord) -> bool:
    """True for the copy of an entry a history of all elements lists (an edge's at its source)."""
    return entry.edge is None or entry.edge.src == entry.element_id


# ---- as Neo4j stores an entry: flat properties (maps as JSON text) -----------------------------


def to_row(entry: ChangeRecord, n: int) -> dict[str, Any]:
    """A `Change` node's properties; `n` orders the entries of one write."""
    row: dict[str, Any] = {
        "element_id": entry.element_id,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "actor": entry.actor,
        "reason": entry.reason,
        "at": entry.at,
        "n": n,
        "change": entry.change,
    }
    if entry.before is not None:
        row["before"] = json.dumps(entry.before, ensure_ascii=False, default=str)
    if entry.after is not None:
        row["after"] = json.dumps(entry.after, ensure_ascii=False, default=str)
    if entry.edge is not None:
        row.update(edge_type=entry.edge.type, edge_src=entry.edge.src, edge_dst=entry.edge.dst)
    return row


def from_row(props: Mapping[str, Any], at: datetime) -> ChangeRecord:
    """An entry from a stored `Change` node (written before 2026-12 as a status change)."""
    edge = None
    before = json.loads(props["before"]) if props.get("before") else None
    after = json.loads(props["after"]) if props.get("after") else None
    if "change" not in props:  # a status change recorded before every change was
        before, after = {"status": props.get("from_status")}, {"status": props["to_status"]}
    if props.get("edge_type"):
        edge = EdgeRef(type=props["edge_type"], src=props["edge_src"], dst=props["edge_dst"])
    return ChangeRecord(
        element_id=props["element_id"],
        from_status=props.get("from_status"),
        to_status=props["to_status"],
        actor=props["actor"],
        reason=props["reason"],
        at=at,
        change=props.get("change") or ChangeKind.STATUS,
        before=before,
        after=after,
        edge=edge,
    )
