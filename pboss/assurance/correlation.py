"""Common-cause correlation: which resource most likely explains a set of complaints and alarms.

Pure (no store): the caller gives each open complaint (a trouble ticket) with its service's
dependency chain from the customer end upward (ONT -> SplitterPort -> Splitter -> PonPort -> OLT,
or a circuit's ports, NEs, trunk sections and partner links), each raised alarm with the chain
above its resource, and each candidate resource's kind and total riders (customers). Every
resource on a path is a candidate; `rank` scores them and `cluster` groups the complaints that
share a plausible cause, one cluster per incident.

How a candidate scores (the `Criterion` list below, in order; like path choice, the explanation
says for every loser the first criterion it lost on):

1. **plausible**: the share of its riders known affected (complaining customers, plus every rider
   of a resource with a service-affecting alarm at or below it) reaches `min_share`, or a
   service-affecting alarm (critical/major) is raised on it. Twenty customers of an OLT's four
   thousand calling is no evidence that the OLT failed rather than two of its splitters;
2. **explains more**: complaints whose path passes it plus service-affecting alarms at or below
   it; the common cause is the one that accounts for the most evidence;
3. **alarms on it** (service-affecting ones, severity-weighted): direct evidence beats
   inference; a minor alarm or a warning is shown but decides nothing;
4. **fewer riders**: the deepest, most specific resource shared by the affected services;
5. **kind** on a tie of all of these: the deeper one, except that a PON port is taken before
   the stage-1 splitter hanging only off it (`TIE_RANK`);
6. the resource id, so the answer is deterministic.

`cluster` is greedy: rank over all remaining evidence, take the winner and the evidence it
explains as one cluster, repeat with the rest. So tickets under two unrelated splitters of one
OLT form two clusters (the OLT is not plausible: too few of its riders complain), while tickets
across two splitters of one PON port form one (the port explains all of them, plausibly).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

#: Weight of an alarm on the candidate itself, by severity (TMF642 perceived severity).
SEVERITY_WEIGHT: dict[str, float] = {
    "critical": 1.0,
    "major": 0.7,
    "minor": 0.3,
    "warning": 0.1,
    "indeterminate": 0.1,
}
#: Severities that say the resource's riders are (or may be) out of service.
SERVICE_AFFECTING = frozenset({"critical", "major"})
#: Kinds that are never a cause: the services and places themselves.
NOT_A_CAUSE = frozenset({"Service", "Customer", "Site", "Region", "Circuit", "Partner", "Product"})
#: On a tie of evidence and riders, which kind is taken (higher first): the deeper one, except
#: that a PON port wins over the stage-1 splitter feeding only from it (the port, an active
#: element carrying that whole tree, is the likelier fault), and an ONT over its splitter output.
TIE_RANK: dict[str, int] = {
    "ONT": 9,
    "Splitter/2": 8,
    "PartnerAccess": 8,
    "Port": 8,
    "TrunkSection": 7,
    "PartnerLink": 7,
    "PonPort": 7,
    "Splitter/1": 6,
    "NE": 6,
    "OLT": 5,
    "SplitterPort": 4,
}


def tie_rank(kind: str, stage: int | None = None) -> int:
    """A candidate's rank on a tie (see TIE_RANK)."""
    return TIE_RANK.get(f"{kind}/{stage}" if kind == "Splitter" else kind, 0)


#: Default share of a candidate's riders that must be known affected for it to be plausible.
MIN_SHARE = 0.05
#: How many candidates an explanation lists: the winner, then those sharing evidence (explaining
#: two or more, or alarmed), then single ones up to this many.
LISTED = 12


class Complaint(BaseModel):
    """One open complaint: the ticket, whose customer (the unit riders are counted in), its path."""

    id: str
    subject: str
    path: list[str]


class AlarmFact(BaseModel):
    """One raised alarm: on which resource, how severe, and the chain above it (resource first)."""

    id: str
    resource: str
    severity: str
    path: list[str]

    @property
    def service_affecting(self) -> bool:
        """True for a critical or major alarm: the resource's riders are taken as affected."""
        return self.severity in SERVICE_AFFECTING


class Resource(BaseModel):
    """What ranking needs to know of a candidate: its kind and its total riders (customers)."""

    id: str
    kind: str
    riders: int = 0
    stage: int | None = None


class CandidateScore(BaseModel):
    """One candidate's score parts, as stored in an incident's explanation."""

    resource: str
    kind: str
    stage: int | None = None
    riders: int
    complaints: int
    alarms: int
    alarm_weight: float
    affected: int
    share: float
    plausible: bool
    explains: int
    summary: str = ""

    def sort_key(self) -> tuple[object, ...]:
        """Ascending sort key: the best candidate first (see the module docstring)."""
        return (
            not self.plausible,
            -self.explains,
            -self.alarm_weight,
            self.riders,
            -tie_rank(self.kind, self.stage),
            self.resource,
        )


@dataclass(frozen=True)
class Criterion:
    """One ranking criterion and how to say a candidate lost on it (`l` loser, `w` winner)."""

    key: str
    phrase: str

    def say(self, loser: CandidateScore, winner: CandidateScore) -> str:
        """The phrase with both candidates' figures."""
        return self.phrase.format(l=loser, w=winner)


CRITERIA: list[Criterion] = [
    Criterion(
        "plausible",
        "not plausible: {l.affected} of its {l.riders} riders affected ({l.share:.1%}), "
        "no service-affecting alarm",
    ),
    Criterion("explains", "explains less: {l.explains} vs {w.explains} complaints and alarms"),
    Criterion(
        "alarm_weight", "fewer alarms on it: weight {l.alarm_weight:g} vs {w.alarm_weight:g}"
    ),
    Criterion("riders", "less specific: {l.riders} riders vs {w.riders}"),
    Criterion(
        "kind",
        "same evidence and riders: a {w.kind} is taken before a {l.kind} (deeper first; a PON "
        "port before the stage-1 splitter it feeds)",
    ),
]


def why_lost(loser: CandidateScore, winner: CandidateScore) -> str:
    """The first criterion on which the loser ranks below the winner, in words."""
    lk, wk = loser.sort_key(), winner.sort_key()
    for crit, a, b in zip(CRITERIA, lk, wk, strict=False):
        if a != b:
            return crit.say(loser, winner)
    return "equal on every criterion; candidates are then taken in id order"


class Alternative(BaseModel):
    """A candidate that was considered and lost, and why."""

    resource: str
    summary: str
    why_lost: str


class Correlation(BaseModel):
    """The ranking of one cluster's candidates: the chosen cause, its score, the losers and why."""

    criteria: str = (
        "plausible (share of riders affected, or a service-affecting alarm), explains more "
        "complaints and alarms, alarms on it, fewer riders, active before passive, id"
    )
    min_share: float = MIN_SHARE
    chosen: str | None = None
    chosen_summary: str = ""
    complaints: int = 0
    alarms: int = 0
    candidates: list[CandidateScore] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    considered: int = 0

    @property
    def winner(self) -> CandidateScore | None:
        """The chosen candidate's scores."""
        return self.candidates[0] if self.candidates else None

    def dumps(self) -> str:
        """The stored form (one JSON string on the incident)."""
        return self.model_dump_json()

    @classmethod
    def loads(cls, raw: str | None) -> Correlation | None:
        """Parse the stored form; None for an empty one."""
        data = json.loads(raw or "{}")
        return cls.model_validate(data) if data else None


@dataclass
class Tally:
    """Evidence counted for one candidate, kept incrementally by an incident or built by `tally`.

    `alarmed` maps each resource with a service-affecting alarm at or below the candidate to its
    riders; `covered` counts complaints under one of those (so they are not counted twice)."""

    complaints: int = 0
    alarms: int = 0
    alarm_weight: float = 0.0
    minor: int = 0
    alarmed: dict[str, int] = field(default_factory=dict)
    covered: int = 0

    def affected(self, riders: int) -> int:
        """Riders known affected: alarmed resources' riders plus complaints not under them."""
        known = sum(self.alarmed.values()) + self.complaints - self.covered
        return min(known, riders) if riders else known


def score(res: Resource, t: Tally, min_share: float = MIN_SHARE) -> CandidateScore:
    """One candidate's score parts from its tally."""
    affected = t.affected(res.riders)
    share = affected / res.riders if res.riders > 0 else 0.0  # riders unknown: alarms decide
    plausible = share >= min_share or t.alarm_weight > 0
    explains = t.complaints + t.alarms
    summary = (
        f"{res.kind} {res.id}: {t.complaints} complaint(s), {t.alarms} service-affecting "
        f"alarm(s) at or below it, {affected} of {res.riders} riders affected ({share:.1%})"
    )
    if t.minor:
        summary += f"; {t.minor} minor alarm(s) or warning(s) on it"
    return CandidateScore(
        resource=res.id,
        kind=res.kind,
        stage=res.stage,
        riders=res.riders,
        complaints=t.complaints,
        alarms=t.alarms,
        alarm_weight=round(t.alarm_weight, 3),
        affected=affected,
        share=round(share, 4),
        plausible=plausible,
        explains=explains,
        summary=summary,
    )


def is_candidate(res: Resource | None) -> bool:
    """True for a resource that can be a cause (not a service, customer or place)."""
    return res is not None and res.kind not in NOT_A_CAUSE


def tally(
    complaints: Iterable[Complaint],
    alarms: Iterable[AlarmFact],
    resources: Mapping[str, Resource],
) -> dict[str, Tally]:
    """Count the evidence per candidate resource over these complaints and alarms."""
    out: dict[str, Tally] = {}
    alarm_list = list(alarms)
    alarmed = {a.resource: a for a in alarm_list if a.service_affecting}
    for a in alarm_list:
        here = out.setdefault(a.resource, Tally())
        if not a.service_affecting:
            here.minor += 1
            continue
        here.alarm_weight += SEVERITY_WEIGHT.get(a.severity, 0.0)
        riders = resources[a.resource].riders if a.resource in resources else 0
        for rid in dict.fromkeys(a.path):
            t = out.setdefault(rid, Tally())
            t.alarms += 1
            t.alarmed[a.resource] = riders
    for c in complaints:
        path = list(dict.fromkeys(c.path))
        under: set[str] = set()
        for rid in path:
            t = out.setdefault(rid, Tally())
            t.complaints += 1
            if rid in alarmed:
                under.add(rid)
            if under:
                t.covered += 1
    return out


def rank(
    tallies: Mapping[str, Tally],
    resources: Mapping[str, Resource],
    *,
    complaints: int,
    alarms: int,
    min_share: float = MIN_SHARE,
    listed: int = LISTED,
) -> Correlation:
    """Rank the candidates of one body of evidence and explain the choice."""
    scored = sorted(
        (score(resources[rid], t, min_share) for rid, t in tallies.items()
         if is_candidate(resources.get(rid))),
        key=CandidateScore.sort_key,
    )  # fmt: skip
    if not scored:
        return Correlation(min_share=min_share, complaints=complaints, alarms=alarms)
    win = scored[0]
    shared = [c for c in scored[1:] if c.explains > 1 or c.alarm_weight > 0]
    single = [c for c in scored[1:] if not (c.explains > 1 or c.alarm_weight > 0)]
    shown = [win, *shared[: listed - 1]]
    shown += single[: max(0, listed - len(shown))]
    return Correlation(
        min_share=min_share,
        chosen=win.resource,
        chosen_summary=win.summary,
        complaints=complaints,
        alarms=alarms,
        candidates=shown,
        alternatives=[
            Alternative(resource=c.resource, summary=c.summary, why_lost=why_lost(c, win))
            for c in shown[1:]
        ],
        considered=len(scored),
    )


@dataclass
class Cluster:
    """Evidence that shares one plausible cause: one incident."""

    correlation: Correlation
    complaints: list[Complaint]
    alarms: list[AlarmFact]

    @property
    def cause(self) -> str | None:
        """The suspected resource."""
        return self.correlation.chosen


def correlate(
    complaints: Sequence[Complaint],
    alarms: Sequence[AlarmFact],
    resources: Mapping[str, Resource],
    *,
    min_share: float = MIN_SHARE,
) -> Correlation:
    """Rank the candidates of one body of evidence taken as a whole."""
    return rank(
        tally(complaints, alarms, resources),
        resources,
        complaints=len(complaints),
        alarms=sum(1 for a in alarms if a.service_affecting),
        min_share=min_share,
    )


def cluster(
    complaints: Sequence[Complaint],
    alarms: Sequence[AlarmFact],
    resources: Mapping[str, Resource],
    *,
    min_share: float = MIN_SHARE,
) -> list[Cluster]:
    """Group the evidence into clusters by their most likely common cause, biggest first.

    Greedy: the best candidate over what remains takes everything whose path passes it; the rest
    is ranked again. Evidence with no candidate on its path (an empty path) is left out."""
    left_c = [c for c in complaints if any(is_candidate(resources.get(r)) for r in c.path)]
    left_a = [a for a in alarms if any(is_candidate(resources.get(r)) for r in a.path)]
    out: list[Cluster] = []
    while left_c or left_a:
        corr = correlate(left_c, left_a, resources, min_share=min_share)
        cause = corr.chosen
        if cause is None:  # pragma: no cover - filtered above
            break
        mine_c = [c for c in left_c if cause in c.path]
        mine_a = [a for a in left_a if cause in a.path]
        out.append(Cluster(corr, mine_c, mine_a))
        left_c = [c for c in left_c if cause not in c.path]
        left_a = [a for a in left_a if cause not in a.path]
    return out
