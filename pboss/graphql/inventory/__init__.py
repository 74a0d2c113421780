"""GraphQL of the inventory: element types, lookups, filtered lists, and writes (upsert,
status, delete)."""
