"""The GraphQL API (strawberry), grouped by area NetBox/Saleor-style.

Areas, each with its `types`, `queries`, `mutations` and `inputs` where it has them:
`inventory` (element types, lookups, filtered lists, upsert/status/delete), `network` (site
search, trace, riders, impact), `business` (availability, business resources, products) and
`provisioning` (orders, reservations, work orders). Shared: `schema` (assembles the areas and the
limits), `context` and `dataloaders` (per request), `permissions` (principals, roles, partner
visibility), `errors` (typed result unions), `connections` (page info, cursors, sealed cursors),
`extensions` (metrics, masking) and `export` (the SDL in schema.graphql). The HTTP edge (API keys,
body limit, the router) is `pboss.http`.
"""
