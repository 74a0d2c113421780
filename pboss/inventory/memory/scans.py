"""Whole-store scans and the sweeper's due-items query for the MemoryStore.

Each scan takes what it needs under the store's lock (a sorted id list, or the edge rows) and
yields outside it, so a long export does not hold writers up; an element deleted meanwhile is
skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import networkx as nx

from pboss.inventory.memory.rows import row_of, unpack, value_of
from pboss.inventory.model import Element
from pboss.inventory.timestamps import utc

EdgeRow = tuple[str, str, dict[str, Any]]


def nodes_of(
    graph: nx.MultiDiGraph, lock: threading.RLock, ids: Mapping[str, set[str]], kind: str
) -> Iterator[dict[str, Any]]:
    """Flat properties of every node of a kind (`ids`: the store's kind index), ordered by id."""
    with lock:
        wanted = sorted(ids.get(kind, ()))
    for i in wanted:
        row = graph.nodes[i].get("row") if i in graph else None
        if row is not None:
            yield unpack(row).props()


def ids_of(
    graph: nx.MultiDiGraph,
    lock: threading.RLock,
    ids: Mapping[str, set[str]],
    kind: str,
    owner: str,
) -> Iterator[str]:
    """Ids of the nodes of one kind and owner, ordered."""
    with lock:
        found = sorted(i for i in ids.get(kind, ()) if value_of(row_of(graph, i), "owner") == owner)
    yield from found


def edges_of(
    graph: nx.MultiDiGraph, lock: threading.RLock, edge_type: str, ordered: bool, props: bool
) -> Iterator[EdgeRow]:
    """(src, dst, properties) of every edge of a type."""
    with lock:
        rows = [
            (s, d, dict(data) if props else {})
            for s, d, k, data in graph.edges(keys=True, data=True)
            if k == edge_type
        ]
    yield from (sorted(rows, key=lambda r: (r[0], r[1])) if ordered else rows)


def _instant(value: Any) -> datetime | None:
    """A stored time (a datetime or an ISO string) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return utc(value)


def due(
    elements: Sequence[Element],
    *,
    states: Sequence[str],
    time_field: str,
    until: datetime | None,
    limit: int,
) -> list[str]:
    """Ids of the elements whose `state` is in `states` and, with `until`, whose `time_field` is
    at or before it; ordered by (`time_field`, id), elements without the time last."""
    wanted = set(states)
    bound = _instant(until)
    rows: list[tuple[bool, datetime, str]] = []
    for el in elements:
        if getattr(el, "state", None) not in wanted:
            continue
        at = _instant(getattr(el, time_field, None))
        if bound is not None and (at is None or at > bound):
            continue
        rows.append((at is None, at or datetime.min.replace(tzinfo=UTC), el.id))
    rows.sort()
    return [i for _, _, i in rows[:limit]]
