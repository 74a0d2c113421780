"""The correlation index: one `CauseTally` per resource that open evidence passes through.

Correlating a ticket must cost in proportion to its path, not to every open ticket, so the
evidence is counted per candidate resource as it arrives: a `CauseTally` (id `CT:<resource>`)
keeps, for one resource, the open complaints whose path passes it, the service-affecting alarms
at or below it (with the riders of each alarmed resource, so the share of riders affected counts
a downed port's customers once), the alarm weight on it, its riders (customers, counted when the
tally was made or given fresh by the caller) and the open incidents holding that evidence. A
ticket's correlation reads and writes only the tallies of its own path, plus the incident(s) the
winner names.

A tally is an operational record with no edge (no traversal finds it; it is read by id), so it
changes nothing of a resource's riders, trace or occupancy. Writers lock the resource before its
tally (`incidents.py`), so two transactions never create one tally twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import ClassVar

from pydantic import Field

from pboss.assurance.correlation import NOT_A_CAUSE, Resource, Tally
from pboss.inventory.model import EDGE_RULES, FAILURE_EDGES, Category, Element, register_kind
from pboss.inventory.transaction import GraphTx

PREFIX = "CT:"


class CauseTally(Element):
    """The open evidence through one resource (see the module docstring)."""

    kind: ClassVar[str] = "CauseTally"
    category: ClassVar[Category] = Category.PROVISIONING

    resource: str
    resource_kind: str
    resource_stage: int | None = None
    riders: int = Field(default=0, ge=0)
    complaints: int = Field(default=0, ge=0)
    covered: int = Field(default=0, ge=0)
    alarms: int = Field(default=0, ge=0)
    alarm_weight: float = Field(default=0.0, ge=0)
    minor: int = Field(default=0, ge=0)
    #: complaints this resource's own alarm covers (to uncover them when it clears)
    own_cover: int = Field(default=0, ge=0)
    #: resource id -> riders, for each service-affecting alarmed resource at or below it (JSON)
    alarmed: str = "{}"
    #: open incidents holding evidence through this resource
    incidents: list[str] = Field(default_factory=list)
    #: open incidents suspecting this resource
    suspected_by: list[str] = Field(default_factory=list)

    def alarmed_map(self) -> dict[str, int]:
        """The alarmed resources at or below this one, with their riders."""
        return {str(k): int(v) for k, v in json.loads(self.alarmed or "{}").items()}

    def set_alarmed(self, value: Mapping[str, int]) -> None:
        """Store the alarmed resources."""
        self.alarmed = json.dumps(dict(sorted(value.items())), separators=(",", ":"))

    def tally(self) -> Tally:
        """The counts as the ranking reads them."""
        return Tally(
            complaints=self.complaints,
            alarms=self.alarms,
            alarm_weight=self.alarm_weight,
            minor=self.minor,
            alarmed=self.alarmed_map(),
            covered=min(self.covered, self.complaints),
        )

    def as_resource(self) -> Resource:
        """The candidate as the ranking reads it."""
        return Resource(
            id=self.resource, kind=self.resource_kind, riders=self.riders, stage=self.resource_stage
        )

    @property
    def empty(self) -> bool:
        """True when no open evidence passes this resource any more."""
        return not (self.complaints or self.alarms or self.alarm_weight or self.minor)


def register_kinds() -> None:
    """Add CauseTally to the model (idempotent; it has no edges)."""
    register_kind(CauseTally)


def tally_id(resource_id: str) -> str:
    """The id of a resource's tally."""
    return f"{PREFIX}{resource_id}"


def candidates(elements: Mapping[str, Element], path: Sequence[str]) -> list[str]:
    """The resources of a path that may be a cause, in path order, once each."""
    out: list[str] = []
    for rid in dict.fromkeys(path):
        el = elements.get(rid)
        if el is not None and el.kind not in NOT_A_CAUSE and el.kind in CAUSE_KINDS:
            out.append(rid)
    return out


#: Kinds that may be a common cause: the network's own resources.
CAUSE_KINDS = frozenset(
    {"ONT", "SplitterPort", "Splitter", "PonPort", "OLT", "Port", "NE", "TrunkSection",
     "PartnerLink", "PartnerAccess"}
)  # fmt: skip


def _upstream_types(kind: str) -> list[str]:
    """The failure edge types a node of this kind may have leaving it."""
    return sorted(t for t in FAILURE_EDGES if any(a == kind for a, _ in EDGE_RULES.get(t, ())))


def path_up(tx: GraphTx, resource_id: str, limit: int = 64) -> list[str]:
    """The resource and everything it depends on (following failure edges), nearest first: an
    alarm's path. Reads one `linked_many` per level and edge type, so a PON port costs one."""
    first = tx.peek([resource_id]).get(resource_id)
    if first is None:
        return []
    out = [resource_id]
    frontier: list[Element] = [first]
    seen = {resource_id}
    while frontier and len(out) < limit:
        nxt: list[Element] = []
        types = [(el.id, _upstream_types(el.kind)) for el in frontier]
        wanted: dict[str, list[str]] = {}  # edge type -> the frontier's nodes that may have it
        for el_id, etypes in types:
            for etype in etypes:
                wanted.setdefault(etype, []).append(el_id)
        found = {t: tx.linked_many(ids, t, "out") for t, ids in sorted(wanted.items())}
        for el_id, etypes in types:
            for etype in etypes:
                for _edge, other in found[etype][el_id]:
                    if other.id not in seen:
                        seen.add(other.id)
                        out.append(other.id)
                        nxt.append(other)
        frontier = nxt
    return out


def estimate_riders(el: Element) -> int:
    """Customers a resource can carry, from what it is (no read): one for an ONT or an NE
    port, a splitter's outputs, a PON port's split budget, a link's VC-12 slots, a pool's
    size; 0 (unknown: plausible only by an alarm) for a splitter output (it may feed a whole
    second stage), an OLT or an NE. The capacity overstates the riders, so the share is
    understated: a fallback for callers that did not count the riders before the transaction
    (`incidents.riders_of`), never a reason to blame a resource."""
    kind = el.kind
    if kind in ("ONT", "Port"):
        return 1
    if kind == "Splitter":
        return int(getattr(el, "ratio", 0))
    if kind == "PonPort":
        return int(getattr(el, "max_split", 0))
    if kind in ("TrunkSection", "PartnerLink"):
        return int(getattr(el, "capacity_vc12", 0))
    if kind == "PartnerAccess":
        return int(getattr(el, "total", 0))
    return 0
