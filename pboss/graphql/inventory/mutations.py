"""Engineers' and admins' writes: upsert elements and edges, change a status, delete.

Every expected failure is a typed member of the payload union (ValidationError with each issue,
NotFound, InvalidTransition, HasDependants, Forbidden, ImpactNotAcknowledged when a write would
take live services down unacknowledged). Each write is recorded with the caller's
role and key name as actor.

A partner key may write only its own resources, and learns nothing from a refusal about what it
cannot see: an id it refers to (a site, an edge's end) that is hidden from it is reported exactly
as a missing one, before the store validates anything, and ids of hidden elements in the store's
own validation messages are blanked. An element it sends whose id a hidden element has is checked
as a new one first (so a batch that would be refused anyway gets the same answer as with a free
id), and only then refused as not its own, as an id a site it can see has is: all it can learn is
that the id is taken, never by what.

Orders, reservations and construction orders (and their HOLDS and FOR_ORDER edges) belong to
provisioning, which holds resources under its own locks: these mutations refuse them for every
role, so nobody forges or deletes a hold behind the order mutations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
from pboss.graphql.inventory.impact import ImpactNotAcknowledged, acknowledgement
from pboss.graphql.inventory.inputs import MAX_BATCH, UpsertInput, build_edges, build_nodes
from pboss.graphql.inventory.types import Element, StatusChange, to_type
from pboss.graphql.permissions import Action, can_write
from pboss.inventory import errors as inv
from pboss.inventory.impact import ImpactNotAcknowledged as ImpactRefused
from pboss.inventory.model import KINDS, Category, Edge
from pboss.inventory.model import Element as ElementModel

#: Edge types only provisioning writes: a reservation's holds and what belongs to an order.
PROVISIONING_EDGES = frozenset({"HOLDS", "FOR_ORDER"})
ORDER_MUTATIONS = "submitOrder, reserve, confirm, release, cancelOrder, recordMilestone"
#: How a hidden element is named in the store's validation messages shown to a partner.
HIDDEN = "an element you cannot see"
_QUOTED = re.compile(r"'([^']+)'")


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
    UpsertSuccess | ValidationError | Forbidden | ImpactNotAcknowledged,
    strawberry.union("UpsertPayload"),
]
SetStatusPayload = Annotated[
    StatusChanged
    | NotFound
    | InvalidTransition
    | Forbidden
    | ValidationError
    | ImpactNotAcknowledged,
    strawberry.union("SetStatusPayload"),
]
DeletePayload = Annotated[
    Deleted | NotFound | HasDependants | Forbidden | ImpactNotAcknowledged | ValidationError,
    strawberry.union("DeletePayload"),
]
ACK_RIDERS = (
    "the riders (services) this write takes down, as an ImpactNotAcknowledged answer or the "
    "riders query counted them; refused when they changed since"
)
ACCEPT_IMPACT = "go ahead whatever services this write takes down"


def is_provisioning_kind(kind: str) -> bool:
    """True for the kinds only provisioning writes (Order, Reservation, WorkOrder)."""
    cls = KINDS.get(kind)
    return cls is not None and cls.category == Category.PROVISIONING


def provisioning_refusal(ctx: Context, action: Action, what: str) -> Forbidden:
    """The refusal of a generic write to what provisioning owns, naming the mutations to use."""
    detail = f"{what} belongs to provisioning; use the order mutations ({ORDER_MUTATIONS})"
    return Forbidden.of(str(action), ctx.principal.role, detail)


def _refused_input(ctx: Context, input: UpsertInput) -> Forbidden | None:
    """Provisioning kinds and edge types named by the input itself (nothing read yet)."""
    for el in input.elements:
        if is_provisioning_kind(el.kind):
            return provisioning_refusal(ctx, Action.WRITE, f"{el.kind} {el.id!r}")
    for e in input.edges:
        if e.type.value in PROVISIONING_EDGES:
            label = f"{e.type.value}({e.src!r} -> {e.dst!r})"
            return provisioning_refusal(ctx, Action.WRITE, f"edge {label}")
    return None


def _refused_stored(
    ctx: Context, input: UpsertInput, visible: dict[str, ElementModel]
) -> Forbidden | None:
    """Stored provisioning records the input would rewrite or add edges from."""
    for el in input.elements:
        old = visible.get(el.id)
        if old is not None and is_provisioning_kind(old.kind):
            return provisioning_refusal(ctx, Action.WRITE, f"{old.kind} {el.id!r}")
    for e in input.edges:
        src = visible.get(e.src)
        if src is not None and is_provisioning_kind(src.kind):
            label = f"{e.type.value}({e.src!r} -> {e.dst!r})"
            return provisioning_refusal(ctx, Action.WRITE, f"{src.kind} {e.src!r} (edge {label})")
    return None


def _partner_refusal(
    ctx: Context, nodes: list[ElementModel], edges: list[Edge], existing: dict[str, ElementModel]
) -> Forbidden | None:
    """Why a partner may not write this batch: only its own resources, never taking one over.

    `existing` holds the stored elements it may see (one it may not is checked later, by
    `_taken_by_hidden`). The refusal names what the partner sent, never the stored element.
    """
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


def _taken_by_hidden(
    ctx: Context, nodes: list[ElementModel], existing: dict[str, ElementModel]
) -> Forbidden | None:
    """An element sent with an id a hidden element has: refused as not the partner's, worded as
    for an id a visible site has, after every check a free id would meet before the store."""
    for n in nodes:
        old = existing.get(n.id)
        if old is not None and not ctx.sees(old):
            role = ctx.principal.role
            return Forbidden.of(str(Action.WRITE), role, f"{n.kind} {n.id!r} is not yours")
    return None


async def _unseen_references(
    ctx: Context, nodes: list[ElementModel], edges: list[Edge]
) -> list[inv.Issue]:
    """A partner's references (sites, edges' ends) to ids it cannot see, worded as the store
    words missing ones: hidden and missing ids take this same path, so the answer is the same."""
    batch = {n.id for n in nodes}
    wanted = {n.site for n in nodes if n.site} | {e.src for e in edges} | {e.dst for e in edges}
    wanted -= batch
    found = await ctx.call(ctx.store.get_many, sorted(wanted)) if wanted else {}
    unseen = {i for i in wanted if not ctx.sees(found.get(i))}
    issues = []
    for i, n in enumerate(nodes):
        if n.site in unseen:
            reason = f"unknown site {n.site!r} (no such site)"
            issues.append(inv.Issue(f"{n.kind} {n.id!r}", reason, "site", i))
    for i, e in enumerate(edges):
        ends = [f"{end} {eid!r}" for end, eid in (("src", e.src), ("dst", e.dst)) if eid in unseen]
        if ends:
            reason = f"edge to a missing node: {', '.join(ends)}"
            issues.append(inv.Issue(f"edge {e.label()}", reason, None, i))
    return issues


async def blanked(ctx: Context, issues: Iterable[inv.Issue], known: set[str]) -> list[inv.Issue]:
    """The store's issues with the ids of elements hidden from this partner blanked out (e.g. the
    operator's circuit already holding a VC-12 slot of the partner's own link)."""
    issues = list(issues)
    quoted = {q for i in issues for q in _QUOTED.findall(f"{i.item}\n{i.reason}")} - known
    found = await ctx.call(ctx.store.get_many, sorted(quoted)) if quoted else {}
    hidden = {q for q, el in found.items() if not ctx.sees(el)}
    if not hidden:
        return issues

    def blank(text: str) -> str:
        return _QUOTED.sub(lambda m: HIDDEN if m.group(1) in hidden else m.group(0), text)

    return [inv.Issue(blank(i.item), blank(i.reason), i.field, i.index) for i in issues]


def forget_cached_views(ctx: Context) -> None:
    """After a write: drop the app's cached site index and partner names, and this request's
    loaded elements, so later reads see the change."""
    ctx.state["site_index"].invalidate()
    ctx.state["partner_names"].invalidate()
    ctx.loaders.forget()


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
        refusal = _refused_input(ctx, input)
        if refusal is not None:
            return refusal
        ack = acknowledgement(input.acknowledged_riders, input.accept_impact)
        if isinstance(ack, ValidationError):
            return ack
        ids = sorted({e.id for e in input.elements} | {e.src for e in input.edges})
        existing = await ctx.call(ctx.store.get_many, ids)
        # what the caller may see of it: a partner merges onto, and is told about, nothing else
        visible = {i: el for i, el in existing.items() if ctx.sees(el)}
        refusal = _refused_stored(ctx, input, visible)
        if refusal is not None:
            return refusal
        nodes, issues = build_nodes(input.elements, visible, input.merge)
        edges, edge_issues = build_edges(input.edges)
        if issues or edge_issues:
            return ValidationError.of(issues + edge_issues)
        partner = ctx.principal.is_partner
        if partner:  # a hidden element is treated as missing until nothing else refuses
            refusal = _partner_refusal(ctx, nodes, edges, visible)
            if refusal is not None:
                return refusal
            unseen = await _unseen_references(ctx, nodes, edges)
            if unseen:
                return ValidationError.of(unseen)
            refusal = _taken_by_hidden(ctx, nodes, existing)
            if refusal is not None:
                return refusal
        try:
            result = await ctx.call(
                ctx.store.upsert,
                nodes,
                edges,
                actor=ctx.principal.actor,
                reason=input.reason,
                ack=ack,
            )
        except ImpactRefused as exc:
            return ImpactNotAcknowledged.of(ctx, exc)
        except inv.ValidationFailed as exc:
            if not partner:
                return ValidationError.of_exc(exc)
            known = {n.id for n in nodes} | {i for e in edges for i in (e.src, e.dst)}
            return ValidationError.of(await blanked(ctx, exc.issues, known))
        forget_cached_views(ctx)
        stored = await ctx.call(ctx.store.get_many, [n.id for n in nodes])
        return UpsertSuccess(
            **result.model_dump(),
            elements=[to_type(stored[n.id]) for n in nodes if n.id in stored],
        )

    @strawberry.mutation(
        description="Change one status through the lifecycle table, with a reason. RETIRED or "
        "MAINTENANCE of what live services ride needs their acknowledgement "
        "(ImpactNotAcknowledged lists them)."
    )
    async def set_status(
        self,
        info: Info,
        id: strawberry.ID,
        status: StatusEnum,
        reason: str,
        acknowledged_riders: Annotated[
            int | None, strawberry.argument(description=ACK_RIDERS)
        ] = None,
        accept_impact: Annotated[bool, strawberry.argument(description=ACCEPT_IMPACT)] = False,
    ) -> SetStatusPayload:
        ctx = info.context
        if not ctx.allows(Action.SET_STATUS):
            return Forbidden.of(str(Action.SET_STATUS), ctx.principal.role)
        if not reason.strip():
            return ValidationError.single("reason", "a status change needs a reason", "reason")
        ack = acknowledgement(acknowledged_riders, accept_impact)
        if isinstance(ack, ValidationError):
            return ack
        el = await ctx.element(id)
        if el is None:
            return NotFound.of(id)
        if ctx.principal.is_partner and not can_write(ctx.principal, el):
            return Forbidden.of(str(Action.SET_STATUS), ctx.principal.role, f"{id!r} is not yours")
        if is_provisioning_kind(el.kind):
            return provisioning_refusal(ctx, Action.SET_STATUS, f"{el.kind} {id!r}")
        try:
            change = await ctx.call(
                ctx.store.set_status,
                id,
                status.value,
                actor=ctx.principal.actor,
                reason=reason.strip()[:500],
                ack=ack,
            )
        except ImpactRefused as exc:
            return ImpactNotAcknowledged.of(ctx, exc)
        except inv.InvalidTransition as exc:
            return InvalidTransition.of(exc)
        except inv.NotFound as exc:
            return NotFound.of(exc.element_id, exc.kind)
        ctx.loaders.forget()
        fresh = await ctx.call(ctx.store.get, id)
        if fresh is None:
            return NotFound.of(id)
        return StatusChanged(
            element=to_type(fresh),
            change=StatusChange.of(change) if change else None,
        )

    @strawberry.mutation(
        description="Delete elements; HasDependants unless cascade (admins only) is asked for. "
        "Deleting what live services ride needs their acknowledgement (ImpactNotAcknowledged)."
    )
    async def delete_elements(
        self,
        info: Info,
        ids: list[strawberry.ID],
        cascade: bool = False,
        acknowledged_riders: Annotated[
            int | None, strawberry.argument(description=ACK_RIDERS)
        ] = None,
        accept_impact: Annotated[bool, strawberry.argument(description=ACCEPT_IMPACT)] = False,
    ) -> DeletePayload:
        ctx = info.context
        action = Action.CASCADE_DELETE if cascade else Action.DELETE
        if not ctx.allows(action):
            return Forbidden.of(str(action), ctx.principal.role)
        ack = acknowledgement(acknowledged_riders, accept_impact)
        if isinstance(ack, ValidationError):
            return ack
        wanted = list(dict.fromkeys(ids))[:MAX_BATCH]
        found = await ctx.loaders.elements.load_many(wanted)
        for i, el in zip(wanted, found, strict=True):
            if not ctx.sees(el):
                return NotFound.of(i)
        for i, el in zip(wanted, found, strict=True):
            if el is not None and is_provisioning_kind(el.kind):
                return provisioning_refusal(ctx, action, f"{el.kind} {i!r}")
        try:
            deleted = await ctx.call(
                ctx.store.delete, wanted, cascade=cascade, actor=ctx.principal.actor, ack=ack
            )
        except ImpactRefused as exc:
            return ImpactNotAcknowledged.of(ctx, exc)
        except inv.HasDependants as exc:
            return HasDependants.of(exc)
        except inv.NotFound as exc:
            return NotFound.of(exc.element_id, exc.kind)
        forget_cached_views(ctx)
        return Deleted(ids=deleted)
