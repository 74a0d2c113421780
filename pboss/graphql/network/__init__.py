"""GraphQL of the network view: site search, trace (top-down), riders and impact (bottom-up)."""
