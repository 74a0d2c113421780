"""The console's pages in the order the navigation bar lists them: (label, path)."""

from __future__ import annotations

NAV: tuple[tuple[str, str], ...] = (
    ("Search", "/ui/search"),
    ("Trace", "/ui/trace"),
    ("Impact", "/ui/impact"),
    ("Site map", "/ui/map"),
    ("Queues", "/ui/queues"),
    ("Reports", "/ui/reports"),
    ("GraphiQL", "/ui/graphiql"),
)
