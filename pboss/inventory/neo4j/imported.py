"""After Neo4j's bulk importer: what the CSV files could not carry, repeated edges, the check.

`first_node` says whether a database is empty (the importer replaces the whole database, so it
is only for a first load). `settle` runs once the imported database is up and the store has
created its constraints and indexes: it waits for the indexes, sets the patched properties,
keeps one copy (the last row's) of an edge the files held twice, and compares the counts by
label and type with what pass 1 accepted (the count store answers each in constant time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pboss.inventory.model import KINDS
from pboss.inventory.neo4j.client import Neo4jClient, WriteTx
from pboss.inventory.neo4j.queries import imports as q

PATCH_BATCH = 2000
INDEX_WAIT_SECONDS = 3600


class ImportCheckFailed(RuntimeError):
    """The imported database does not hold what pass 1 accepted (each difference named)."""


@dataclass
class Settled:
    """What `settle` did: properties patched, edge copies deleted, counts found."""

    patched: int = 0
    duplicates_deleted: int = 0
    nodes: dict[str, int] = field(default_factory=dict)
    edges: dict[str, int] = field(default_factory=dict)


def first_node(client: Neo4jClient) -> dict[str, Any] | None:
    """Some node of the database (its id and labels), or None when the database is empty."""
    rows = client.read(q.ANY_NODE)
    return rows[0] if rows else None


def _patch(client: Neo4jClient, patches: Iterable[Mapping[str, Any]]) -> int:
    """Set the properties the CSV files left out, in batches; how many rows were set."""
    done = 0
    nodes: list[Mapping[str, Any]] = []
    edges: dict[str, list[Mapping[str, Any]]] = defaultdict(list)

    def flush() -> None:
        nonlocal done
        if not nodes and not edges:
            return
        rows_n, rows_e = list(nodes), {t: list(r) for t, r in edges.items()}
        nodes.clear()
        edges.clear()

        def work(tx: WriteTx) -> int:
            got = tx.run(q.PATCH_NODES, rows=rows_n)[0]["patched"] if rows_n else 0
            for etype, rows in sorted(rows_e.items()):
                got += tx.run(q.patch_edges(etype), rows=rows)[0]["patched"]
            return int(got)

        wanted = len(rows_n) + sum(len(r) for r in rows_e.values())
        got = client.write(work)
        if got < wanted:
            raise ImportCheckFailed(f"{wanted - got} patched properties found no element")
        done += wanted

    for p in patches:
        if "node" in p:
            nodes.append(p)
        else:
            edges[p["type"]].append(p)
        if len(nodes) + sum(len(r) for r in edges.values()) >= PATCH_BATCH:
            flush()
    flush()
    return done


def _keep_last(
    client: Neo4jClient, candidates: Mapping[tuple[str, str, str], Mapping[str, Any]]
) -> dict[str, int]:
    """Keep one copy, with the last row's properties, of each edge imported more than once;
    the copies deleted per type."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (etype, src, dst), props in candidates.items():
        by_type[etype].append({"src": src, "dst": dst, "props": dict(props)})

    def work(tx: WriteTx) -> dict[str, int]:
        deleted: dict[str, int] = {}
        for etype, rows in sorted(by_type.items()):
            for at in range(0, len(rows), PATCH_BATCH):
                got = tx.run(q.keep_last_edge(etype), rows=rows[at : at + PATCH_BATCH])
                n = int(got[0]["deleted"]) if got else 0
                if n:
                    deleted[etype] = deleted.get(etype, 0) + n
        return deleted

    return client.write(work) if by_type else {}


def _count(client: Neo4jClient, query: q.Query) -> int:
    return int(client.read(query)[0]["n"])


def check_counts(
    client: Neo4jClient, nodes_by_kind: Mapping[str, int], edges_by_type: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """Compare nodes per label (kind, category, Entity) and edges per type with what pass 1
    accepted; ImportCheckFailed naming each difference. Returns the counts found."""
    problems: list[str] = []
    found_nodes: dict[str, int] = {}
    by_category: dict[str, int] = defaultdict(int)
    for kind in sorted(KINDS):
        want = nodes_by_kind.get(kind, 0)
        got = found_nodes[kind] = _count(client, q.nodes_labelled(kind))
        by_category[KINDS[kind].category.value] += want
        if got != want:
            problems.append(f"{got} {kind} node(s), pass 1 accepted {want}")
    for category, want in sorted(by_category.items()):
        got = _count(client, q.nodes_labelled(category))
        if got != want:
            problems.append(f"{got} node(s) labelled {category}, expected {want}")
    total = sum(nodes_by_kind.values())
    for label, query in (("Entity", q.nodes_labelled("Entity")), ("any", q.NODES_ALL)):
        got = _count(client, query)
        if got != total:
            problems.append(f"{got} node(s) ({label}), pass 1 accepted {total}")
    found_edges: dict[str, int] = {}
    for etype, want in sorted(edges_by_type.items()):
        got = found_edges[etype] = _count(client, q.edges_typed(etype))
        if got != want:
            problems.append(f"{got} {etype} edge(s), expected {want}")
    all_edges = _count(client, q.EDGES_ALL)
    if all_edges != sum(edges_by_type.values()):
        problems.append(f"{all_edges} edge(s) in all, expected {sum(edges_by_type.values())}")
    if problems:
        raise ImportCheckFailed("the imported database differs: " + "; ".join(problems))
    return found_nodes, found_edges


def settle(
    client: Neo4jClient,
    patches: Iterable[Mapping[str, Any]],
    candidates: Mapping[tuple[str, str, str], Mapping[str, Any]],
    nodes_by_kind: Mapping[str, int],
    edges_written: Mapping[str, int],
) -> Settled:
    """Wait for the indexes, patch, keep the last of repeated edges, check; see the module."""
    client.run_auto(q.AWAIT_INDEXES, seconds=INDEX_WAIT_SECONDS)
    out = Settled()
    out.patched = _patch(client, patches)
    deleted = _keep_last(client, candidates)
    out.duplicates_deleted = sum(deleted.values())
    expected = {t: n - deleted.get(t, 0) for t, n in edges_written.items()}
    out.nodes, out.edges = check_counts(client, nodes_by_kind, expected)
    return out
