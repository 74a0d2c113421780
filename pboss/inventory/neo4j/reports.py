"""The reports' side of `Neo4jStore` (`pboss.inventory.reports`): one named query per call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pboss.inventory.neo4j.client import Neo4jClient
from pboss.inventory.neo4j.queries import reports as q
from pboss.inventory.reports import TakeUpRow, UtilisationRow, check_utilisation_kind
from pboss.inventory.timestamps import stamp


def _slots(lists: list[list[int] | None]) -> set[int]:
    return {s for slots in lists for s in slots or ()}


def _utilisation_row(row: dict[str, Any]) -> UtilisationRow:
    if "routed" in row:  # a section or link: distinct slots carried, held by holds only
        routed, kept = _slots(row.pop("routed")), _slots(row.pop("kept"))
        row["used"], row["held"] = len(routed), len(kept - routed)
    row["name"] = row.get("name") or ""
    row["owner"] = row.get("owner") or "self"
    return UtilisationRow.model_validate(row)


class Neo4jReports:
    """Aggregate reads for the statistics reports."""

    def __init__(self, client: Neo4jClient):
        self.client = client

    def utilisation(self, kind: str, site: str | None = None) -> list[UtilisationRow]:
        """See `GraphStore.utilisation`."""
        query = q.utilisation(check_utilisation_kind(kind), site is not None)
        return [_utilisation_row(r) for r in self.client.read(query, site=site)]

    def take_up(self) -> list[TakeUpRow]:
        """See `GraphStore.take_up`."""
        return [TakeUpRow.model_validate(r) for r in self.client.read(q.TAKE_UP)]

    def records(
        self, kind: str, *, time_field: str, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        """See `GraphStore.records`."""
        rows = self.client.read(q.records(kind, time_field), lo=stamp(since), hi=stamp(until))
        return [r["p"] for r in rows]
