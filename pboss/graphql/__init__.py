"""The GraphQL API (strawberry), grouped NetBox/Saleor-style.

types (elements), network (trace, riders), business (availability, packages, customer network),
queries, mutations, inputs, errors (typed result unions), connections (cursors), context and
dataloaders (per request), auth and permissions (API keys, roles, partner visibility), sites
(normalised search), limits and router (HTTP edge), extensions (metrics, masking), schema
(composition) and export (the SDL in schema.graphql).
"""
