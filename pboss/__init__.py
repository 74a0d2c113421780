"""pboss: graph-based resource inventory and provisioning for broadband operators.

Layers, bottom up: `inventory` (model, rules, the GraphStore port and its memory and Neo4j stores),
then `loaders` and `provisioning` (capabilities on the port), then `graphql` (the API by area),
then `http`, `cli` and `bootstrap` (process wiring). Dependencies point down only
(tests/test_architecture.py checks it).
"""
