"""The cutover plan kind, its states and transition table, and the edges it hangs off by.

A `CutoverPlan` is an operational record (category Provisioning, like an order): it `HOLDS` the
target capacity for its window (seen by availability and path computation exactly like a
reservation's hold, `transaction.BUSY_BY` and the slot holders) and `MOVES` its riders, an edge
no impact traversal follows. Its steps, the edges recorded before and after execution, its impact
and its history are stored flat as JSON strings (Neo4j keeps no nested maps).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_serializer

from pboss.inventory.model import Category, Edge, Element, allow_edge, register_kind
from pboss.inventory.timestamps import stamp


class PlanState(StrEnum):
    """Where a cutover plan stands."""

    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "inProgress"
    COMPLETED = "completed"
    ROLLED_BACK = "rolledBack"
    CANCELLED = "cancelled"


_P = PlanState
#: The legal state changes; the final states allow none (a completed plan may still roll back).
TRANSITIONS: dict[PlanState, frozenset[PlanState]] = {
    _P.DRAFT: frozenset({_P.APPROVED, _P.CANCELLED}),
    _P.APPROVED: frozenset({_P.SCHEDULED, _P.CANCELLED}),
    _P.SCHEDULED: frozenset({_P.IN_PROGRESS, _P.CANCELLED}),
    _P.IN_PROGRESS: frozenset({_P.COMPLETED, _P.ROLLED_BACK}),
    _P.COMPLETED: frozenset({_P.ROLLED_BACK}),
    _P.ROLLED_BACK: frozenset(),
    _P.CANCELLED: frozenset(),
}
#: States in which the plan holds its target capacity.
HOLDING_STATES = frozenset({_P.DRAFT, _P.APPROVED, _P.SCHEDULED})


class MoveKind(StrEnum):
    """What a plan moves."""

    REHOME = "rehome"  # riders (ONTs, cascaded splitters) from splitter A's outputs to B's
    REROUTE = "reroute"  # circuits off a trunk section onto an alternative path
    PARTNER = "partner"  # a partner link's circuits onto self-built sections


class Step(BaseModel):
    """One edge change of the plan: `move` re-points (type, src, dst) to `new_dst`; `remove`
    deletes it; `add` creates it (with seq/slots); `update` gives it a new seq (a section a
    re-routed circuit keeps, at another position). `rider` is what the step moves."""

    op: Literal["move", "remove", "add", "update"]
    rider: str
    type: str
    src: str
    dst: str
    new_dst: str | None = None
    seq: int | None = None
    slots: list[int] | None = None

    def edge(self) -> Edge:
        """The edge as the step finds it (move, remove) or creates it (add)."""
        return Edge(type=self.type, src=self.src, dst=self.dst, seq=self.seq, slots=self.slots)


class HistoryEntry(BaseModel):
    """One entry of a plan's history: a state change or a refusal, with who, when and why."""

    at: datetime
    event: str
    state: str
    actor: str
    note: str = ""
    reasons: list[str] = Field(default_factory=list)

    def dumps(self) -> str:
        """The stored form: one JSON string per entry."""
        raw = self.model_dump(mode="json")
        raw["at"] = stamp(self.at)
        return json.dumps(raw, ensure_ascii=False)


class CutoverPlan(Element):
    """A planned move of riders between resources, with its window, reason, steps and record."""

    kind: ClassVar[str] = "CutoverPlan"
    category: ClassVar[Category] = Category.PROVISIONING

    move: MoveKind
    state: PlanState = PlanState.DRAFT
    reason: str = Field(min_length=1, max_length=2000)
    window_start: datetime
    window_end: datetime
    source: str
    target: str | None = None
    created_by: str = ""
    created_at: datetime
    updated_at: datetime
    steps: str = "[]"
    holds: list[str] = Field(default_factory=list)
    riders: list[str] = Field(default_factory=list)
    done_riders: int = Field(default=0, ge=0)
    partners: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    impact: str = "{}"
    before: str = "[]"
    after: str = "[]"
    verification: str = "{}"
    history: list[str] = Field(default_factory=list)

    @field_serializer("*", when_used="always", check_fields=False)
    def _stamp_datetimes(self, value: Any) -> Any:
        return stamp(value) if isinstance(value, datetime) else value

    def step_list(self) -> list[Step]:
        """The plan's steps, in execution order."""
        return [Step.model_validate(s) for s in json.loads(self.steps)]

    def done_steps(self) -> list[Step]:
        """The steps executed so far: those of the first `done_riders` riders."""
        done = set(self.riders[: self.done_riders])
        return [s for s in self.step_list() if s.rider in done]

    def entries(self) -> list[HistoryEntry]:
        """The plan's history, oldest first."""
        return [HistoryEntry.model_validate(json.loads(h)) for h in self.history]

    def recorded(self, which: Literal["before", "after"]) -> list[Edge]:
        """The edges recorded at execution: as they were before, or as they became."""
        return [Edge.model_validate(e) for e in json.loads(getattr(self, which))]


#: The kinds this package adds to the inventory model.
KINDS: tuple[type[Element], ...] = (CutoverPlan,)
#: Its edges: holds on target capacity, and MOVES to each rider (no impact traversal follows it).
EDGES: tuple[tuple[str, str, str], ...] = (
    *(("HOLDS", "CutoverPlan", t) for t in ("SplitterPort", "PonPort", "TrunkSection", "Port")),
    *(("MOVES", "CutoverPlan", t) for t in ("ONT", "Splitter", "Circuit")),
)


def register_kinds() -> None:
    """Add CutoverPlan and its edges to the inventory model (idempotent)."""
    register_kind(CutoverPlan)
    for edge_type, source, target in EDGES:
        allow_edge(edge_type, source, target)
