"""What the `pboss` commands say when a store cannot be opened: the error, and the next step."""

from __future__ import annotations

from pboss.config import Settings
from pboss.inventory.errors import StoreUnavailable


def store_failure(settings: Settings, exc: BaseException) -> str:
    """One line for an operator: which store failed, why, and, when nothing answers at the Neo4j
    address, how to start a local one (`pboss neo4j start`)."""
    where = f" at {settings.neo4j_uri}" if settings.store == "neo4j" else ""
    line = f"cannot open the {settings.store} store{where}: {exc}"
    if settings.store == "neo4j" and isinstance(exc, StoreUnavailable):
        line += (
            "; is Neo4j running? start a local one with `pboss neo4j start` "
            "(or set PBOSS_NEO4J_URI to a running server)"
        )
    return line
