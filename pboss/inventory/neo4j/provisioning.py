"""TEMPORARY shim (branch redesign-neo4j): the old provisioning adapter's interface over the new
`Neo4jStore.transact` and `Neo4jStore.due_ids`, so today's `ProvisioningService` keeps working on
this branch until helper C's side (which calls `store.transact` and `store.due_ids` itself, and
turns `TxConflict` into its own `Conflict`) is merged. The lead deletes this module then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pboss.inventory import transaction as inventory_tx
from pboss.inventory.errors import TxConflict

T = TypeVar("T")


class Neo4jBackend:
    """Runs provisioning steps on a Neo4jStore through `transact` (see the module docstring)."""

    def __init__(self, store: Any):
        self.store = store

    def run(self, work: Callable[[Any], T]) -> T:
        from pboss.provisioning.errors import Conflict
        from pboss.provisioning.tx import AlreadyExists

        try:
            return self.store.transact(work, actor="provisioning", reason="provisioning step")
        except TxConflict as exc:
            raise Conflict(str(exc), exc.reasons) from exc
        except inventory_tx.AlreadyExists as exc:
            raise AlreadyExists(exc.element_id) from exc

    def due_reservations(self, now: datetime, limit: int) -> list[str]:
        return self.store.due_ids(
            "Reservation", states=["held"], time_field="valid_until", until=now, limit=limit
        )

    def open_work_orders(self, limit: int) -> list[str]:
        return self.store.due_ids(
            "WorkOrder", states=["open", "held"], time_field="due_at", until=None, limit=limit
        )
