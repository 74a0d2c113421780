"""Open the configured GraphStore: the embedded MemoryStore by default, or Neo4j.

This is where the application is assembled, so it is also where the capabilities' kinds are
added to the inventory model (`register_kinds`), explicitly rather than as a side effect of an
import.
"""

from __future__ import annotations

from pboss.config import Settings
from pboss.inventory.catalog import load_catalog
from pboss.inventory.store import GraphStore
from pboss.metrics import Metrics
from pboss.provisioning.model import register_kinds as register_provisioning_kinds


def register_kinds() -> None:
    """Add every capability's kinds (today: provisioning's Order, Reservation, WorkOrder) to the
    inventory model; idempotent."""
    register_provisioning_kinds()


def open_store(settings: Settings, metrics: Metrics | None = None) -> GraphStore:
    """Build the store the settings name, with its catalog; Neo4j gets its schema ensured and,
    with `metrics`, times every query into the app's registry."""
    register_kinds()
    catalog = load_catalog(settings.catalog)
    if settings.store == "neo4j":
        from pboss.inventory.neo4j.outage import Timeouts
        from pboss.inventory.neo4j.store import Neo4jStore

        timeouts = Timeouts(
            connect=settings.neo4j_connect_timeout,
            acquire=settings.neo4j_acquire_timeout,
            retry=settings.neo4j_retry_time,
            probe_every=settings.neo4j_probe_every,
        )
        return Neo4jStore(
            settings.neo4j_uri,
            auth=settings.neo4j_auth,
            database=settings.neo4j_database,
            catalog=catalog,
            histogram=metrics.neo4j_query_seconds if metrics else None,
            timeouts=timeouts,
        )
    from pboss.inventory.memory.store import MemoryStore

    return MemoryStore(catalog=catalog)


def load_demo_if_empty(store: GraphStore) -> bool:
    """Load the demo network into an empty store; True when it did."""
    from pboss.inventory.demo import demo_network

    if store.counts():
        return False
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="demo", reason="demo network")
    return True
