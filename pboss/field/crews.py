"""Crews and work queues: what the field API calls (list, upsert, sickness, removal, queues).

A crew is written with its `COVERS` edges in one transaction (areas must be Regions or Sites).
A crew becoming unavailable (sick, on leave) has its open work reassigned by the `reassign`
callable given to the service (the assignment optimiser), or, without one, unassigned and left
open with a history entry, so dispatchers see it in the unassigned queue. A crew with open work
cannot be removed (`CrewHasOpenWork` names the work orders). Work queues filter work orders by
crew, partner, state, site, purpose, due time, jeopardy and breach, with totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pboss.field.clock import entry
from pboss.field.model import Crew, CrewState
from pboss.inventory.errors import Issue, NotFound, PbossError, ValidationFailed
from pboss.inventory.model import SELF, Edge, from_props
from pboss.inventory.store import GraphStore
from pboss.inventory.timestamps import utc
from pboss.inventory.transaction import GraphTx
from pboss.provisioning.model import OPEN_WORK_STATES, WorkOrder

#: Kinds a crew's areas may name.
AREA_KINDS = frozenset({"Site", "Region"})
#: Reassigns the given open work orders (the optimiser's entry point); returns nothing useful.
Reassign = Callable[[list[str], str], Any]


class CrewHasOpenWork(PbossError):
    """A crew cannot be removed while work orders assigned to it are open."""

    code = "crew_has_open_work"

    def __init__(self, crew_id: str, work_orders: list[str]):
        self.crew_id = crew_id
        self.work_orders = work_orders
        shown = ", ".join(work_orders[:20]) + (" ..." if len(work_orders) > 20 else "")
        super().__init__(
            f"crew {crew_id} has {len(work_orders)} open work order(s): {shown}; "
            "reassign them first"
        )


@dataclass(frozen=True)
class WorkFilter:
    """What a work queue shows; None matches everything."""

    crew: str | None = None
    partner: str | None = None
    state: str | None = None
    site: str | None = None
    purpose: str | None = None
    due_before: datetime | None = None
    jeopardy: bool | None = None
    breached: bool | None = None
    unassigned: bool | None = None

    def matches(self, wo: WorkOrder, crew_owner: str | None) -> bool:
        """True when the work order belongs in the queue (`crew_owner`: its crew's owner)."""
        return (
            (self.crew is None or wo.crew == self.crew)
            and (self.partner is None or partner_of(wo, crew_owner) == self.partner)
            and (self.state is None or wo.state == self.state)
            and (self.site is None or wo.site == self.site)
            and (self.purpose is None or wo.purpose == self.purpose)
            and (self.due_before is None or utc(wo.due_at) <= utc(self.due_before))
            and (self.jeopardy is None or wo.jeopardy == self.jeopardy)
            and (self.breached is None or wo.breached == self.breached)
            and (self.unassigned is None or (wo.crew is None) == self.unassigned)
        )


@dataclass
class WorkTotals:
    """Counts over the whole filtered queue (not just the page)."""

    total: int = 0
    open: int = 0
    held: int = 0
    jeopardy: int = 0
    breached: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


@dataclass
class WorkPage:
    """One page of a work queue (ordered by due time, then id) and the queue's totals."""

    items: list[WorkOrder]
    totals: WorkTotals
    has_next: bool


class FieldService:
    """Crews and work queues on one store; `clock` is the injectable clock."""

    def __init__(
        self,
        store: GraphStore,
        *,
        clock: Callable[[], datetime] | None = None,
        reassign: Reassign | None = None,
    ):
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self.reassign = reassign

    # ---- crews ----------------------------------------------------------------------------------

    def crew(self, crew_id: str) -> Crew:
        """One crew by id (NotFound otherwise)."""
        el = self.store.get(crew_id)
        if not isinstance(el, Crew):
            raise NotFound(crew_id, "Crew")
        return el

    def crews(
        self,
        *,
        owner: str | None = None,
        skill: str | None = None,
        area: str | None = None,
        state: str | None = None,
    ) -> list[Crew]:
        """Crews matching every filter given, by id."""
        out: list[Crew] = []
        for props in self.store.scan_nodes("Crew"):
            c = from_props(props)
            if not isinstance(c, Crew):
                continue
            if owner is not None and c.owner != owner:
                continue
            if skill is not None and skill not in c.skills:
                continue
            if area is not None and area not in c.areas and c.site != area:
                continue
            if state is not None and c.state != state:
                continue
            out.append(c)
        return out

    def upsert_crew(self, crew: Crew, *, actor: str) -> Crew:
        """Create or replace a crew and its COVERS edges (areas must be Regions or Sites; a
        crew's owner may not change: remove it and create another)."""

        def work(tx: GraphTx) -> Crew:
            found = tx.lock([crew.id, *crew.areas])
            old = found.get(crew.id)
            issues = [
                Issue(item=crew.id, field="areas", reason=f"area {a!r} is not a Region or Site")
                for a in crew.areas
                if a not in found or found[a].kind not in AREA_KINDS
            ]
            if old is not None and not isinstance(old, Crew):
                issues.append(Issue(item=crew.id, field="id", reason=f"id is a {old.kind}"))
            elif old is not None and old.owner != crew.owner:
                reason = f"owner cannot change from {old.owner!r} to {crew.owner!r}"
                issues.append(Issue(item=crew.id, field="owner", reason=reason))
            if crew.site is not None and (
                crew.site not in found and not tx.peek([crew.site]).get(crew.site)
            ):
                issues.append(Issue(item=crew.id, field="site", reason="unknown site"))
            if issues:
                raise ValidationFailed(issues)
            covered: set[str] = set()
            if old is not None:
                covered = {e.dst for e, _ in tx.linked(crew.id, "COVERS", "out")}
            tx.put(crew, new=old is None)
            for gone in sorted(covered - set(crew.areas)):
                tx.unlink("COVERS", crew.id, gone)
            for area in sorted(set(crew.areas) - covered):
                tx.link(Edge(type="COVERS", src=crew.id, dst=area))
            return crew

        return self.store.transact(work, actor=actor, reason="upsert crew")

    def open_work_of(self, tx: GraphTx, crew_id: str) -> list[WorkOrder]:
        """The open work orders assigned to a crew (read in the transaction)."""
        return [
            wo
            for _, wo in tx.linked(crew_id, "ASSIGNED_TO", "in")
            if isinstance(wo, WorkOrder) and wo.state in OPEN_WORK_STATES
        ]

    def set_crew_state(
        self, crew_id: str, state: CrewState | str, *, reason: str, actor: str
    ) -> tuple[Crew, list[str]]:
        """Make a crew active or unavailable; an unavailable crew's open work is reassigned
        (or unassigned and left open with history). Returns the crew and the work it had."""
        new_state = CrewState(state)
        now = self.clock()

        def work(tx: GraphTx) -> tuple[Crew, list[str]]:
            crew = tx.lock([crew_id]).get(crew_id)
            if not isinstance(crew, Crew):
                raise NotFound(crew_id, "Crew")
            if crew.state == new_state:
                return crew, []
            new = crew.model_copy(deep=True)
            new.state = new_state
            moved: list[str] = []
            locked: dict[str, Any] = {}
            if new_state == CrewState.UNAVAILABLE:  # every read before the first write
                open_work = self.open_work_of(tx, crew_id)
                locked = tx.lock([w.id for w in open_work]) if open_work else {}
            tx.put(new)
            if locked:
                for wid in sorted(locked):
                    wo = locked[wid]
                    if not isinstance(wo, WorkOrder) or wo.state not in OPEN_WORK_STATES:
                        continue
                    note = f"crew {crew_id} unavailable: {reason}; awaiting reassignment"
                    freed = entry(wo, "unassigned", now, note, actor)
                    freed.crew = None
                    tx.put(freed)
                    tx.unlink("ASSIGNED_TO", wid, crew_id)
                    moved.append(wid)
            return new, moved

        crew, moved = self.store.transact(work, actor=actor, reason=f"crew state: {reason}")
        if moved and self.reassign is not None:
            self.reassign(moved, actor)
        return crew, moved

    def remove_crew(self, crew_id: str, *, actor: str) -> str:
        """Delete a crew; refused (CrewHasOpenWork) while work assigned to it is open. It is
        first made unavailable in the checking transaction, so no new work lands meanwhile."""

        def check(tx: GraphTx) -> None:
            crew = tx.lock([crew_id]).get(crew_id)
            if not isinstance(crew, Crew):
                raise NotFound(crew_id, "Crew")
            open_ids = sorted(w.id for w in self.open_work_of(tx, crew_id))
            if open_ids:
                raise CrewHasOpenWork(crew_id, open_ids)
            if crew.state != CrewState.UNAVAILABLE:
                new = crew.model_copy(deep=True)
                new.state = CrewState.UNAVAILABLE
                tx.put(new)

        self.store.transact(check, actor=actor, reason="remove crew")
        self.store.delete([crew_id], actor=actor)
        return crew_id

    # ---- work queues ----------------------------------------------------------------------------

    def work_queue(
        self,
        flt: WorkFilter,
        *,
        first: int = 50,
        after: tuple[str, str] | None = None,
        visible: Callable[[WorkOrder, str | None], bool] | None = None,
    ) -> WorkPage:
        """Work orders matching `flt` (and `visible`, the caller's view), by due time then id,
        `first` after the (due, id) key `after`, with totals over the whole queue."""
        owners = {c.id: c.owner for c in self.crews()}
        rows: list[WorkOrder] = []
        totals = WorkTotals()
        for props in self.store.scan_nodes("WorkOrder"):
            wo = from_props(props)
            if not isinstance(wo, WorkOrder):
                continue
            owner = owners.get(wo.crew) if wo.crew else None
            if not flt.matches(wo, owner) or (visible is not None and not visible(wo, owner)):
                continue
            totals.total += 1
            totals.by_state[str(wo.state)] = totals.by_state.get(str(wo.state), 0) + 1
            totals.open += wo.state == "open"
            totals.held += wo.state == "held"
            totals.jeopardy += wo.jeopardy
            totals.breached += wo.breached
            rows.append(wo)
        rows.sort(key=queue_key)
        if after is not None:
            rows = [w for w in rows if queue_key(w) > after]
        return WorkPage(rows[:first], totals, len(rows) > first)


def queue_key(wo: WorkOrder) -> tuple[str, str]:
    """A work order's place in a queue: due time (as a sortable UTC stamp), then id."""
    return (utc(wo.due_at).isoformat(), wo.id)


def partner_of(wo: WorkOrder, crew_owner: str | None) -> str | None:
    """The partner a work order is for: its partner assignee or its crew's partner owner."""
    if wo.assignee_type == "partner":
        return wo.assignee
    return crew_owner if crew_owner not in (None, SELF) else None
