"""GraphQL types of field work: crews and their members, work queues with totals, field-work
errors (a crew with open work, work not assigned to the caller) and the result unions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import strawberry

from pboss.field import model as fm
from pboss.field.clock import HeldFor
from pboss.field.crews import CrewHasOpenWork as CrewHasOpenWorkExc
from pboss.field.crews import WorkTotals
from pboss.field.work import FieldStep
from pboss.graphql.connections import PageInfo
from pboss.graphql.errors import Error, Forbidden, NotFound, ValidationError
from pboss.graphql.provisioning.types import InvalidState, WorkOrder

SkillEnum = strawberry.enum(fm.Skill, name="Skill", description="What a crew member can do.")
CrewStateEnum = strawberry.enum(
    fm.CrewState, name="CrewState", description="Active, or unavailable (sick, on leave)."
)
FieldStepEnum = strawberry.enum(
    FieldStep, name="FieldStep", description="What a field engineer reports on a job, in order."
)
HeldForEnum = strawberry.enum(
    HeldFor, name="HeldFor", description="Whose side a hold is on: only customer holds pause SLA."
)


@strawberry.type(description="One person of a crew; the phone is shown to the operator only.")
class CrewMember:
    name: str
    phone: str | None
    skills: list[SkillEnum]


@strawberry.type(description="A field crew: the operator's own or a partner's team.")
class Crew:
    id: strawberry.ID
    name: str
    owner: str = strawberry.field(description="self, or the partner whose team it is")
    site: str | None = strawberry.field(description="its base, where travel starts")
    skills: list[SkillEnum]
    areas: list[str] = strawberry.field(description="Region and Site ids it covers")
    capacity_per_shift: int
    shift_start: str
    shift_end: str
    work_days: list[int] = strawberry.field(description="ISO weekdays, 1 = Monday")
    days_off: list[str]
    timezone: str
    state: CrewStateEnum
    supervisor: str | None
    members: list[CrewMember]


def crew_of(c: fm.Crew, *, phones: bool) -> Crew:
    """The GraphQL crew; member phones only when the caller is the operator (`phones`)."""
    return Crew(
        id=c.id,
        name=c.name,
        owner=c.owner,
        site=c.site,
        skills=[fm.Skill(s) for s in c.skills],
        areas=list(c.areas),
        capacity_per_shift=c.capacity_per_shift,
        shift_start=c.shift_start,
        shift_end=c.shift_end,
        work_days=list(c.work_days),
        days_off=list(c.days_off),
        timezone=c.timezone,
        state=fm.CrewState(c.state),
        supervisor=c.supervisor,
        members=[
            CrewMember(
                name=m.name,
                phone=m.phone if phones else None,
                skills=[fm.Skill(s) for s in m.skills],
            )
            for m in c.member_list()
        ],
    )


def members_json(members: list[CrewMemberInput]) -> str:
    """The stored form of members given as input."""
    return json.dumps(
        [
            {"name": m.name, "phone": m.phone, "skills": [fm.Skill(s).value for s in m.skills]}
            for m in members
        ],
        ensure_ascii=False,
    )


@strawberry.input(description="One person of a crew.")
class CrewMemberInput:
    name: str
    phone: str | None = None
    skills: list[SkillEnum] = strawberry.field(default_factory=list)


@strawberry.input(description="A crew to create or replace (by id); areas become COVERS edges.")
class CrewInput:
    id: strawberry.ID
    name: str
    skills: list[SkillEnum]
    owner: str = strawberry.field(default="self", description="self, or a partner id")
    site: str | None = None
    areas: list[str] = strawberry.field(default_factory=list)
    capacity_per_shift: int = 4
    shift_start: str = "08:30"
    shift_end: str = "17:30"
    work_days: list[int] = strawberry.field(default_factory=lambda: [1, 2, 3, 4, 5, 6])
    days_off: list[str] = strawberry.field(default_factory=list)
    timezone: str = "Asia/Shanghai"
    supervisor: str | None = None
    members: list[CrewMemberInput] = strawberry.field(default_factory=list)


@strawberry.type(description="Crews matching the filters, with counts by state.")
class CrewList:
    crews: list[Crew]
    total: int
    active: int
    unavailable: int


@strawberry.type(description="Counts over the whole filtered work queue, not just this page.")
class WorkQueueTotals:
    total: int
    open: int
    held: int
    in_jeopardy: int
    breached: int


def totals_of(t: WorkTotals) -> WorkQueueTotals:
    """The GraphQL totals."""
    return WorkQueueTotals(
        total=t.total, open=t.open, held=t.held, in_jeopardy=t.jeopardy, breached=t.breached
    )


@strawberry.type
class WorkOrderEdge:
    cursor: str
    node: WorkOrder


@strawberry.type(description="A work queue: work orders by due time, then id, with totals.")
class WorkOrderConnection:
    edges: list[WorkOrderEdge]
    page_info: PageInfo
    totals: WorkQueueTotals


@strawberry.type(description="A crew's state changed; the open work it had was unassigned.")
class CrewStateChange:
    crew: Crew
    unassigned: list[strawberry.ID] = strawberry.field(
        description="its open work orders, now awaiting reassignment"
    )
    at: datetime


@strawberry.type(description="A crew was removed.")
class CrewRemoved:
    id: strawberry.ID


@strawberry.type(description="The crew still has open work; reassign it first. Nothing changed.")
class CrewHasOpenWork(Error):
    crew_id: strawberry.ID
    work_orders: list[strawberry.ID]

    @classmethod
    def of(cls, exc: CrewHasOpenWorkExc) -> CrewHasOpenWork:
        """From the service's refusal."""
        return cls(
            message=str(exc),
            code="CREW_HAS_OPEN_WORK",
            crew_id=exc.crew_id,
            work_orders=list(exc.work_orders),
        )


@strawberry.type(
    description="The work order is not assigned to the caller's crews (for a partner key, an "
    "unknown id answers the same, so other parties' work is not revealed)."
)
class NotYourWork(Error):
    work_order_id: strawberry.ID


CrewResult = Annotated[Crew | NotFound, strawberry.union("CrewResult")]
UpsertCrewPayload = Annotated[
    Crew | ValidationError | Forbidden, strawberry.union("UpsertCrewPayload")
]
SetCrewStatePayload = Annotated[
    CrewStateChange | NotFound | Forbidden, strawberry.union("SetCrewStatePayload")
]
RemoveCrewPayload = Annotated[
    CrewRemoved | CrewHasOpenWork | NotFound | Forbidden, strawberry.union("RemoveCrewPayload")
]
FieldStepPayload = Annotated[
    WorkOrder | InvalidState | NotFound | NotYourWork | ValidationError | Forbidden,
    strawberry.union("FieldStepPayload"),
]
