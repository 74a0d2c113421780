"""Value objects between path computation and the reserving transaction.

Path computation (paths.py) reads the inventory and ranks candidates; each candidate lists its
claims (which ports, how many VC-12 slots on which sections). The reserving transaction locks the
claimed resources, re-checks them (allocate.py) and writes the holds. The `Explanation` records why
the chosen candidate won and why every other one lost or was excluded.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field

ClaimType = Literal["port", "slots", "budget", "pool"]


class Claim(BaseModel):
    """One thing a candidate needs, checked again under lock.

    - `port`: one free port out of `options` (tried in order), held exclusively;
    - `slots`: `slots` free VC-12 slots on the link `options[0]`, at position `seq` of the route;
    - `budget`: the PON port `options[0]` must stay within its split budget (nothing is held);
    - `pool`: one free unit of the partner pool `options[0]`.
    """

    type: ClaimType
    role: str
    options: list[str] = Field(min_length=1)
    slots: int = 0
    seq: int | None = None

    @property
    def lock_ids(self) -> list[str]:
        """The nodes to lock before re-checking this claim."""
        return list(self.options)


class Candidate(BaseModel):
    """One way to serve the order, with what it needs and how it scored."""

    label: str
    claims: list[Claim]
    score: dict[str, float | int | str | bool] = Field(default_factory=dict)
    summary: str = ""

    @property
    def lock_ids(self) -> list[str]:
        """Every node this candidate would lock."""
        return [i for c in self.claims for i in c.lock_ids]


class Criterion(BaseModel):
    """One ranking criterion (lower score wins) and how to say a candidate lost on it.

    `phrase` is formatted with `l` (the loser's score) and `w` (the winner's), e.g.
    "PON port more loaded: {l[pon_load]} vs {w[pon_load]}".
    """

    key: str
    phrase: str
    details: list[Criterion] = Field(default_factory=list)

    def differs(self, loser: Candidate, winner: Candidate) -> bool:
        """True when the two candidates score differently on this criterion."""
        return loser.score.get(self.key) != winner.score.get(self.key)

    def say(self, loser: Candidate, winner: Candidate) -> str:
        """The phrase, followed by the details that differ (e.g. what made a weight higher)."""
        text = self.phrase.format(l=loser.score, w=winner.score)
        extra = [d.say(loser, winner) for d in self.details if d.differs(loser, winner)]
        return f"{text}: {', '.join(extra)}" if extra else text


class Alternative(BaseModel):
    """A candidate that was considered and lost, and why."""

    label: str
    summary: str
    why_lost: str


class Exclusion(BaseModel):
    """A resource left out before ranking, and why (faulty, full, over budget, ...)."""

    id: str
    reason: str


class Plan(BaseModel):
    """The ranked candidates for one request, the exclusions, and the criteria used."""

    technology: str
    criteria: str
    ranking: list[Criterion]
    candidates: list[Candidate]
    excluded: list[Exclusion] = Field(default_factory=list)

    def why_lost(self, loser: Candidate, winner: Candidate) -> str:
        """The first criterion on which the loser ranks below the winner, in words."""
        for crit in self.ranking:
            if crit.differs(loser, winner):
                return crit.say(loser, winner)
        return "equal on every criterion; candidates are then taken in id order"

    def alternatives(self, chosen: int = 0) -> list[Alternative]:
        """Every other candidate and why it lost to the one at index `chosen`."""
        winner = self.candidates[chosen]
        return [
            Alternative(label=c.label, summary=c.summary, why_lost=self.why_lost(c, winner))
            for i, c in enumerate(self.candidates)
            if i != chosen
        ]

    @property
    def reasons(self) -> list[str]:
        """The exclusions as sentences, for a NoCapacity error."""
        return [f"{e.id}: {e.reason}" for e in self.excluded]


class HeldItem(BaseModel):
    """One resource a reservation holds: a port, VC-12 slots of a section, or a pool unit."""

    id: str
    kind: str
    role: str
    seq: int | None = None
    slots: list[int] | None = None


class Allocation(BaseModel):
    """What the transaction actually took: which candidate, and the exact items."""

    candidate: int
    label: str
    items: list[HeldItem]
    lost: list[str] = Field(default_factory=list)


class Explanation(BaseModel):
    """Why a reservation holds what it holds: the chosen path, the alternatives, the exclusions."""

    technology: str
    criteria: str
    chosen: str
    chosen_summary: str
    alternatives: list[Alternative]
    excluded: list[Exclusion]
    lost_races: list[str] = Field(default_factory=list)

    def dumps(self) -> str:
        """The stored form (one JSON string on the reservation node)."""
        return self.model_dump_json()

    @classmethod
    def loads(cls, raw: str) -> Explanation | None:
        """Parse the stored form; None for an empty one."""
        data = json.loads(raw or "{}")
        return cls.model_validate(data) if data else None


def explain(plan: Plan, allocation: Allocation) -> Explanation:
    """The explanation of what was taken: the plan's ranking, adjusted for races lost under lock."""
    chosen = plan.candidates[allocation.candidate]
    alternatives = plan.alternatives(allocation.candidate)
    for alt in alternatives[: allocation.candidate]:
        alt.why_lost = "ranked higher, but a concurrent reservation took it first"
    return Explanation(
        technology=plan.technology,
        criteria=plan.criteria,
        chosen=chosen.label,
        chosen_summary=chosen.summary,
        alternatives=alternatives,
        excluded=plan.excluded,
        lost_races=allocation.lost,
    )
