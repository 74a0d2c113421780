"""Edge changes over GraphQL: `deleteEdges` and `repointEdges` (`GraphStore.change_edges`).

A household re-homed to another splitter output, a circuit's end moved to another port, a route
moved to another section: each is a re-point of an edge, one atomic change (the source is never
without its upstream), validated by the same rules as `upsertElements` and recorded at every end.
Expected failures are members of `EdgeChangePayload`: NotFound (an edge or a node, or one hidden
from a partner), ValidationError (the model's rules, as the graph would be after the change),
PortInUse (an output or NE port someone else uses or holds, named), ImpactNotAcknowledged (the
riders of the sources of failure edges removed or moved: acknowledge their count), Forbidden.

Engineers and admins change any edge; a partner only edges whose every end (old and new) is its
own resource, and a hidden end answers as a missing one. Provisioning's edges (holds, an order's)
are changed only by the order mutations.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from pboss.graphql.context import Context, Info
from pboss.graphql.errors import EdgeTypeEnum, Error, Forbidden, NotFound, ValidationError
from pboss.graphql.errors import Issue as IssueType
from pboss.graphql.inventory.impact import ImpactNotAcknowledged, acknowledgement
from pboss.graphql.inventory.inputs import MAX_BATCH
from pboss.graphql.inventory.mutations import (
    ACCEPT_IMPACT,
    ACK_RIDERS,
    PROVISIONING_EDGES,
    blanked,
    forget_cached_views,
    is_provisioning_kind,
    provisioning_refusal,
)
from pboss.graphql.inventory.types import StatusChange
from pboss.graphql.permissions import Action, can_write
from pboss.inventory import errors as inv
from pboss.inventory import model as m
from pboss.inventory.edges import EdgeChanges, EdgeMove, EdgeNotFound, label
from pboss.inventory.impact import ImpactNotAcknowledged as ImpactRefused
from pboss.inventory.undo import EdgeKey


@strawberry.input(description="An edge by its identity: type, source (dependent) and target.")
class EdgeKeyInput:
    type: EdgeTypeEnum
    src: strawberry.ID
    dst: strawberry.ID


@strawberry.input(
    description="Re-point the edge (type, src, dst) to newDst and/or newSrc, keeping its "
    "properties (or with a new seq / slots, e.g. a route moved to another section)."
)
class EdgeMoveInput:
    type: EdgeTypeEnum
    src: strawberry.ID
    dst: strawberry.ID
    new_src: strawberry.ID | None = strawberry.field(
        default=None, description="the new source (null: it stays)"
    )
    new_dst: strawberry.ID | None = strawberry.field(
        default=None, description="the new target (null: it stays)"
    )
    seq: int | None = strawberry.field(default=None, description="a ROUTED_OVER's new position")
    slots: list[int] | None = strawberry.field(
        default=None, description="a ROUTED_OVER's VC-12 slots on its new section"
    )

    def move(self) -> EdgeMove:
        """The store's move."""
        return EdgeMove(
            self.type.value,
            self.src,
            self.dst,
            new_src=self.new_src or None,
            new_dst=self.new_dst or None,
            seq=self.seq,
            slots=tuple(self.slots) if self.slots is not None else None,
        )


@strawberry.type(description="An edge with its properties.")
class EdgeRecord:
    type: EdgeTypeEnum
    src: strawberry.ID
    dst: strawberry.ID
    seq: int | None
    slots: list[int] | None
    attrs: JSON

    @classmethod
    def of(cls, e: m.Edge) -> EdgeRecord:
        """From the store's edge."""
        return cls(
            type=m.EdgeType(e.type),
            src=e.src,
            dst=e.dst,
            seq=e.seq,
            slots=e.slots,
            attrs=dict(e.attrs),
        )


@strawberry.type(description="One re-pointed edge, as it was and as it is.")
class EdgeMoved:
    before: EdgeRecord
    after: EdgeRecord


@strawberry.type(
    description="What an edge change did: the edges deleted, the edges re-pointed (before and "
    "after: re-pointing each `after` back to its `before` restores the graph), and the history "
    "entered at every end."
)
class EdgesChanged:
    removed: list[EdgeRecord]
    moved: list[EdgeMoved]
    history: list[StatusChange]

    @classmethod
    def of(cls, result: EdgeChanges) -> EdgesChanged:
        """From the store's answer."""
        return cls(
            removed=[EdgeRecord.of(e) for e in result.removed],
            moved=[
                EdgeMoved(before=EdgeRecord.of(mv.before), after=EdgeRecord.of(mv.after))
                for mv in result.moved
            ],
            history=[StatusChange.of(h) for h in result.history],
        )


@strawberry.type(
    description="An exclusive port (a splitter output, an NE port) already has a user or a "
    "hold; each issue names the port and who uses or holds it. Nothing was written."
)
class PortInUse(Error):
    issues: list[IssueType]
    ports: list[strawberry.ID]

    @classmethod
    def of(cls, exc: inv.PortInUse, issues: list[inv.Issue]) -> PortInUse:
        """From the store's refusal (with `issues` as the caller may see them)."""
        ports = sorted({i.item.split(" ", 1)[-1].strip("'") for i in exc.issues})
        return cls(
            message=str(inv.ValidationFailed(issues)),
            code="PORT_IN_USE",
            issues=[
                IssueType(item=i.item, field=i.field, reason=i.reason, index=i.index)
                for i in issues
            ],
            ports=ports,
        )


EdgeChangePayload = Annotated[
    EdgesChanged | NotFound | ValidationError | PortInUse | ImpactNotAcknowledged | Forbidden,
    strawberry.union("EdgeChangePayload"),
]


def _edge_not_found(exc: EdgeNotFound) -> NotFound:
    return NotFound(message=str(exc), code="NOT_FOUND", id=label(exc.key), kind="edge")


async def _refusal(
    ctx: Context, action: Action, keys: list[EdgeKey], targets: list[EdgeKey]
) -> NotFound | Forbidden | None:
    """Why this caller may not change these edges: provisioning's edges for everyone; for a
    partner, an end (old or new) it cannot see (answered as missing) or that is not its own."""
    for t, src, dst in keys:
        if t in PROVISIONING_EDGES:
            return provisioning_refusal(ctx, action, f"edge {label((t, src, dst))}")
    ids = sorted({i for k in keys + targets for i in k[1:]})
    found = dict(zip(ids, await ctx.loaders.elements.load_many(ids), strict=True))
    for t, src, dst in keys:
        el = found.get(src)
        if el is not None and is_provisioning_kind(el.kind):
            return provisioning_refusal(ctx, action, f"edge {label((t, src, dst))}")
    if ctx.principal.is_partner:
        for i in ids:
            if not ctx.sees(found.get(i)):
                return NotFound.of(i)
        for i in ids:
            el = found[i]
            if el is not None and not can_write(ctx.principal, el):
                detail = f"{el.kind} {i!r} is not yours"
                return Forbidden.of(str(action), ctx.principal.role, detail)
    return None


async def _change(
    ctx: Context,
    removals: list[EdgeKey],
    moves: list[EdgeMove],
    reason: str,
    acknowledged_riders: int | None,
    accept_impact: bool,
) -> EdgeChangePayload:
    """The one path of both mutations: check the caller, then one store call."""
    action = Action.WRITE
    if not ctx.allows(action):
        return Forbidden.of(str(action), ctx.principal.role)
    if not reason.strip():
        return ValidationError.single("reason", "an edge change needs a reason", "reason")
    if len(removals) + len(moves) > MAX_BATCH:
        return ValidationError.single("edges", f"at most {MAX_BATCH} edges per call")
    ack = acknowledgement(acknowledged_riders, accept_impact)
    if isinstance(ack, ValidationError):
        return ack
    keys = removals + [mv.key for mv in moves]
    refusal = await _refusal(ctx, action, keys, [mv.target for mv in moves])
    if refusal is not None:
        return refusal
    try:
        result = await ctx.call(
            ctx.store.change_edges,
            removals,
            moves,
            actor=ctx.principal.actor,
            reason=reason.strip()[:500],
            ack=ack,
        )
    except ImpactRefused as exc:
        return ImpactNotAcknowledged.of(ctx, exc)
    except EdgeNotFound as exc:
        return _edge_not_found(exc)
    except inv.NotFound as exc:
        return NotFound.of(exc.element_id, exc.kind)
    except inv.PortInUse as exc:
        known = {i for k in keys for i in k[1:]}
        shown = await blanked(ctx, exc.issues, known) if ctx.principal.is_partner else exc.issues
        return PortInUse.of(exc, shown)
    except inv.ValidationFailed as exc:
        if not ctx.principal.is_partner:
            return ValidationError.of_exc(exc)
        known = {i for k in keys for i in k[1:]}
        return ValidationError.of(await blanked(ctx, exc.issues, known))
    forget_cached_views(ctx)
    return EdgesChanged.of(result)


@strawberry.type
class EdgeMutation:
    """Delete and re-point edges (issue 18's edge changes; cutover builds on them)."""

    @strawberry.mutation(
        description="Delete edges, all or none. Deleting a failure edge (FED_BY, PART_OF, "
        "ROUTED_OVER, ...) that live services depend on needs their acknowledgement."
    )
    async def delete_edges(
        self,
        info: Info,
        edges: list[EdgeKeyInput],
        reason: str,
        acknowledged_riders: Annotated[
            int | None, strawberry.argument(description=ACK_RIDERS)
        ] = None,
        accept_impact: Annotated[bool, strawberry.argument(description=ACCEPT_IMPACT)] = False,
    ) -> EdgeChangePayload:
        removals = [(e.type.value, str(e.src), str(e.dst)) for e in edges]
        return await _change(info.context, removals, [], reason, acknowledged_riders, accept_impact)

    @strawberry.mutation(
        description="Re-point edges, all or none, each as one atomic change (a single upstream "
        "such as an ONT's FED_BY is never missing). The rules are checked as the graph is after "
        "the whole change, so two ONTs may swap outputs in one call. The riders of the moved "
        "edges' sources need acknowledging."
    )
    async def repoint_edges(
        self,
        info: Info,
        moves: list[EdgeMoveInput],
        reason: str,
        acknowledged_riders: Annotated[
            int | None, strawberry.argument(description=ACK_RIDERS)
        ] = None,
        accept_impact: Annotated[bool, strawberry.argument(description=ACCEPT_IMPACT)] = False,
    ) -> EdgeChangePayload:
        return await _change(
            info.context,
            [],
            [mv.move() for mv in moves],
            reason,
            acknowledged_riders,
            accept_impact,
        )
