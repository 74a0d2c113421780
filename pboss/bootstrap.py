"""Open the configured GraphStore: the embedded MemoryStore by default, or Neo4j.

This is where the application is assembled, so it is also where the capabilities' kinds are
added to the inventory model (`register_kinds`), explicitly rather than as a side effect of an
import.
"""

from __future__ import annotations

from pboss.assurance.model import register_kinds as register_assurance_kinds
from pboss.assurance.tallies import register_kinds as register_tally_kinds
from pboss.config import Settings
from pboss.crm.feedback_model import register_kinds as register_crm_kinds
from pboss.cutover.model import register_kinds as register_cutover_kinds
from pboss.field.model import register_kinds as register_field_kinds
from pboss.inventory.catalog import load_catalog
from pboss.inventory.store import GraphStore
from pboss.metrics import Metrics
from pboss.provisioning.model import register_kinds as register_provisioning_kinds


def register_kinds() -> None:
    """Add every capability's kinds (provisioning's Order, Reservation, WorkOrder; CRM feedback's
    CrmStatusReport, CrmMismatch; cutover's CutoverPlan; assurance's TroubleTicket, Alarm,
    Incident; field's Crew) to the inventory model; idempotent."""
    register_provisioning_kinds()
    register_crm_kinds()
    register_cutover_kinds()
    register_assurance_kinds()
    register_tally_kinds()
    register_field_kinds()


def open_store(settings: Settings, metrics: Metrics | None = None) -> GraphStore:
    """Build the store the settings name, with its catalog; Neo4j gets its schema ensured and,
    with `metrics`, times every query into the app's registry; the embedded store is loaded
    from its data directory (PBOSS_DATA_DIR) when it has one."""
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
            auth=neo4j_auth(settings),
            database=settings.neo4j_database,
            catalog=catalog,
            histogram=metrics.neo4j_query_seconds if metrics else None,
            timeouts=timeouts,
        )
    from pboss.inventory.memory.store import MemoryStore

    compact_bytes = settings.data_compact_mb * 1024 * 1024
    return MemoryStore(catalog=catalog, data_dir=settings.data_dir, compact_bytes=compact_bytes)


def seed_store(store: GraphStore, settings: Settings) -> list[str]:
    """What `pboss serve` loads at start-up: PBOSS_LOAD_DIR's bundles, the demo network if the
    store is still empty (and PBOSS_DEMO allows), then the partner feeds of PBOSS_LOAD_DIR/feeds/
    and PBOSS_LOAD_FEEDS (pboss.loaders.startup); one line each saying what was loaded."""
    from pboss.loaders.startup import feeds_in_dir, load_bundles, load_feeds, parse_feed_specs

    specs = parse_feed_specs(settings.load_feeds) if settings.load_feeds else []  # before writing
    lines = []
    if settings.load_dir is not None:
        lines.append(load_bundles(store, settings.load_dir)[1])
        specs = feeds_in_dir(settings.load_dir) + specs
    if settings.demo and load_demo_if_empty(store):
        lines.append("loaded the demo network (the store was empty)")
    return lines + load_feeds(store, specs)


def neo4j_auth(settings: Settings) -> tuple[str, str] | None:
    """The configured Neo4j login, else the local launcher's (``pboss neo4j start``) when the
    URI is the one it runs on, so its generated password never has to be copied around."""
    if settings.neo4j_auth is not None:
        return settings.neo4j_auth
    from pboss.inventory.neo4j.local import credentials_for_uri

    return credentials_for_uri(settings.neo4j_uri)


def load_demo_if_empty(store: GraphStore) -> bool:
    """Load the demo network into an empty store; True when it did."""
    from pboss.inventory.demo import demo_crews, demo_network

    if store.counts():
        return False
    nodes, edges = demo_network()
    store.upsert(nodes, edges, actor="demo", reason="demo network")
    register_kinds()
    crews, covers = demo_crews()
    store.upsert(crews, covers, actor="demo", reason="demo crews")
    return True
