"""Describe moving circuits off a link as steps over edges: off a trunk section before
maintenance, or off a partner link onto self-built sections once they exist.

Each circuit keeps its end ports; its new route between its end NEs is searched exactly as
leased-line provisioning searches one (`provisioning.paths.routes_between` over the same
`TransportGraph`, the lightest route with enough free VC-12 slots on every link), without the
link it leaves (and without any partner link, for a partner move). Sections the circuit keeps
keep their slots (a new position is an `update`); new sections get fresh slots, allocated across
the plan's circuits so two never share one, and held by the plan until execution.
"""

from __future__ import annotations

from collections.abc import Sequence

from pboss.cutover.errors import PlanInvalid
from pboss.cutover.model import MoveKind, Step
from pboss.cutover.plans import MAX_RIDERS, PLAN, Draft
from pboss.inventory.model import Edge
from pboss.inventory.results import TransportLink
from pboss.inventory.store import GraphStore
from pboss.provisioning.paths import TransportGraph, routes_between

#: Routes searched per circuit (the lightest that still has slots after the plan's earlier
#: circuits took theirs wins).
ROUTES_PER_CIRCUIT = 4


def reroute_steps(
    store: GraphStore,
    link: str,
    circuits: Sequence[str] | None = None,
    *,
    self_built_only: bool = False,
) -> Draft:
    """Steps moving `circuits` (all that ride `link` when None) off `link` onto alternative
    routes with fresh slots. With `self_built_only` (a partner link's circuits moving to our own
    sections) no partner link is used. PlanInvalid lists every reason it does not fit."""
    el = store.get(link)
    if el is None or el.kind not in ("TrunkSection", "PartnerLink"):
        raise PlanInvalid(f"{link!r} is not a link", [f"no TrunkSection or PartnerLink {link!r}"])
    move = MoveKind.PARTNER if el.is_partner else MoveKind.REROUTE
    riding = {e.src for e, _ in store.neighbours(link, "in", ["ROUTED_OVER"])}
    chosen = sorted(riding) if circuits is None else list(dict.fromkeys(circuits))
    reasons = [f"{c} is not routed over {link}" for c in chosen if c not in riding]
    if not chosen:
        reasons.append(f"no circuit rides {link}")
    if len(chosen) > MAX_RIDERS:
        reasons.append(f"{len(chosen)} circuits; one plan moves at most {MAX_RIDERS}")
    if reasons:
        raise PlanInvalid(f"cannot move circuits off {link}", reasons)
    links = [
        tl
        for tl in store.transport_links()
        if tl.link.id != link and not (self_built_only and tl.link.is_partner)
    ]
    ends = store.neighbours_many(chosen, "out", ["A_END", "Z_END", "ROUTED_OVER"])
    ports = sorted({o.id for pairs in ends.values() for e, o in pairs if e.type != "ROUTED_OVER"})
    ne_of = {
        p: next((o.id for _, o in pairs), None)
        for p, pairs in store.neighbours_many(ports, "out", ["PART_OF"]).items()
    }
    site_of = {o.id: o.site for pairs in ends.values() for _, o in pairs}
    circuit_el = store.get_many(chosen)
    claimed: dict[str, set[int]] = {}
    steps: list[Step] = []
    left: dict[str, str] = {}  # partner links the circuits ride -> owner
    for cid in chosen:
        pairs = ends.get(cid, [])
        a = next((ne_of.get(o.id) for e, o in pairs if e.type == "A_END"), None)
        z = next((ne_of.get(o.id) for e, o in pairs if e.type == "Z_END"), None)
        old = sorted((e for e, _ in pairs if e.type == "ROUTED_OVER"), key=lambda e: e.seq or 0)
        for e, o in pairs:
            if e.type == "ROUTED_OVER" and o.is_partner:
                left[o.id] = o.owner
        n = int(getattr(circuit_el.get(cid), "bandwidth_2m", 1))
        if a is None or z is None:
            reasons.append(f"{cid} has no A-end or Z-end NE")
            continue
        route = _route(links, a, z, n, claimed, {e.dst: e for e in old})
        if route is None:
            reasons.append(f"{cid}: no route from {a} to {z} without {link} with {n} free slots")
            continue
        steps += _circuit_steps(cid, old, route, claimed)
    if reasons:
        raise PlanInvalid(f"cannot move circuits off {link}", reasons)
    holds = [
        Edge(type="HOLDS", src=PLAN, dst=lid, slots=sorted(slots), attrs={"role": "section"})
        for lid, slots in sorted(claimed.items())
    ]
    on_route = store.get_many(sorted({s.dst for s in steps}))
    owners = left | {i: x.owner for i, x in on_route.items() if x.is_partner}
    return Draft(
        move=move,
        source=link,
        target=None,
        steps=steps,
        holds=holds,
        sites=sorted({s for s in site_of.values() if s}),
        partners=sorted(set(owners.values())),
        partners_segments=sorted(owners),
    )


def _route(
    links: list[TransportLink],
    a: str,
    z: str,
    n: int,
    claimed: dict[str, set[int]],
    kept: dict[str, Edge],
) -> list[tuple[TransportLink, list[int] | None]] | None:
    """The lightest route for one circuit whose new links still have n slots once the plan's
    earlier circuits took theirs: each link with the fresh slots it takes (None: kept)."""
    shown = [
        tl.model_copy(update={"used_slots": [*tl.used_slots, *claimed.get(tl.link.id, ())]})
        if tl.link.id not in kept
        else tl
        for tl in links
    ]
    for route in routes_between(TransportGraph(shown), a, z, n, k=ROUTES_PER_CIRCUIT):
        picked: list[tuple[TransportLink, list[int] | None]] = []
        for tl in route:
            if tl.link.id in kept:
                picked.append((tl, None))
                continue
            free = tl.free_slots
            if len(free) < n:
                break
            picked.append((tl, free[:n]))
        else:
            return picked
    return None


def _circuit_steps(
    cid: str,
    old: list[Edge],
    route: list[tuple[TransportLink, list[int] | None]],
    claimed: dict[str, set[int]],
) -> list[Step]:
    """Remove the sections left, re-number the ones kept, add the new ones with their slots."""
    new_ids = {tl.link.id for tl, _ in route}
    steps = [
        Step(
            op="remove", rider=cid, type="ROUTED_OVER", src=cid, dst=e.dst, seq=e.seq, slots=e.slots
        )
        for e in old
        if e.dst not in new_ids
    ]
    kept = {e.dst: e for e in old}
    for seq, (tl, slots) in enumerate(route, start=1):
        lid = tl.link.id
        if slots is None:
            if kept[lid].seq != seq:
                steps.append(
                    Step(op="update", rider=cid, type="ROUTED_OVER", src=cid, dst=lid, seq=seq)
                )
            continue
        claimed.setdefault(lid, set()).update(slots)
        steps.append(
            Step(op="add", rider=cid, type="ROUTED_OVER", src=cid, dst=lid, seq=seq, slots=slots)
        )
    return steps
