"""TEMPORARY re-export for the old Neo4j provisioning adapter (`inventory/neo4j/provisioning.py`),
until the Neo4j branch moves it to `inventory/neo4j/transaction.py`; then this module is deleted.
The port itself lives in `pboss.inventory.transaction`."""

from __future__ import annotations

from pboss.inventory.transaction import AlreadyExists, Direction, Facts, GraphTx

ProvisioningTx = GraphTx

__all__ = ["AlreadyExists", "Direction", "Facts", "GraphTx", "ProvisioningTx"]
