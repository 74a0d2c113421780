"""Site search by id, code, name and normalised address (Chinese included).

Text is compared after `normalise`: NFKC (full-width digits, letters and spaces become half-width),
case folded, whitespace and punctuation removed, so "上海市浦东新区 世纪大道８号" finds
"上海市浦东新区世纪大道8号". Addresses are also compared in the loaders' canonical form
(`pboss.loaders.feeds.address.normalise_address`: city and district prefixes dropped, 號/幢 variants
folded), so "世纪大道8號" finds it too. The index holds every site, rebuilt when older than its TTL
or after a write through the API, because a store cannot search normalised text itself.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from pboss.inventory.model import Element
from pboss.inventory.results import FindQuery
from pboss.inventory.store import GraphStore
from pboss.loaders.feeds.address import normalise_address

_NOISE = re.compile(r"[\s\-_‐‑–—―·•.,，、。:：;；()（）\[\]【】{}「」『』#/\\'\"]+")


def normalise(text: str | None) -> str:
    """The comparable form of a name or address: NFKC, case folded, no spaces or punctuation."""
    if not text:
        return ""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).casefold()


@dataclass(frozen=True)
class _Entry:
    site: Element
    exact: tuple[str, ...]
    text: tuple[str, ...]
    address: str


def _score(entry: _Entry, needle: str, address: str) -> int | None:
    """0 exact id/code, 1 exact name/address, 2 prefix, 3 substring; None when no match."""
    if needle in entry.exact:
        return 0
    if needle in entry.text or (address and address == entry.address):
        return 1
    if any(h.startswith(needle) for h in entry.exact + entry.text):
        return 2
    if any(needle in h for h in entry.text) or (address and address in entry.address):
        return 3
    return None


class SiteIndex:
    """Every site with its normalised keys; thread-safe, refreshed lazily."""

    def __init__(self, ttl_seconds: float = 30.0):
        self.ttl = ttl_seconds
        self._entries: list[_Entry] = []
        self._built_at = float("-inf")
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget the index so the next search rebuilds it (after a write through the API)."""
        self._built_at = float("-inf")

    def _refresh(self, store: GraphStore) -> list[_Entry]:
        with self._lock:
            if time.monotonic() - self._built_at < self.ttl:
                return self._entries
            entries, after = [], None
            while True:
                page = store.find(FindQuery(kind="Site", after=after, limit=1000))
                for s in page.items:
                    code = getattr(s, "code", None)
                    address = getattr(s, "address", None)
                    entries.append(
                        _Entry(
                            s,
                            (normalise(s.id), normalise(code)),
                            (normalise(s.name), normalise(address)),
                            normalise_address(address or ""),
                        )
                    )
                if page.next_cursor is None:
                    break
                after = page.next_cursor
            self._entries, self._built_at = entries, time.monotonic()
            return entries

    def search(
        self, store: GraphStore, query: str, limit: int | None = 20
    ) -> list[tuple[int, Element]]:
        """Best matches first (ties by id), as (score, site): see `_score`; all when no limit."""
        needle, address = normalise(query), normalise_address(query)
        if not needle:
            return []
        hits = []
        for entry in self._refresh(store):
            score = _score(entry, needle, address)
            if score is not None:
                hits.append((score, entry.site.id, entry.site))
        hits.sort(key=lambda h: (h[0], h[1]))
        return [(score, site) for score, _, site in hits[:limit]]
