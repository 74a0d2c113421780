"""Partner names for wording answers ("Cable broadband at 都华名苑 (东方有线)"), cached app-wide.

Partners are few and rarely change, so availability does not pay a round trip for them: the
names are re-read when older than the TTL or after a write through the API.
"""

from __future__ import annotations

import threading
import time

from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore


class PartnerNames:
    """Partner id -> display name, refreshed lazily."""

    def __init__(self, ttl_seconds: float = 60.0):
        self.ttl = ttl_seconds
        self._names: dict[str, str] = {}
        self._built_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def fresh(self) -> bool:
        """True while the cached names are young enough to use without asking the store."""
        return time.monotonic() - self._built_at < self.ttl

    def cached(self) -> dict[str, str]:
        """The names as last read (possibly stale)."""
        return self._names

    def invalidate(self) -> None:
        """Forget the names so the next use re-reads them."""
        self._built_at = float("-inf")

    def refresh(self, store: GraphStore) -> dict[str, str]:
        """Read every partner's name (blocking; run it on the store threads)."""
        with self._lock:
            if self.fresh:
                return self._names
            names, after = {}, None
            while True:
                page = store.find(FindQuery(kind="Partner", after=after, limit=1000))
                names.update({p.id: p.name or p.id for p in page.items})
                if page.next_cursor is None:
                    break
                after = page.next_cursor
            self._names, self._built_at = names, time.monotonic()
            return names
