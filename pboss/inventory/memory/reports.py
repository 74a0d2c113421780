"""The reports' aggregate reads over the memory graph (`pboss.inventory.reports`), by the same
occupancy rules as `occupancy.py` (the contract tests keep them equal to Neo4j's)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import networkx as nx

from pboss.inventory.memory.occupancy import SLOT_EDGES, has_in
from pboss.inventory.memory.rows import element, kind_of, row_of, value_of
from pboss.inventory.model import Element
from pboss.inventory.reports import TakeUpRow, UtilisationRow
from pboss.inventory.timestamps import stamp, utc
from pboss.inventory.transaction import BUSY_BY

_SPLITTER_USERS = BUSY_BY["SplitterPort"] - {"HOLDS"}


def _row(el: Element, capacity: int, used: int, held: int, users: int = 0) -> UtilisationRow:
    return UtilisationRow(
        id=el.id, kind=el.kind, name=el.name, site=el.site, owner=el.owner,
        capacity=capacity, used=used, held=held, users=users,
    )  # fmt: skip


def _below(graph: nx.MultiDiGraph, node_id: str) -> Iterable[str]:
    """Everything fed from a node through FED_BY/PART_OF, at any depth."""
    seen, stack = {node_id}, [node_id]
    while stack:
        for src, _, key in graph.in_edges(stack.pop(), keys=True):
            if key in ("FED_BY", "PART_OF") and src not in seen:
                seen.add(src)
                stack.append(src)
                yield src


def _pon(graph: nx.MultiDiGraph, pon_id: str) -> tuple[int, int]:
    """ONTs below a PON port, and held splitter outputs below it."""
    onts = held = 0
    for i in _below(graph, pon_id):
        kind = kind_of(graph, i)
        onts += kind == "ONT"
        held += kind == "SplitterPort" and has_in(graph, i, ("HOLDS",))
    return onts, held


def _parts(graph: nx.MultiDiGraph, node_id: str, kind: str) -> list[str]:
    return sorted(
        src
        for src, _, key in graph.in_edges(node_id, keys=True)
        if key == "PART_OF" and kind_of(graph, src) == kind
    )


def utilisation_row(graph: nx.MultiDiGraph, el: Element) -> UtilisationRow:
    """One resource's utilisation."""
    if el.kind == "PonPort":
        onts, held = _pon(graph, el.id)
        return _row(el, int(el.max_split), onts, held, onts)  # type: ignore[attr-defined]
    if el.kind == "OLT":
        capacity = used = held = 0
        for pon in _parts(graph, el.id, "PonPort"):
            onts, kept = _pon(graph, pon)
            capacity += int(value_of(row_of(graph, pon), "max_split"))
            used, held = used + onts, held + kept
        return _row(el, capacity, used, held, used)
    if el.kind == "Splitter":
        ports = _parts(graph, el.id, "SplitterPort")
        used = sum(has_in(graph, p, _SPLITTER_USERS) for p in ports)
        held = sum(
            has_in(graph, p, ("HOLDS",)) and not has_in(graph, p, _SPLITTER_USERS) for p in ports
        )
        return _row(el, len(ports), used, held, used)
    if el.kind in ("TrunkSection", "PartnerLink"):
        routed: set[int] = set()
        kept: set[int] = set()
        circuits: set[str] = set()
        for src, _, key, data in graph.in_edges(el.id, keys=True, data=True):
            if key in SLOT_EDGES:
                (routed if key == "ROUTED_OVER" else kept).update(data.get("slots") or ())
                if key == "ROUTED_OVER":
                    circuits.add(src)
        cap = int(el.capacity_vc12)  # type: ignore[attr-defined]
        return _row(el, cap, len(routed), len(kept - routed), len(circuits))
    if el.kind == "PartnerAccess":
        pool: Any = el
        return _row(el, int(pool.total), int(pool.used), int(pool.reserved), int(pool.used))
    raise ValueError(f"no utilisation report for {el.kind!r}")


def utilisation(
    graph: nx.MultiDiGraph, ids: Iterable[str], site: str | None
) -> list[UtilisationRow]:
    """Every resource of `ids` (one kind), optionally at one site, by id."""
    els = [element(graph, i) for i in ids]
    return [
        utilisation_row(graph, el)
        for el in sorted(els, key=lambda e: e.id)
        if site in (None, el.site)
    ]


def take_up(graph: nx.MultiDiGraph, sites: Iterable[str], onts: Iterable[str]) -> list[TakeUpRow]:
    """Households passed against ONTs in service (fed by a splitter output), per building/estate."""
    connected: dict[str, int] = {}
    for i in onts:
        site = value_of(row_of(graph, i), "site")
        if site and has_in_out(graph, i, "FED_BY"):
            connected[site] = connected.get(site, 0) + 1
    rows = []
    for sid in sorted(sites):
        s: Any = element(graph, sid)
        if s.site_type in ("building", "estate") and (s.households or connected.get(sid)):
            rows.append(
                TakeUpRow(
                    site=s.id,
                    name=s.name,
                    site_type=s.site_type,
                    region=s.region,
                    households=s.households,
                    connected=connected.get(sid, 0),
                )
            )
    return rows


def has_in_out(graph: nx.MultiDiGraph, node_id: str, edge_type: str) -> bool:
    """True when an edge of this type leaves the node."""
    return any(k == edge_type for _, _, k in graph.out_edges(node_id, keys=True))


def records(
    elements: Iterable[Element], time_field: str, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """The stored properties of each element whose `time_field` is in [since, until), by time
    (times as `stamp`s, as Neo4j stores them)."""
    lo, hi = utc(since), utc(until)
    out: list[tuple[datetime, str, dict[str, Any]]] = []
    for el in elements:
        at = getattr(el, time_field, None)
        if isinstance(at, datetime) and lo <= utc(at) < hi:
            props = {k: stamp(v) if isinstance(v, datetime) else v for k, v in el.props().items()}
            out.append((utc(at), el.id, props))
    out.sort(key=lambda t: (t[0], t[1]))
    return [p for _, _, p in out]
