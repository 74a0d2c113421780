"""Who writes as a load: the actors loads record in history, so a feed can tell its own status
changes from the ones people made (those a feed reports as drift instead of overwriting)."""

from __future__ import annotations

#: `LoadOptions.actor` by default, `pboss load`, and `pboss serve` loading at start-up.
LOADER_ACTORS = frozenset({"loader", "pboss-load", "startup"})


def is_loader(actor: str) -> bool:
    """True when a change was made by a load rather than by a person or another service."""
    return actor in LOADER_ACTORS
