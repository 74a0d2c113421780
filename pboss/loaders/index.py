"""Compact facts about ids that validation across many batches needs, one short string per id.

A *tag* is the kind, plus for splitters the stage and for trunk sections and partner links the
VC-12 capacity (`"Splitter:2"`, `"TrunkSection:252"`): exactly what the reference and edge checks
of `plan_batch` read from a node. Tags are interned, so an id costs its key and one dict slot.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field

from pboss.inventory.model import Element

_CAPACITY_KINDS = ("TrunkSection", "PartnerLink")


def tag_of(el: Element) -> str:
    """The tag of a node: its kind and the one number edge checks need."""
    if el.kind == "Splitter":
        return sys.intern(f"Splitter:{el.stage}")  # type: ignore[attr-defined]
    if el.kind in _CAPACITY_KINDS:
        return sys.intern(f"{el.kind}:{el.capacity_vc12}")  # type: ignore[attr-defined]
    return sys.intern(el.kind)


def kind_of(tag: str) -> str:
    """The kind a tag names."""
    return tag.partition(":")[0]


def aux_of(tag: str) -> int:
    """The number a tag carries (stage or capacity), 0 when none."""
    aux = tag.partition(":")[2]
    return int(aux) if aux else 0


def edge_digest(etype: str, src: str, dst: str) -> int:
    """A 64-bit digest of an edge key, so the feed's edges can be remembered in a few bytes each;
    signed, as SQLite's INTEGER (the index keeps them on disk when they outgrow memory)."""
    raw = f"{etype}\x00{src}\x00{dst}".encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little", signed=True)


@dataclass
class SectionSlots:
    """Who holds which VC-12 slots of one trunk section or partner link."""

    holder_of: dict[int, str] = field(default_factory=dict)
    slots_of: dict[str, list[int]] = field(default_factory=dict)

    def clashes(self, holder: str, slots: list[int]) -> dict[int, str]:
        """Slots that someone other than `holder` already holds, with who holds them."""
        return {s: h for s in slots if (h := self.holder_of.get(s)) is not None and h != holder}

    def take(self, holder: str, slots: list[int]) -> None:
        """Record that `holder` now holds exactly `slots` here (replacing what it held before)."""
        for s in self.slots_of.pop(holder, []):
            if self.holder_of.get(s) == holder:
                del self.holder_of[s]
        for s in slots:
            self.holder_of[s] = holder
        self.slots_of[holder] = list(slots)
