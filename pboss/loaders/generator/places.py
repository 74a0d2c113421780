"""Districts, exchanges and building sites of the generated metro, with unique addresses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pboss.loaders.generator.emit import Emitter
from pboss.loaders.generator.names import (
    DISTRICTS,
    ESTATE_HEADS,
    ESTATE_TAILS,
    ROAD_KINDS,
    ROAD_STEMS,
    TOWER_TAILS,
)


@dataclass
class District:
    """One district: its region node, its roads and the address numbers already given out."""

    name: str
    code: str
    lat: float
    lon: float
    rng: random.Random
    roads: list[str] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)
    sites: int = 0

    @property
    def region_id(self) -> str:
        """The Region node's id."""
        return f"R-{self.code}"

    def address(self, estate: bool) -> str:
        """A new address in the district: `…路N号` for buildings, `…路N弄` for estates."""
        road = self.rng.choice(self.roads)
        number = self.numbers.get(road, 0) + self.rng.randint(1, 30)
        self.numbers[road] = number
        return f"上海市{self.name}{road}{number}{'弄' if estate else '号'}"

    def point(self) -> tuple[float, float]:
        """Coordinates near the district's centre."""
        return (
            round(self.lat + self.rng.uniform(-0.03, 0.03), 6),
            round(self.lon + self.rng.uniform(-0.03, 0.03), 6),
        )

    def new_site_id(self, prefix: str, exchange: int) -> str:
        """A fresh site id like `B-PD01-0007`."""
        self.sites += 1
        return f"{prefix}-{self.code}{exchange:02d}-{self.sites:04d}"


def make_districts(count: int, seed: str) -> list[District]:
    """The first `count` districts, each with its own random stream and road names."""
    out = []
    for name, code, lat, lon in DISTRICTS[:count]:
        rng = random.Random(f"{seed}/district/{code}")
        roads = [f"{stem}{rng.choice(ROAD_KINDS)}" for stem in rng.sample(ROAD_STEMS, 8)]
        out.append(District(name, code, lat, lon, rng, roads))
    return out


def emit_region(em: Emitter, d: District) -> None:
    """The district as a Region node."""
    em.node("Region", d.region_id, name=d.name, code=d.code)


def emit_exchange(em: Emitter, d: District, number: int) -> str:
    """An exchange site (局端机房) of the district; returns its id."""
    site_id = f"EX-{d.code}{number:02d}"
    lat, lon = d.point()
    road = d.rng.choice(d.roads)
    em.node(
        "Site", site_id, name=f"{d.name[:2]}{road[:2]}局", code=f"{d.code}EX{number:02d}",
        site_type="exchange", region=d.region_id, address=d.address(estate=False),
        lat=lat, lon=lon,
    )  # fmt: skip
    return site_id


@dataclass(frozen=True)
class SiteInfo:
    """What later rows need to know about a generated site."""

    id: str
    name: str
    address: str
    households: int
    district: str = ""


def emit_residential(
    em: Emitter, d: District, exchange: int, estate: bool, households: int, prefix: str = "B"
) -> SiteInfo:
    """A housing estate or an office building (households may be 0)."""
    site_id = d.new_site_id(prefix, exchange)
    rng = d.rng
    if estate:
        name = f"{rng.choice(ESTATE_HEADS)}{rng.choice(ESTATE_TAILS)}"
    else:
        name = f"{rng.choice(ESTATE_HEADS)}{rng.choice(TOWER_TAILS)}"
    lat, lon = d.point()
    address = d.address(estate)
    em.node(
        "Site", site_id, name=name, code=f"{d.code}{exchange:02d}{prefix}{d.sites:04d}",
        site_type="estate" if estate else "building", region=d.region_id,
        address=address, households=households, lat=lat, lon=lon,
    )  # fmt: skip
    return SiteInfo(site_id, name, address, households, d.code)
