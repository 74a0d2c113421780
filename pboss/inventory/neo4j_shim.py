"""TEMPORARY: the new GraphStore methods (`transact`, `due_ids`, `scan_*`) for today's Neo4jStore,
until the Neo4j branch implements them in `pboss/inventory/neo4j/` (then this module is deleted
and `bootstrap.open_store` and the test fixtures construct `Neo4jStore` again).

It runs units of work through the old provisioning adapter (`neo4j/provisioning.py`), whose flush
does not yet validate through `rules.plan_batch`, and holds the Cypher scans that lived in
`pboss/loaders/scan.py`. Kinds and edge types are checked against the model before they reach
Cypher; values travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from neo4j import READ_ACCESS, Query

from pboss.inventory.neo4j.store import Neo4jStore
from pboss.inventory.store import known_edge_type, known_kind
from pboss.inventory.transaction import GraphTx

T = TypeVar("T")


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Stored properties without internal `_` keys, as Python values."""
    out = {}
    for k, v in props.items():
        if not k.startswith("_"):
            to_native = getattr(v, "to_native", None)
            out[k] = to_native() if to_native else v
    return out


def _stamp(at: datetime) -> str:
    """A time as the provisioning model stores it: fixed-width UTC ISO (strings order as time)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")


class Neo4jStoreShim(Neo4jStore):
    """Neo4jStore with the new protocol methods, through the old adapter (see module docstring)."""

    _backend: Any = None

    def transact(self, work: Callable[[GraphTx], T], *, actor: str, reason: str) -> T:
        from pboss.inventory.neo4j.provisioning import Neo4jBackend

        if self._backend is None:
            self._backend = Neo4jBackend(self)
        return self._backend.run(work)  # type: ignore[no-any-return]

    def due_ids(
        self,
        kind: str,
        *,
        states: Sequence[str],
        time_field: str,
        until: datetime | None,
        limit: int,
    ) -> list[str]:
        label = known_kind(kind)
        if not time_field.isidentifier():
            raise ValueError(f"bad time field {time_field!r}")
        bound = f" AND n.{time_field} <= $until" if until is not None else ""
        rows = self.read(
            f"due_ids.{label}",
            f"MATCH (n:{label}) WHERE n.state IN $states{bound} "
            f"RETURN n.id AS id ORDER BY n.{time_field}, n.id LIMIT $limit",
            states=[str(s) for s in states],
            until=_stamp(until) if until is not None else None,
            limit=limit,
        )
        return [r["id"] for r in rows]

    def _stream(self, cypher: str, **params: Any) -> Iterator[Any]:
        with self.driver.session(
            database=self.database,
            default_access_mode=READ_ACCESS,
            notifications_min_severity="OFF",  # scanning a kind or type the graph lacks is fine
        ) as s:
            yield from s.run(Query(cypher), params)  # type: ignore[arg-type]

    def scan_nodes(self, kind: str) -> Iterator[dict[str, Any]]:
        label = known_kind(kind)
        cypher = f"MATCH (n:{label}) WHERE n.kind = $kind RETURN properties(n) AS p ORDER BY n.id"
        for rec in self._stream(cypher, kind=kind):
            yield _clean(rec["p"])

    def scan_ids(self, kind: str, owner: str) -> Iterator[str]:
        label = known_kind(kind)
        cypher = (
            f"MATCH (n:{label}) WHERE n.kind = $kind AND n.owner = $owner "
            "RETURN n.id AS id ORDER BY id"
        )
        for rec in self._stream(cypher, kind=kind, owner=owner):
            yield rec["id"]

    def scan_edges(
        self, edge_type: str, *, ordered: bool = True, props: bool = True
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        rel = known_edge_type(edge_type)
        order = " ORDER BY src, dst" if ordered else ""
        what = "properties(r)" if props else "{}"
        cypher = (
            f"MATCH (a:Entity)-[r:{rel}]->(b:Entity) "
            f"RETURN a.id AS src, b.id AS dst, {what} AS p{order}"
        )
        for rec in self._stream(cypher):
            yield rec["src"], rec["dst"], _clean(rec["p"])
