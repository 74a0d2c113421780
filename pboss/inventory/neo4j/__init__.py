"""The Neo4j store and its adapters.

- `client.py`: the one wrapper around the driver (sessions, auto-commit reads with a managed
  retry, managed write transactions, streams, timing by query name, `StoreUnavailable`);
- `queries/`: every Cypher statement as a named, parameterised query, by topic, with the shared
  fragments (write lock, PON load, slot holders) written once;
- `store.py` (writes, `transact`, `due_ids`, scans) and `reads.py` (the protocol's reads):
  `Neo4jStore`, Python only; `projection.py`: rider rows projected to what a selection reads;
- `transaction.py`: the multi-step write transaction (`GraphTx`) behind `Neo4jStore.transact`;
- `bulk.py`: the validated bulk load (`insert_new`);
- `local.py`: starts a local Neo4j without Docker (tests, benches, `pboss neo4j`).
"""
