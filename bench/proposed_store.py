"""A proposed `Neo4jStore.upsert`, measured by `bench_load.py --proposal`: same checks, less work.

Not used by pboss itself: the lead owns the store. Three changes, each keeping the contract:

1. Copy the caller's nodes shallowly (`model_copy(update={"attrs": ...})`) instead of
   `model_copy(deep=True)`: `apply_spec` only assigns fields and adds attrs, so that is enough.
2. Fetch less before planning: full properties only for the batch's own nodes (needed to tell
   added / updated / unchanged and status changes); for ids the batch only *refers* to (edge
   endpoints, sites, owners) fetch `[id, kind, stage, capacity_vc12]`, all `plan_batch` reads of
   them, into a small `Ref` (pydantic validation, or even `model_construct`, of thousands of
   stored rows per batch costs more client CPU than the whole write).
   Edges are looked up by seeking both endpoints first, then expanding (twice as fast as
   expanding every relationship of the source).
3. `CREATE` the nodes the plan found new (the uniqueness constraint still refuses a concurrent
   duplicate, failing the transaction instead of merging), `MERGE` only the changed ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import ManagedTransaction

from pboss.inventory.batch import plan_batch, referenced_ids
from pboss.inventory.model import KINDS, Edge, Element
from pboss.inventory.neo4j_store import Neo4jStore, _element, _labels
from pboss.inventory.results import UpsertResult

_LEAN_FETCH = """
CALL () {
  MATCH (n:Entity) WHERE n.id IN $own
  RETURN collect(properties(n)) AS nodes
}
CALL () {
  MATCH (n:Entity) WHERE n.id IN $refs
  RETURN collect([n.id, n.kind, n.stage, n.capacity_vc12]) AS refs
}
CALL () {
  UNWIND $keys AS k
  MATCH (a:Entity {id: k[1]})
  MATCH (b:Entity {id: k[2]})
  MATCH (a)-[r]->(b) WHERE type(r) = k[0]
  RETURN collect([k, properties(r)]) AS edges
}
RETURN nodes, refs, edges
"""


@dataclass(frozen=True, slots=True)
class Ref:
    """A node the batch only refers to: exactly the attributes plan_batch reads of it."""

    id: str
    kind: str
    stage: int | None
    capacity_vc12: int | None


class ProposedNeo4jStore(Neo4jStore):
    """Neo4jStore with the proposed upsert (see the module docstring)."""

    def _fetch_lean(
        self, tx: ManagedTransaction, nodes: Sequence[Element], edges: Sequence[Edge]
    ) -> tuple[dict[str, Element], dict[tuple[str, str, str], dict[str, Any]]]:
        """Full rows for the batch's own nodes, four fields for the rest, existing edges."""
        own = {n.id for n in nodes}
        refs = referenced_ids(nodes, edges) - own
        row = self.run(
            tx, "upsert.existing", _LEAN_FETCH,
            own=sorted(own), refs=sorted(refs), keys=[list(e.key) for e in edges],
        )[0]  # fmt: skip
        existing = {p["id"]: _element(p) for p in row["nodes"]}
        for element_id, kind, stage, capacity in row["refs"]:
            if kind in KINDS:
                existing[element_id] = Ref(element_id, kind, stage, capacity)  # type: ignore[assignment]
        edges_found = {tuple(k): dict(props) for k, props in row["edges"]}
        return existing, edges_found  # type: ignore[return-value]

    def _create_nodes(self, tx: ManagedTransaction, nodes: list[Element]) -> None:
        """CREATE the nodes the plan found new, one query per kind."""
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for n in nodes:
            by_kind[n.kind].append(n.props())
        for kind, rows in sorted(by_kind.items()):
            self.run(
                tx, "upsert.create", f"UNWIND $rows AS r CREATE (n{_labels(kind)}) SET n = r",
                rows=rows,
            )  # fmt: skip

    def upsert(
        self,
        nodes: Sequence[Element],
        edges: Sequence[Edge] = (),
        *,
        actor: str = "system",
        reason: str = "upsert",
    ) -> UpsertResult:
        """As Neo4jStore.upsert, with the three changes of the module docstring."""

        def work(tx: ManagedTransaction) -> UpsertResult:
            """The whole upsert in one managed transaction."""
            batch = [n.model_copy(update={"attrs": dict(n.attrs)}) for n in nodes]
            existing, existing_edges = self._fetch_lean(tx, batch, edges)
            plan = plan_batch(batch, edges, existing, existing_edges, self.catalog)
            self._create_nodes(tx, plan.nodes_new)
            self._write_nodes(tx, plan.nodes_changed)
            self._write_edges(tx, plan.edges_new + plan.edges_changed)
            self._check_slots(tx, plan)
            triples = [(c.element_id, c.from_status, c.to_status) for c in plan.status_changes]
            self._record_changes(tx, self._change_rows(triples, actor, reason))
            return UpsertResult(
                nodes_added=len(plan.nodes_new),
                nodes_updated=len(plan.nodes_changed),
                nodes_unchanged=plan.nodes_unchanged,
                edges_added=len(plan.edges_new),
                edges_updated=len(plan.edges_changed),
                edges_unchanged=plan.edges_unchanged,
            )

        return self.execute_write(work)
