"""`build_riders` builds, for every role, what the types' constructors and `can_see` per element
build (it asks visibility once per page when the role sees all or nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from pboss.graphql.connections import CursorSeal
from pboss.graphql.inventory.types import to_type
from pboss.graphql.network.types import _HEALTH, Rider, RiderEdge, build_riders, rider_cursors
from pboss.graphql.permissions import (
    ANONYMOUS,
    CAN_SEE_READS,
    Principal,
    can_see,
    parse_role,
    sees_all,
)
from pboss.inventory.demo import demo_network
from pboss.inventory.model import Element
from pboss.inventory.store import GraphStore

ROLES = [
    parse_role(spec, "t") for spec in ("crm", "engineer", "admin", "partner:P-TT", "partner:P-OC")
] + [ANONYMOUS]


class _Ctx:
    """What build_riders reads of a request context."""

    def __init__(self, principal: Principal):
        self.principal = principal
        self.state: dict[str, Any] = {}
        self.cursor_seal = CursorSeal("test")

    def sees(self, el: Element | None) -> bool:
        return el is not None and can_see(self.principal, el)


def test_sees_all_is_what_can_see_answers_for_every_element() -> None:
    nodes, _ = demo_network()
    for principal in ROLES:
        answers = {can_see(principal, el) for el in nodes}
        every = sees_all(principal)
        assert every is None if principal.is_partner else answers == {every}, principal


class _Recording:
    """An element recording which of its properties are read."""

    def __init__(self, el: Element):
        self._el, self.read = el, set[str]()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._el, name)


def test_can_see_reads_only_what_it_declares() -> None:
    """Projected riders fetch `CAN_SEE_READS` for a partner: nothing else may decide a view."""
    nodes, _ = demo_network()
    read: set[str] = set()
    for principal in ROLES:
        for el in nodes:
            recording: Any = _Recording(el)
            assert can_see(principal, recording) == can_see(principal, el)
            read |= recording.read
    assert read == CAN_SEE_READS  # each of them decides some view of the demo network


@pytest.mark.parametrize("principal", ROLES, ids=[p.role + str(p.partner_id) for p in ROLES])
def test_build_riders_matches_the_constructors(demo_store: GraphStore, principal: Any) -> None:
    ctx: Any = _Ctx(principal)
    svc = demo_store.get("SVC-H1-BB")  # one service a partner owns, so P-OC sees one rider's
    assert svc is not None
    demo_store.upsert([svc.model_copy(update={"owner": "P-OC"})], actor="test", reason="lent")
    riders = demo_store.riders(["OLT-1"], first=50)
    assert riders.items
    got = build_riders(ctx, riders)
    asked = set(riders.resource_ids)
    expected = []
    for x in riders.items:
        node = Rider(
            service=to_type(x.service) if ctx.sees(x.service) else None,  # type: ignore[arg-type]
            customer=to_type(x.customer) if x.customer and ctx.sees(x.customer) else None,  # type: ignore[arg-type]
            product=getattr(x.service, "product", None),
            health=_HEALTH[x.health],
            impaired_by=[i for i in x.impaired_by if i in asked]
            if principal.is_partner
            else list(x.impaired_by),
        )
        expected.append(
            RiderEdge(cursor=rider_cursors(ctx, riders.resource_ids)(x.service.id), node=node)
        )
    assert [e.node for e in got.edges] == [e.node for e in expected]
    shown = [e.node.service.id for e in got.edges if e.node.service is not None]
    if principal.partner_id == "P-OC":
        assert shown == ["SVC-H1-BB"]
    elif principal.is_partner or principal.role == "anonymous":
        assert shown == []
    else:
        assert len(shown) == len(riders.items)
    if not principal.is_partner:  # partners' cursors are sealed with a fresh nonce each time
        assert [e.cursor for e in got.edges] == [e.cursor for e in expected]
    assert all(type(e) is RiderEdge and type(e.node) is Rider for e in got.edges)
