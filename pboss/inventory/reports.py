"""What the statistics reports read from a store, in one aggregate read each (design: reports
compute in one or a few aggregate queries, never element by element).

- `utilisation(kind, site)`: per OLT, PON port, splitter, trunk section, partner link or partner
  pool, its capacity and what is used and held, by the same occupancy rules the site view and path
  computation use (an OLT adds up its PON ports' split budgets);
- `take_up()`: per building or estate, households passed against ONTs connected;
- `records(kind, time_field, since, until)`: the operational records (work orders, tickets) whose
  time field falls in a window, as their stored properties, for KPIs and SLA attainment.
"""

from __future__ import annotations

from pydantic import BaseModel

#: The kinds `utilisation` reports on.
UTILISATION_KINDS: tuple[str, ...] = (
    "OLT", "PonPort", "Splitter", "TrunkSection", "PartnerLink", "PartnerAccess",
)  # fmt: skip


class UtilisationRow(BaseModel):
    """How full one resource is: `capacity` units, `used` by what is in service, `held` by
    reservations and plans; `users` counts distinct circuits (sections, links) or ONTs."""

    id: str
    kind: str
    name: str = ""
    site: str | None = None
    owner: str = "self"
    capacity: int
    used: int
    held: int
    users: int = 0

    @property
    def taken(self) -> int:
        """Units nobody else may take."""
        return self.used + self.held

    @property
    def share(self) -> float:
        """The share of the capacity taken (0..1, more when over-committed)."""
        return self.taken / self.capacity if self.capacity else 0.0


class TakeUpRow(BaseModel):
    """One building or estate: households passed (the site's household count) and connected
    (ONTs in service there)."""

    site: str
    name: str = ""
    site_type: str
    region: str | None = None
    households: int
    connected: int

    @property
    def take_up(self) -> float:
        """Connected households as a share of those passed."""
        return self.connected / self.households if self.households else 0.0


def check_utilisation_kind(kind: str) -> str:
    """The kind, if `utilisation` reports on it; a ValueError naming the choices otherwise."""
    if kind not in UTILISATION_KINDS:
        raise ValueError(f"no utilisation report for {kind!r}; one of {list(UTILISATION_KINDS)}")
    return kind
