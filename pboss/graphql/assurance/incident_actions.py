"""GraphQL for an engineer's actions on an incident: confirm its suspect, re-point it to another
resource, split named tickets out into a new incident (`pboss.assurance.actions`).

Engineers and admins only; each answers with what the incident now is (its own small outcome
type, so this module stands beside the incident queries without sharing their types) or a typed
error: `NotFound` (no such incident or resource), `IncidentActionRefusedError` (its state, a
resource that is no network resource, tickets not in it), `Forbidden`; nothing is written then.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

import strawberry

from pboss.assurance.actions import IncidentActionRefused, IncidentDesk
from pboss.assurance.correlation import Correlation
from pboss.assurance.model import Incident
from pboss.graphql.context import Context, Info
from pboss.graphql.errors import Error, Forbidden, NotFound
from pboss.inventory import errors as inv

WRITE_ROLES = frozenset({"engineer", "admin"})
NOTE_MAX = 500
#: Most tickets one split names.
SPLIT_MAX = 1000
_LOCK = threading.Lock()


@strawberry.type(description="An incident as an engineer's action left it.")
class IncidentActionOutcome:
    id: strawberry.ID
    state: str
    suspected: strawberry.ID
    confirmed_by: str | None
    tickets: list[strawberry.ID]
    alarms: list[strawberry.ID]
    why: str = strawberry.field(description="The chosen cause's summary, with who chose it.")


@strawberry.type(description="A split: the incident as it now is, and the one split off.")
class IncidentSplitOutcome:
    incident: IncidentActionOutcome
    split_off: IncidentActionOutcome


@strawberry.type(description="The incident's state or the arguments do not allow this action.")
class IncidentActionRefusedError(Error):
    incident: strawberry.ID
    reasons: list[str]


IncidentActionPayload = Annotated[
    IncidentActionOutcome | IncidentActionRefusedError | NotFound | Forbidden,
    strawberry.union("IncidentActionPayload"),
]
IncidentSplitPayload = Annotated[
    IncidentSplitOutcome | IncidentActionRefusedError | NotFound | Forbidden,
    strawberry.union("IncidentSplitPayload"),
]


def outcome_of(inc: Incident) -> IncidentActionOutcome:
    """The outcome type of an incident."""
    corr = Correlation.loads(inc.candidates if inc.candidates != "[]" else "")
    return IncidentActionOutcome(
        id=strawberry.ID(inc.id),
        state=str(inc.state),
        suspected=strawberry.ID(inc.suspected),
        confirmed_by=inc.confirmed_by,
        tickets=[strawberry.ID(t) for t in inc.tickets],
        alarms=[strawberry.ID(a) for a in inc.alarms],
        why=corr.chosen_summary if corr else "",
    )


def desk_of(ctx: Context) -> IncidentDesk:
    """The app's incident desk (made once, with the provisioning service's clock when there is
    one: one injectable clock)."""
    desk = ctx.state.get("incident_desk")
    if desk is None:
        with _LOCK:
            desk = ctx.state.get("incident_desk")
            if desk is None:
                clock = getattr(ctx.state.get("provisioning"), "clock", None)
                desk = IncidentDesk(ctx.store, clock) if clock else IncidentDesk(ctx.store)
                ctx.state["incident_desk"] = desk
    return desk


async def _run(ctx: Context, action: str, fn: Any, *args: Any, **kw: Any) -> Any:
    """Check the role, run the action off the event loop, type its refusals."""
    if ctx.principal.role not in WRITE_ROLES:
        return Forbidden.of(action, ctx.principal.role)
    try:
        return await ctx.call(fn, *args, **kw)
    except IncidentActionRefused as exc:
        return IncidentActionRefusedError(
            message=str(exc),
            code="INCIDENT_ACTION_REFUSED",
            incident=strawberry.ID(exc.incident_id),
            reasons=exc.reasons,
        )
    except inv.NotFound as exc:
        return NotFound.of(exc.element_id)
    finally:
        ctx.loaders.forget()


@strawberry.type
class IncidentActionMutation:
    """An engineer's actions on incidents."""

    @strawberry.mutation(description="Confirm an incident's suspect; it then holds.")
    async def confirm_incident(
        self, info: Info, id: strawberry.ID, note: str = ""
    ) -> IncidentActionPayload:
        ctx = info.context
        out = await _run(
            ctx, "confirm incidents", desk_of(ctx).confirm, str(id),
            actor=ctx.principal.actor, note=note[:NOTE_MAX],
        )  # fmt: skip
        return outcome_of(out) if isinstance(out, Incident) else out

    @strawberry.mutation(
        description="Point an incident at another network resource; the explanation is kept "
        "with the engineer's choice named, and new evidence through that resource finds it."
    )
    async def repoint_incident(
        self, info: Info, id: strawberry.ID, resource: strawberry.ID, note: str
    ) -> IncidentActionPayload:
        ctx = info.context
        out = await _run(
            ctx, "re-point incidents", desk_of(ctx).repoint, str(id), str(resource),
            actor=ctx.principal.actor, note=note[:NOTE_MAX],
        )  # fmt: skip
        return outcome_of(out) if isinstance(out, Incident) else out

    @strawberry.mutation(
        description="Move the named tickets out of an incident into a new one on their own "
        "common cause."
    )
    async def split_incident(
        self, info: Info, id: strawberry.ID, tickets: list[strawberry.ID], note: str
    ) -> IncidentSplitPayload:
        ctx = info.context
        if len(tickets) > SPLIT_MAX:
            return IncidentActionRefusedError(
                message=f"at most {SPLIT_MAX} tickets per split",
                code="INCIDENT_ACTION_REFUSED",
                incident=id,
                reasons=[f"at most {SPLIT_MAX} tickets per split, not {len(tickets)}"],
            )
        out = await _run(
            ctx, "split incidents", desk_of(ctx).split, str(id), [str(t) for t in tickets],
            actor=ctx.principal.actor, note=note[:NOTE_MAX],
        )  # fmt: skip
        if isinstance(out, tuple):
            left, new = out
            return IncidentSplitOutcome(incident=outcome_of(left), split_off=outcome_of(new))
        return out
