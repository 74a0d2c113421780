"""Engineers' and admins' writes: upsert elements and edges, change a status, delete.

Every expected failure is a typed member of the payload union (ValidationError with each issue,
NotFound, InvalidTransition, HasDependants, Forbidden). Each write is recorded with the caller's
role and key name as actor. A partner key may write only its own resources.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from pboss.graphql.context import Context, Info
from pboss.graphql.errors import (
    Forbidden,
    HasDependants,
    InvalidTransition,
    NotFound,
    StatusEnum,
    ValidationError,
)
from pboss.graphql.inputs import MAX_BATCH, UpsertInput, build_edges, build_nodes
from pboss.graphql.permissions import Action, can_write
from pboss.graphql.types import Element, StatusChange, to_type
from pboss.inventory import errors as inv
from pboss.inventory.model import Edge
from pboss.inventory.model import Element as ElementModel


@strawberry.type(description="What one write batch changed, and the elements as now stored.")
class UpsertSuccess:
    nodes_added: int
    nodes_updated: int
    nodes_unchanged: int
    edges_added: int
    edges_updated: int
    edges_unchanged: int
    elements: list[Element]


@strawberry.type(description="The element after a status change (change is null if unchanged).")
class StatusChanged:
    element: Element
    change: StatusChange | None


@strawberry.type(description="The ids deleted (with a cascade: the dependants too).")
class Deleted:
    ids: list[strawberry.ID]


UpsertPayload = Annotated[
    UpsertSuccess | ValidationError | Forbidden, strawberry.union("UpsertPayload")
]
SetStatusPayload = Annotated[
    StatusChanged | NotFound | InvalidTransition | Forbidden | ValidationError,
    strawberry.union("SetStatusPayload"),
]
DeletePayload = Annotated[
    Deleted | NotFound | HasDependants | Forbidden, strawberry.union("DeletePayload")
]


def _partner_refusal(
    ctx: Context, nodes: list[ElementModel], edges: list[Edge], existing: dict[str, ElementModel]
) -> Forbidden | None:
    """Why a partner may not write this batch: only its own resources, never taking one over."""
    role = ctx.principal.role
    for n in nodes:
        old = existing.get(n.id)
        if not can_write(ctx.principal, n) or (
            old is not None and not can_write(ctx.principal, old)
        ):
            return Forbidden.of(str(Action.WRITE), role, f"{n.kind} {n.id!r} is not yours")
    mine = {n.id for n in nodes} | {i for i, el in existing.items() if can_write(ctx.principal, el)}
    for e in edges:
        if e.src not in mine:
            return Forbidden.of(str(Action.WRITE), role, f"edge from {e.src!r}, not yours")
    return None


def _changed(ctx: Context) -> None:
    ctx.state["site_index"].invalidate()
    ctx.state["partner_names"].invalidate()


@strawberry.type
class InventoryMutation:
    """Create, update, re-status and delete resources and their relationships."""

    @strawberry.mutation(
        description="Create or update elements and edges, idempotent by id; all or nothing."
    )
    async def upsert_elements(self, info: Info, input: UpsertInput) -> UpsertPayload:
        ctx = info.context
        if not ctx.allows(Action.WRITE):
            return Forbidden.of(str(Action.WRITE), ctx.principal.role)
        if len(input.elements) + len(input.edges) > MAX_BATCH:
            reason = f"at most {MAX_BATCH} elements and edges per call"
            return ValidationError.single("input", reason)
        ids = sorted({e.id for e in input.elements} | {e.src for e in input.edges})
        existing = await ctx.call(ctx.store.get_many, ids)
        nodes, issues = build_nodes(input.elements, existing, input.merge)
        edges, edge_issues = build_edges(input.edges)
        if issues or edge_issues:
            return ValidationError.of(issues + edge_issues)
        if ctx.principal.is_partner:
            refusal = _partner_refusal(ctx, nodes, edges, existing)
            if refusal is not None:
                return refusal
        try:
            result = await ctx.call(
                ctx.store.upsert, nodes, edges, actor=ctx.principal.actor, reason=input.reason
            )
        except inv.ValidationFailed as exc:
            return ValidationError.of_exc(exc)
        _changed(ctx)
        stored = await ctx.call(ctx.store.get_many, [n.id for n in nodes])
        return UpsertSuccess(
            **result.model_dump(),
            elements=[to_type(stored[n.id]) for n in nodes if n.id in stored],
        )

    @strawberry.mutation(
        description="Change one status through the lifecycle table, with a reason."
    )
    async def set_status(
        self, info: Info, id: strawberry.ID, status: StatusEnum, reason: str
    ) -> SetStatusPayload:
        ctx = info.context
        if not ctx.allows(Action.SET_STATUS):
            return Forbidden.of(str(Action.SET_STATUS), ctx.principal.role)
        if not reason.strip():
            return ValidationError.single("reason", "a status change needs a reason", "reason")
        el = await ctx.element(id)
        if el is None:
            return NotFound.of(id)
        if ctx.principal.is_partner and not can_write(ctx.principal, el):
            return Forbidden.of(str(Action.SET_STATUS), ctx.principal.role, f"{id!r} is not yours")
        try:
            change = await ctx.call(
                ctx.store.set_status,
                id,
                status.value,
                actor=ctx.principal.actor,
                reason=reason.strip()[:500],
            )
        except inv.InvalidTransition as exc:
            return InvalidTransition.of(exc)
        except inv.NotFound as exc:
            return NotFound.of(exc.element_id, exc.kind)
        fresh = await ctx.call(ctx.store.get, id)
        if fresh is None:
            return NotFound.of(id)
        return StatusChanged(
            element=to_type(fresh),
            change=StatusChange(**change.model_dump()) if change else None,
        )

    @strawberry.mutation(
        description="Delete elements; HasDependants unless cascade (admins only) is asked for."
    )
    async def delete_elements(
        self, info: Info, ids: list[strawberry.ID], cascade: bool = False
    ) -> DeletePayload:
        ctx = info.context
        action = Action.CASCADE_DELETE if cascade else Action.DELETE
        if not ctx.allows(action):
            return Forbidden.of(str(action), ctx.principal.role)
        wanted = list(dict.fromkeys(ids))[:MAX_BATCH]
        found = await ctx.loaders.elements.load_many(wanted)
        for i, el in zip(wanted, found, strict=True):
            if not ctx.sees(el):
                return NotFound.of(i)
        try:
            deleted = await ctx.call(
                ctx.store.delete, wanted, cascade=cascade, actor=ctx.principal.actor
            )
        except inv.HasDependants as exc:
            return HasDependants.of(exc)
        except inv.NotFound as exc:
            return NotFound.of(exc.element_id, exc.kind)
        _changed(ctx)
        return Deleted(ids=deleted)
