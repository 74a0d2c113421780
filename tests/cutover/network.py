"""The cutover tests' network on top of the demo: a full 1:8 splitter (SPL-JZ-2A, eight ONTs) and
a new, empty 1:16 splitter (SPL-JZ-3) fed from the same first stage; a clock tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pboss.inventory.model import FAILURE_EDGES, Edge, parse_edge, parse_node
from pboss.inventory.store import GraphStore

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
WINDOW = (T0 + timedelta(hours=14), T0 + timedelta(hours=18))
#: The network kinds compared before a plan and after its rollback.
NETWORK_KINDS = (
    "OLT", "PonPort", "Splitter", "SplitterPort", "ONT", "NE", "Port", "TrunkSection",
    "PartnerLink", "Circuit", "PartnerAccess", "Service", "Customer",
)  # fmt: skip


class Clock:
    """A clock tests move instead of sleeping."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def full_splitter(store: GraphStore) -> None:
    """Fill SPL-JZ-2A's outputs 3..8 with ONTs and services, and add the empty SPL-JZ-3 1:16."""
    nodes: list[dict[str, Any]] = [
        {"kind": "Splitter", "id": "SPL-JZ-3", "site": "B-JZ", "stage": 2, "spec": "SPL-1x16"}
    ]
    edges: list[dict[str, Any]] = [{"type": "FED_BY", "src": "SPL-JZ-3", "dst": "SPL-JZ-1:3"}]
    for i in range(1, 17):
        nodes.append({"kind": "SplitterPort", "id": f"SPL-JZ-3:{i}", "site": "B-JZ", "index": i})
        edges.append({"type": "PART_OF", "src": f"SPL-JZ-3:{i}", "dst": "SPL-JZ-3"})
    for i in range(3, 9):
        ont, svc = f"ONT-JZ-{i}", f"SVC-JZ-{i}"
        nodes += [
            {"kind": "ONT", "id": ont, "site": "B-JZ", "status": "in_use", "spec": "ONT-HGU"},
            {"kind": "Service", "id": svc, "product": "FTTH-100M", "status": "in_use"},
        ]
        edges += [
            {"type": "FED_BY", "src": ont, "dst": f"SPL-JZ-2A:{i}"},
            {"type": "USES", "src": svc, "dst": ont},
            {"type": "FOR", "src": svc, "dst": "H-1" if i % 2 else "H-3"},
        ]
    store.upsert(
        [parse_node(n) for n in nodes], [parse_edge(e) for e in edges], actor="test", reason="setup"
    )


def network(store: GraphStore) -> dict[str, list[Any]]:
    """Every network node's stored properties and every network edge (the plan's own edges,
    HOLDS and MOVES from a CutoverPlan, left out), for comparing graphs."""
    out: dict[str, list[Any]] = {k: list(store.scan_nodes(k)) for k in NETWORK_KINDS}
    for t in (*FAILURE_EDGES, "FOR"):
        out[f"edge:{t}"] = list(store.scan_edges(t))
    out["edge:HOLDS"] = [e for e in store.scan_edges("HOLDS") if not e[0].startswith("CUT-")]
    return out


def last_seq(store: GraphStore) -> int:
    """The newest event's number, paging the log (what `last_event_seq` gives where it exists)."""
    seq = 0
    while page := store.events_after(seq, first=500):
        seq = page[-1].seq
    return seq


def fed_by(store: GraphStore, ont: str) -> str:
    """Where an ONT is fed from now."""
    return next(el.id for e, el in store.neighbours(ont, "out", ["FED_BY"]))


__all__ = ["Edge", "fed_by"]


def _ports(ne: str, site: str, spec: str, names: list[str]) -> tuple[list[Any], list[Any]]:
    nodes = [{"kind": "Port", "id": f"{ne}/{n}", "site": site, "spec": spec} for n in names]
    edges = [{"type": "PART_OF", "src": f"{ne}/{n}", "dst": ne} for n in names]
    return nodes, edges


def trunk_alternative(store: GraphStore) -> None:
    """A second self-built section NE-1—NE-2 (TS-3) beside TS-2, and three more circuits over
    TS-2 (CIR-3..5, 1 x 2M each, NE-1 to NE-2), so five circuits ride TS-2."""
    nodes: list[Any] = [
        {"kind": "TrunkSection", "id": "TS-3", "name": "NE-1—NE-2 (2)", "spec": "TRUNK-STM4"}
    ]
    edges: list[Any] = []
    for ne, site in (("NE-1", "EX-1"), ("NE-2", "EX-2")):
        n, e = _ports(ne, site, "PORT-STM4", ["STM4-2"])
        nodes += n
        edges += [*e, {"type": "TERMINATES", "src": "TS-3", "dst": f"{ne}/STM4-2"}]
        n, e = _ports(ne, site, "PORT-E1", [f"E1F-{i}" for i in range(1, 4)])
        nodes += n
        edges += e
    for i in range(1, 4):
        cir, svc = f"CIR-{i + 2}", f"SVC-LL-{i}"
        nodes += [
            {"kind": "Circuit", "id": cir, "bandwidth_2m": 1, "status": "in_use"},
            {"kind": "Service", "id": svc, "product": "MSTP-LL", "status": "in_use"},
        ]
        edges += [
            {"type": "A_END", "src": cir, "dst": f"NE-1/E1F-{i}"},
            {"type": "Z_END", "src": cir, "dst": f"NE-2/E1F-{i}"},
            {"type": "ROUTED_OVER", "src": cir, "dst": "TS-2", "seq": 1, "slots": [20 + i]},
            {"type": "USES", "src": svc, "dst": cir},
            {"type": "FOR", "src": svc, "dst": "E-1" if i == 1 else "E-2"},
        ]
    store.upsert(
        [parse_node(n) for n in nodes], [parse_edge(e) for e in edges], actor="test", reason="setup"
    )


def self_built_beside_tietong(store: GraphStore) -> None:
    """A self-built section NE-2—NE-Z (TS-4) beside Tietong's PL-1."""
    nodes: list[Any] = [
        {"kind": "TrunkSection", "id": "TS-4", "name": "NE-2—NE-Z", "spec": "TRUNK-STM1"}
    ]
    edges: list[Any] = []
    for ne, site in (("NE-2", "EX-2"), ("NE-Z", "B-DH")):
        n, e = _ports(ne, site, "PORT-STM1", ["STM1-9"])
        nodes += n
        edges += [*e, {"type": "TERMINATES", "src": "TS-4", "dst": f"{ne}/STM1-9"}]
    store.upsert(
        [parse_node(n) for n in nodes], [parse_edge(e) for e in edges], actor="test", reason="setup"
    )


def route(store: GraphStore, circuit: str) -> list[tuple[int | None, str, list[int] | None]]:
    """A circuit's route: (seq, link, slots) in order."""
    edges = [e for e, _ in store.neighbours(circuit, "out", ["ROUTED_OVER"])]
    return sorted(((e.seq, e.dst, e.slots) for e in edges), key=lambda r: r[0] or 0)
