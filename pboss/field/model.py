"""Field-work kinds: the crew (own or a partner's team) with its skills, areas, shifts and members.

A crew `COVERS` the sites and regions it works in (an edge no impact traversal follows); its
members, shift hours and days off are stored flat (JSON strings and lists; Neo4j keeps no nested
maps). Work orders (provisioning's `WorkOrder`, construction or repair) are `ASSIGNED_TO` a crew.
`register_kinds()` adds them to the inventory model, explicitly.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, Field, ValidationError, field_validator

from pboss.inventory.model import Category, Element, allow_edge, register_kind


class Skill(StrEnum):
    """What a crew member can do."""

    FTTH_INSTALL = "ftthInstall"
    SPLICING = "splicing"
    MSTP_SDH = "mstpSdh"
    CABLE_TV = "cableTv"
    REPAIR = "repair"


class CrewState(StrEnum):
    """An active crew takes work; an unavailable one (sick, on leave) has its work reassigned."""

    ACTIVE = "active"
    UNAVAILABLE = "unavailable"


class Member(BaseModel):
    """One person of a crew (personal data: the phone is shown to the operator only)."""

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=64)
    skills: list[Skill] = Field(default_factory=list)


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Crew(Element):
    """A field crew: the operator's own (`owner` "self") or a partner's team (`owner` the
    partner), working `shift_start`-`shift_end` local time on `work_days` (ISO 1=Mon..7=Sun) except
    `days_off`, taking at most `capacity_per_shift` jobs a shift; `site` is its base (where travel
    starts)."""

    kind: ClassVar[str] = "Crew"
    category: ClassVar[Category] = Category.PARTY
    skills: list[Skill] = Field(min_length=1)
    #: Region and site ids the crew works in (also `COVERS` edges).
    areas: list[str] = Field(default_factory=list)
    capacity_per_shift: int = Field(default=4, ge=1, le=100)
    shift_start: str = "08:30"
    shift_end: str = "17:30"
    work_days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5, 6])
    days_off: list[str] = Field(default_factory=list)
    timezone: str = "Asia/Shanghai"
    #: JSON list of `Member`.
    members: str = "[]"
    state: CrewState = CrewState.ACTIVE
    supervisor: str | None = Field(default=None, max_length=200)

    @field_validator("shift_start", "shift_end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"{v!r} is not a time of day HH:MM")
        return v

    @field_validator("work_days")
    @classmethod
    def _iso_days(cls, v: list[int]) -> list[int]:
        bad = [d for d in v if not 1 <= d <= 7]
        if bad:
            raise ValueError(f"work days are ISO weekdays 1..7, not {bad}")
        return sorted(set(v))

    @field_validator("days_off")
    @classmethod
    def _dates(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if not _DATE.match(d)]
        if bad:
            raise ValueError(f"days off are dates YYYY-MM-DD, not {bad}")
        return sorted(set(v))

    @field_validator("members")
    @classmethod
    def _members(cls, v: str) -> str:
        try:
            raw = json.loads(v)
        except ValueError as e:
            raise ValueError(f"members must be a JSON list: {e}") from None
        if not isinstance(raw, list):
            raise ValueError("members must be a JSON list")
        for i, m in enumerate(raw, 1):
            try:
                Member.model_validate(m)
            except ValidationError as e:
                said = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'member'}: {err['msg']}"
                    for err in e.errors()
                )
                raise ValueError(f"member {i}: {said}") from None
        return v

    def member_list(self) -> list[Member]:
        """The crew's members."""
        return [Member.model_validate(m) for m in json.loads(self.members)]


#: The kinds this package adds to the inventory model.
KINDS: tuple[type[Element], ...] = (Crew,)
#: Its edges: the areas a crew covers, and the work orders assigned to it.
EDGES: tuple[tuple[str, str, str], ...] = (
    ("COVERS", "Crew", "Site"),
    ("COVERS", "Crew", "Region"),
    ("ASSIGNED_TO", "WorkOrder", "Crew"),
)


def register_kinds() -> None:
    """Add Crew and its edges to the inventory model (idempotent)."""
    for cls in KINDS:
        register_kind(cls)
    for edge_type, source, target in EDGES:
        allow_edge(edge_type, source, target)
