"""Generator scales: how big a metro each `--scale` builds (node counts are approximate)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Shape of a generated metro; sizes follow from the counts below and the random take-up."""

    name: str
    districts: int
    exchanges: int  # per district
    olts: int  # per exchange
    slots: int  # equipped service slots per OLT, 16 PON ports each
    lit_share: float  # share of PON ports that feed a splitter tree
    enterprises: int  # leased-line enterprise sites per exchange
    partner_links: int  # leased segments from the leased-line partner, metro-wide
    cable_share: float  # share of residential sites the cable partner covers
    history_months: int = 0  # months of closed field work before HISTORY_END (field.py)


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 2, 2, 1, 1, 1 / 16, 1, 2, 0.5),  # ~1k nodes
    "small": Scale("small", 4, 3, 1, 4, 0.33, 3, 6, 0.3, 3),  # ~50k
    "medium": Scale("medium", 16, 4, 2, 8, 0.15, 4, 24, 0.3, 3),  # ~500k
    "large": Scale("large", 16, 10, 4, 12, 0.2, 6, 60, 0.3),  # ~5M
}
