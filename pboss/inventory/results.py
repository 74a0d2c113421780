"""Value objects the stores return: pages, traces, riders, upsert counts and change records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, Field

from pboss.inventory.model import Element

T = TypeVar("T")


class FindQuery(BaseModel):
    """Filters for a list of elements, paged by id (keyset: `after` is the last id seen)."""

    kind: str | None = None
    site: str | None = None
    owner: str | None = None
    status: str | None = None
    text: str | None = None
    #: digits an element's phone must contain (its punctuation ignored); with `text`, either
    #: matches. Only for callers allowed to see phones (never a partner).
    phone: str | None = Field(default=None, pattern=r"^[0-9]+$")
    after: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class Page(BaseModel, Generic[T]):
    """One page of a list with the total over all pages."""

    items: list[T]
    total: int
    next_cursor: str | None = None


class UpsertResult(BaseModel):
    """What one batch changed."""

    nodes_added: int = 0
    nodes_updated: int = 0
    nodes_unchanged: int = 0
    edges_added: int = 0
    edges_updated: int = 0
    edges_unchanged: int = 0

    @property
    def changed(self) -> bool:
        """True when the batch wrote anything."""
        return bool(self.nodes_added + self.nodes_updated + self.edges_added + self.edges_updated)

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            **{f: getattr(self, f) + getattr(other, f) for f in UpsertResult.model_fields}
        )


class EdgeRef(BaseModel):
    """An edge by its identity: type, source and target."""

    type: str
    src: str
    dst: str


class ChangeRecord(BaseModel):
    """One change to an element or to an edge at it: who, when, why, and what (`history.py`).

    `from_status`/`to_status` are the element's status before and after (equal when the status
    did not change; `to_status` is "deleted" for a delete); `before`/`after` hold only the
    changed properties (all of them when created or deleted); `edge` names a changed edge."""

    element_id: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    at: datetime
    change: str = "status"
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    edge: EdgeRef | None = None


class Hop(BaseModel):
    """One step of a trace, in order."""

    position: int
    role: str
    element: Element
    depth: int
    partner: bool
    seq: int | None = None
    slots: list[int] | None = None
    capacity: int | None = None
    used: int | None = None


class Trace(BaseModel):
    """Top-down: what a service or circuit depends on, in path order."""

    root: Element
    hops: list[Hop]
    health: str
    impaired_by: list[str] = Field(default_factory=list)


class Rider(BaseModel):
    """One service riding on the resources asked about, with its customer and health."""

    service: Element
    customer: Element | None
    health: str
    impaired_by: list[str] = Field(default_factory=list)


def new_riders(rows: Iterable[tuple[Element, Element | None, str, list[str]]]) -> list[Rider]:
    """`Rider.model_construct` of each (service, customer, health, impaired_by), for stores
    building a page of riders from data they wrote (validated then): a `model_copy` of one
    template with every field given, which pydantic does without walking the fields."""
    copy = _RIDER.model_copy
    return [
        copy(update={"service": s, "customer": c, "health": h, "impaired_by": i})
        for s, c, h, i in rows
    ]


_RIDER = Rider.model_construct(set(), service=None, customer=None, health="", impaired_by=[])


class RiderTotals(BaseModel):
    """Riders counted by product, customer type and SLA tier."""

    services: int = 0
    customers: int = 0
    by_product: dict[str, int] = Field(default_factory=dict)
    by_customer_type: dict[str, int] = Field(default_factory=dict)
    by_sla_tier: dict[str, int] = Field(default_factory=dict)


#: Properties every projected rider element carries, whatever was asked: its identity and kind.
#: Anything else a caller reads, its own checks included (a partner's view reads the owner), it
#: names in `RiderFields`: each property fetched costs the riders query ≈ 0.02 ms a page.
RIDER_CORE = ("id", "kind")


class RiderFields(NamedTuple):
    """The properties a caller reads of riders' services and customers, so a store may fetch
    only those: each element then carries them, `RIDER_CORE` and its kind's required fields, and
    leaves the rest at their defaults (attrs only as named). None instead: whole elements."""

    service: frozenset[str]
    customer: frozenset[str]


class Riders(BaseModel):
    """Bottom-up: the services and customers that depend on some resources, paged, with totals."""

    resource_ids: list[str]
    totals: RiderTotals
    items: list[Rider]
    next_cursor: str | None = None


class Closure(BaseModel):
    """A dependency closure as a store returns it: nodes, failure edges, and pool usage."""

    root: str
    nodes: dict[str, Element]
    depth: dict[str, int]
    edges: list[tuple[str, str, str, int | None, list[int] | None]]
    used: dict[str, int] = Field(default_factory=dict)


class RiderRow(BaseModel):
    """The minimal facts about one rider the totals are computed from."""

    service_id: str
    product: str | None
    customer_id: str | None
    customer_type: str | None
    sla_tier: str | None


class SplitterView(BaseModel):
    """One splitter at a site: its free outputs and the health and load of the chain above it."""

    splitter: Element
    free_ports: list[str]
    busy_ports: int
    upstream: list[Element]
    pon_port: str | None
    olt: str | None
    pon_load: int
    pon_budget: int


class PortView(BaseModel):
    """A port of an NE at a site, and whether a circuit or a hold already ends on it."""

    port: Element
    ne: str
    busy: bool


class SiteView(BaseModel):
    """Everything at one site that availability, packaging and FTTH path choice need."""

    site: Element
    splitters: list[SplitterView]
    partner_access: list[Element]
    nes: list[Element]
    ports: list[PortView]


class SlotUse(BaseModel):
    """The VC-12 slots of one trunk section or partner link: carried by circuits (`ROUTED_OVER`)
    and kept by holds (`HOLDS`); free is what path computation may still take."""

    capacity: int
    routed: list[int] = Field(default_factory=list)
    held: list[int] = Field(default_factory=list)

    @property
    def carrying(self) -> int:
        """Distinct slots circuits in service are routed over."""
        return len(set(self.routed))

    @property
    def holding(self) -> int:
        """Distinct slots holds keep for orders not yet in service."""
        return len(set(self.held))

    @property
    def taken(self) -> int:
        """Distinct slots nobody else may take (carried or held)."""
        return len(set(self.routed) | set(self.held))

    @property
    def free(self) -> int:
        """Slots neither carried nor held (as `TransportLink.free_slots` counts them)."""
        return max(self.capacity - self.taken, 0)


class TransportLink(BaseModel):
    """A trunk section or partner link as path computation sees it."""

    link: Element
    a_ne: str | None
    z_ne: str | None
    used_slots: list[int]

    @property
    def free_slots(self) -> list[int]:
        """VC-12 slots nobody holds, in order."""
        taken = set(self.used_slots)
        capacity = self.link.capacity_vc12  # type: ignore[attr-defined]
        return [s for s in range(1, capacity + 1) if s not in taken]
