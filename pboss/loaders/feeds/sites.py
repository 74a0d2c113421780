"""Match a partner's site reference to one of our sites: by code, then by normalised address.

A match must be unique. No match, or an address several sites share, is reported and never
guessed. The index is built once per feed from the store's sites (and the NEs at each site, where
partner links terminate).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pboss.inventory.store import GraphStore
from pboss.loaders.feeds.address import normalise_address, normalise_code


@dataclass(frozen=True)
class SiteMatch:
    """The outcome of matching: a site id, or why there is none, and which field decided it."""

    site: str | None
    by: str
    reason: str = ""


@dataclass
class SiteMatcher:
    """Our sites indexed by normalised code and address, and our NEs by site."""

    by_code: dict[str, list[str]] = field(default_factory=dict)
    by_address: dict[str, list[str]] = field(default_factory=dict)
    nes_at: dict[str, list[str]] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_store(cls, store: GraphStore) -> SiteMatcher:
        """Index every site of the store (ids and codes both count as codes)."""
        m = cls()
        for props in store.scan_nodes("Site"):
            sid = props["id"]
            for code in {props.get("code") or "", sid}:
                if code:
                    m.by_code.setdefault(normalise_code(code), []).append(sid)
            address = normalise_address(props.get("address") or "")
            if address:
                m.by_address.setdefault(address, []).append(sid)
        for props in store.scan_nodes("NE"):
            if props.get("site"):
                m.nes_at.setdefault(props["site"], []).append(props["id"])
        for nes in m.nes_at.values():
            nes.sort()
        return m

    def match(self, code: str, address: str) -> SiteMatch:
        """Our site for a code and/or an address; unmatched and ambiguous ones say why."""
        code, address = code.strip(), address.strip()
        tried = []
        if code:
            ids = sorted(set(self.by_code.get(normalise_code(code), [])))
            if len(ids) == 1:
                self.stats["by code"] += 1
                return SiteMatch(ids[0], "code")
            if len(ids) > 1:
                self.stats["ambiguous"] += 1
                return SiteMatch(None, "code", f"site code {code!r} names {len(ids)} sites {ids}")
            tried.append(f"code {code!r}")
        if address:
            key = normalise_address(address)
            ids = sorted(set(self.by_address.get(key, [])))
            if len(ids) == 1:
                self.stats["by address"] += 1
                return SiteMatch(ids[0], "address")
            if len(ids) > 1:
                self.stats["ambiguous"] += 1
                reason = f"address {address!r} matches {len(ids)} sites {ids}; not guessed"
                return SiteMatch(None, "address", reason)
            tried.append(f"address {address!r} (normalised {key!r})")
        self.stats["unmatched"] += 1
        if not tried:
            return SiteMatch(None, "code", "no site code and no address")
        return SiteMatch(
            None, "address" if address else "code", f"no site matches {' or '.join(tried)}"
        )

    def ne_at(self, site: str, ends: Sequence[str] = ()) -> str | None:
        """The NE a partner link terminates on at a site: the one of its current `ends` at that
        site (a re-load keeps it), else the site's first NE by id; None when the site has none."""
        nes = self.nes_at.get(site)
        if not nes:
            return None
        return next((ne for ne in nes if ne in ends), nes[0])
