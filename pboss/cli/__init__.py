"""The `pboss` command (`main.app`) and its command groups: data, schema, neo4j."""
