"""Field steps of a work order, as a field engineer's app reports them, recorded with who and when.

The steps are, in order: `accepted` (the crew takes the job), `onTheWay`, then the milestones
`survey`, `installation`, `remoteTest`, `acceptance`; at any point a job may be `held` (with a
reason and whose side it is on), `resumed` or `failed` (with a reason). `accepted` and `onTheWay`
are optional (a crew may report its first milestone directly) but never come after a milestone.
Each recorded step is one JSON entry in `WorkOrder.steps`: `{step, at, actor, reason, heldFor}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pboss.inventory.timestamps import stamp
from pboss.provisioning.model import MILESTONES, Milestone, WorkOrder


class FieldStep(StrEnum):
    """What a field engineer reports on a job."""

    ACCEPTED = "accepted"
    ON_THE_WAY = "onTheWay"
    SURVEY = "survey"
    INSTALLATION = "installation"
    REMOTE_TEST = "remoteTest"
    ACCEPTANCE = "acceptance"
    HELD = "held"
    RESUMED = "resumed"
    FAILED = "failed"


#: Steps before the first milestone, in order.
PRE_STEPS: tuple[FieldStep, ...] = (FieldStep.ACCEPTED, FieldStep.ON_THE_WAY)
#: Steps that need a reason.
NEEDS_REASON = frozenset({FieldStep.HELD, FieldStep.FAILED})


@dataclass(frozen=True)
class StepEntry:
    """One recorded field step."""

    step: str
    at: datetime
    actor: str
    reason: str = ""
    held_for: str | None = None

    def dumps(self) -> str:
        """The stored form: one JSON string."""
        raw: dict[str, Any] = {"step": self.step, "at": stamp(self.at), "actor": self.actor}
        if self.reason:
            raw["reason"] = self.reason
        if self.held_for:
            raw["heldFor"] = self.held_for
        return json.dumps(raw, ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str) -> StepEntry:
        """Parse a stored entry."""
        d = json.loads(raw)
        return cls(
            step=d["step"],
            at=datetime.fromisoformat(d["at"]),
            actor=d.get("actor", ""),
            reason=d.get("reason", ""),
            held_for=d.get("heldFor"),
        )


def steps_of(wo: WorkOrder) -> list[StepEntry]:
    """The field steps recorded on a work order, oldest first."""
    return [StepEntry.loads(s) for s in wo.steps]


def milestone_of(step: FieldStep) -> Milestone | None:
    """The construction milestone a step is, or None for the other steps."""
    return next((m for m in MILESTONES if m.value == step.value), None)


def pre_step_problem(wo: WorkOrder, step: FieldStep) -> str | None:
    """Why `accepted` / `onTheWay` cannot be recorded now (None when it can, or was already)."""
    recorded = {s.step for s in steps_of(wo)}
    if step.value in recorded:
        return None
    if wo.done:
        return f"{step.value} cannot follow milestone {wo.done[-1]}"
    if step == FieldStep.ACCEPTED and FieldStep.ON_THE_WAY.value in recorded:
        return "accepted cannot follow onTheWay"
    return None


def with_step(wo: WorkOrder, entry: StepEntry) -> WorkOrder:
    """A copy of the work order with one more field step."""
    new = wo.model_copy(deep=True)
    new.steps = [*wo.steps, entry.dumps()]
    return new
