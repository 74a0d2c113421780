"""The resource inventory: the model and its rules, the GraphStore port and the stores behind it
(`memory/`, the embedded networkx default; `neo4j/`, the system of record)."""
